/** The tus-upload command line: commander's commands and flags, each run by its command module. */
import { Command, Option } from 'commander';
import { collect, DEFAULT_STORE } from './flags.js';
import { type AbortFlags, abortCommand, type ListFlags, listCommand } from './store-commands.js';
import { type UploadFlags, uploadCommand } from './upload-command.js';

const storeOpt = () =>
  new Option('--store <path>', 'resume store (JSON file)').default(DEFAULT_STORE);
const headerOpt = () =>
  new Option('-H, --header <header>', 'extra request header "Name: value" (repeatable)')
    .default([])
    .argParser(collect);

/** Parses `argv` and runs the command; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('tus-upload')
    .description('Resumable uploads with the tus 1.0 protocol')
    .showHelpAfterError()
    .exitOverride();

  uploadFlags(program.command('upload <file>', { isDefault: true })).action(
    async (file: string, flags: UploadFlags) => {
      code = await uploadCommand(file, flags);
    },
  );

  program
    .command('list')
    .description('show unfinished uploads from the store (with their server offset)')
    .addOption(storeOpt())
    .addOption(headerOpt())
    .option('--offline', 'do not ask the server for offsets')
    .action(async (flags: ListFlags) => {
      code = await listCommand(flags);
    });

  program
    .command('abort <url>')
    .description('terminate an upload (DELETE) and remove it from the store')
    .addOption(storeOpt())
    .addOption(headerOpt())
    .action(async (url: string, flags: AbortFlags) => {
      code = await abortCommand(url, flags);
    });

  await program.parseAsync(argv);
  return code;
}

function uploadFlags(cmd: Command): Command {
  return cmd
    .description('upload a file (rerun the same command to resume)')
    .requiredOption('-e, --endpoint <url>', 'tus creation URL')
    .option('-c, --chunk-size <size>', 'bytes per PATCH (e.g. 8M) or "auto"', 'auto')
    .option('-m, --metadata <key=value>', 'Upload-Metadata entry (repeatable)', collect, [])
    .addOption(headerOpt())
    .addOption(storeOpt())
    .option('--no-resume', 'start a new upload even if the store knows one')
    .option('--retry-delays <list>', 'retry delay ceilings in ms, e.g. 0,1000,3000,5000')
    .option('--stall-timeout <ms>', 'abort and retry a request idle this long', '30000')
    .option('--progress-interval <ms>', 'progress output interval', '1000')
    .option('--no-default-metadata', 'do not send filename and filetype')
    .addOption(
      new Option(
        '--protocol <name>',
        'tus 1.0, or the IETF resumable-upload draft (interop version 8)',
      )
        .choices(['tus', 'ietf-draft'])
        .default('tus'),
    )
    .addOption(
      new Option('--body-mode <mode>', 'request bodies: stream from disk or one buffer per chunk')
        .choices(['stream', 'buffer'])
        .default('stream'),
    )
    .option(
      '-p, --parallel <n>',
      'partial uploads at once, joined by the server (tus concatenation)',
      '1',
    )
    .option(
      '--checksum <alg>',
      'Upload-Checksum per request: sha256, sha1, md5, crc32 (default: sha256 if the server offers it)',
    )
    .option('--no-checksum', 'send no Upload-Checksum')
    .addOption(
      new Option(
        '--digest <alg>',
        'hash the whole file first and declare it (Repr-Digest); the server refuses a mismatch',
      ).choices(['sha256']),
    )
    .option(
      '--dedupe',
      'instant upload: if the server already stores this content for you, prove it and send no bytes (implies --digest sha256)',
    );
}
