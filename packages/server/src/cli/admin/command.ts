// `tus-s3-server uploads list|abort|sweep`: parsing into an AdminRequest (no I/O), with the
// server's own S3 flags (the same Option objects, so names, env vars and defaults agree).
import { Command, CommanderError, InvalidArgumentError, type Option } from 'commander';
import type { ChecksumMode } from '../../s3/client.js';
import { parseDuration } from '../config.js';

/** The server's flags the subcommands take too: where the uploads are, and the expiration. */
const SHARED_FLAGS = [
  '--s3-bucket',
  '--s3-endpoint',
  '--s3-region',
  '--s3-prefix',
  '--checksum-mode',
  '--s3-connect-timeout',
  '--s3-request-timeout',
  '--s3-max-attempts',
  '--expiration',
  '--log-level',
];

export interface AdminS3Flags {
  s3Bucket?: string;
  s3Endpoint?: string;
  s3Region: string;
  s3Prefix: string;
  checksumMode: ChecksumMode;
  s3ConnectTimeout?: number;
  s3RequestTimeout?: number;
  s3MaxAttempts?: number;
  expiration?: number;
  logLevel: string;
}

export type AdminRequest =
  | { command: 'list'; flags: AdminS3Flags; owner?: string; olderThan?: number; json: boolean }
  | { command: 'abort'; flags: AdminS3Flags; id: string }
  | { command: 'sweep'; flags: AdminS3Flags };

const asDuration = (v: string): number => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

/**
 * Parses `argv` (node, script, "uploads", ...). Bad input throws a CommanderError whose
 * one-line message went to `writeErr`; --help throws one with exitCode 0.
 */
export function parseAdminArgs(
  argv: readonly string[],
  serverOptions: readonly Option[],
  writeErr: (line: string) => void = (s) => process.stderr.write(s),
): AdminRequest {
  let request: AdminRequest | undefined;
  const root = new Command('tus-s3-server')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeErr,
      outputError: (str, write) => write(`tus-s3-server: ${str.replace(/^error: /, '').trim()}\n`),
    });
  const uploads = root
    .command('uploads')
    .description('unfinished uploads in S3: list them, abort one, sweep the expired');
  const shared = serverOptions.filter((o) => o.long && SHARED_FLAGS.includes(o.long));
  const sub = (name: string, description: string): Command => {
    const c = uploads.command(name).description(description);
    for (const o of shared) c.addOption(o);
    return c;
  };
  sub('list', 'unfinished uploads under the prefix: id, owner, size, offset, parts, age')
    .option('--owner <owner>', "only this owner's uploads")
    .option('--older-than <duration>', 'only uploads created longer ago, e.g. 1h', asDuration)
    .option('--json', 'one JSON object per upload and line', false)
    .action((opts: AdminS3Flags & { owner?: string; olderThan?: number; json: boolean }) => {
      const { owner, olderThan, json, ...flags } = opts;
      request = { command: 'list', flags, owner, olderThan, json };
    });
  sub('abort', 'remove an unfinished upload as a DELETE would')
    .argument('<id>', 'upload id (the last segment of its URL)')
    .action((id: string, flags: AdminS3Flags) => {
      request = { command: 'abort', flags, id };
    });
  sub('sweep', 'remove the uploads expired now (--expiration, default 7d)').action(
    (flags: AdminS3Flags) => {
      request = { command: 'sweep', flags };
    },
  );
  root.parse(argv as string[]);
  if (!request) {
    // `tus-s3-server uploads` alone: commander printed the subcommands' help.
    throw new CommanderError(1, 'tus-s3-server.missingSubcommand', 'name a subcommand');
  }
  return request;
}
