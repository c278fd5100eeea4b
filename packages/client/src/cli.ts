#!/usr/bin/env node
/**
 * tus-upload: upload a file with resume across runs.
 *   tus-upload <file> --endpoint URL [options]   upload (resumes a stored upload)
 *   tus-upload list [--store PATH]               unfinished uploads in the store
 *   tus-upload abort <url> [--store PATH]        terminate one (DELETE) and forget it
 * Progress goes to stderr (a bar on a TTY, plain lines otherwise); the last stdout line
 * is the upload URL. Exit 0 on success, 1 with a one-line reason on failure, 130/143
 * when interrupted (rerun the same command to resume).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { type ChecksumOption, isChecksumAlgorithm } from './checksum/algorithms.js';
import { parseChunkSize } from './chunk-size.js';
import {
  guessType,
  parseHeader,
  parseMetadataArg,
  RateMeter,
  renderBar,
  renderLine,
} from './cli-format.js';
import { TusError } from './errors.js';
import { parseRetryDelays } from './retry.js';
import { nodeFileSource } from './sources/node-file.js';
import { JsonFileStore } from './stores/json-file.js';
import { terminateUpload, Upload } from './upload.js';

const DEFAULT_STORE = process.env.TUS_UPLOAD_STORE || join(homedir(), '.tus-upload', 'store.json');

const collect = (v: string, prev: string[]) => [...prev, v];

interface UploadFlags {
  endpoint: string;
  chunkSize: string;
  metadata: string[];
  header: string[];
  store: string;
  resume: boolean;
  retryDelays?: string;
  stallTimeout: string;
  progressInterval: string;
  defaultMetadata: boolean;
  bodyMode: 'stream' | 'buffer';
  parallel: string;
  /** --checksum ALG -> the name, --no-checksum -> false, neither -> undefined ('auto'). */
  checksum?: string | false;
}

function checksumOf(v: string | false | undefined): ChecksumOption {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === false) return false;
  const name = v.toLowerCase();
  if (!isChecksumAlgorithm(name)) {
    throw new RangeError(`--checksum: unknown algorithm ${v} (sha256, sha1, md5, crc32, auto)`);
  }
  return name;
}

function parallelOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(`--parallel: not a number of uploads from 1 to 64: ${v}`);
  }
  return n;
}

function headersOf(list: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of list) {
    const [k, v] = parseHeader(line);
    h[k] = v;
  }
  return h;
}

async function uploadCommand(file: string, f: UploadFlags): Promise<number> {
  const metadata: Record<string, string> = {};
  for (const m of f.metadata) {
    const [k, v] = parseMetadataArg(m);
    metadata[k] = v;
  }
  const source = await nodeFileSource(file, { bodyMode: f.bodyMode, type: guessType(file) });
  const err = process.stderr;
  const tty = err.isTTY === true;
  const upload = new Upload(source, {
    endpoint: f.endpoint,
    chunkSize: parseChunkSize(f.chunkSize),
    metadata,
    defaultMetadata: f.defaultMetadata,
    headers: headersOf(f.header),
    store: new JsonFileStore(f.store),
    resume: f.resume,
    retry: f.retryDelays ? { delays: parseRetryDelays(f.retryDelays) } : undefined,
    stallTimeoutMs: Number(f.stallTimeout),
    checksum: checksumOf(f.checksum),
    parallel: parallelOf(f.parallel),
  });

  const meter = new RateMeter();
  const view = () => {
    const p = upload.progress;
    return {
      sent: p.bytesSent,
      acked: p.bytesAcknowledged,
      total: p.bytesTotal,
      rate: meter.sample(p.bytesSent, Date.now()),
    };
  };
  const say = (line: string) => {
    if (tty) err.write('\r\x1b[K');
    err.write(`${line}\n`);
  };
  upload.on('created', (e) => say(`created ${e.url}`));
  upload.on('resumed', (e) => {
    const total = upload.progress.bytesTotal;
    const pct = total ? ` (${((e.offset / total) * 100).toFixed(1)}%)` : '';
    say(`resuming ${e.url} from offset ${e.offset}${pct}`);
  });
  upload.on('restarted', (e) =>
    say(`upload ${e.previousUrl} is gone (HTTP ${e.status}); starting a new one`),
  );
  upload.on('retry', (e) =>
    say(`retry ${e.attempt} in ${e.delayMs} ms: ${oneLine(e.error.message)}`),
  );
  upload.on('checksum', (e) => say(`checksum: ${e.algorithm ?? 'off'}`));
  upload.on('fallback', (e) =>
    say(`parallel upload not possible: ${e.reason}; uploading as one upload`),
  );
  upload.on('parallel', (e) =>
    say(
      e.resumed
        ? `resuming parallel upload: ${e.partials.length} partial uploads`
        : `parallel upload: ${e.partials.length} partial uploads aligned to ${e.alignment} bytes`,
    ),
  );
  upload.on('partial', (e) => {
    const tag = `partial ${e.index + 1}/${e.count}`;
    if (e.state === 'created') say(`${tag} created ${e.url}`);
    else if (e.state === 'resumed') say(`${tag} resuming ${e.url} from offset ${e.offset}`);
    else if (e.state === 'restarted') say(`${tag} ${e.url} is gone; starting it again`);
    else say(`${tag} done (${e.offset} bytes)`);
  });

  const interval = Math.max(50, Number(f.progressInterval) || 1000);
  const timer = setInterval(() => {
    if (tty) err.write(`\r\x1b[K${renderBar(view())}`);
    else err.write(`${renderLine(view())}\n`);
  }, interval);

  let signalled: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = sig;
    upload.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const result = await upload.start();
    clearInterval(timer);
    if (tty) err.write(`\r\x1b[K${renderBar(view())}\n`);
    else err.write(`${renderLine(view())}\n`);
    err.write(`done: ${result.size} bytes\n`);
    process.stdout.write(`${result.url}\n`);
    return 0;
  } catch (e) {
    clearInterval(timer);
    if (tty) err.write('\n');
    if (signalled) {
      err.write(
        `tus-upload: interrupted (${signalled}) at ${upload.progress.bytesAcknowledged} bytes; rerun the same command to resume\n`,
      );
      return signalled === 'SIGINT' ? 130 : 143;
    }
    throw e;
  } finally {
    await source.close();
  }
}

async function listCommand(f: { store: string; header: string[]; offline?: boolean }) {
  const store = new JsonFileStore(f.store);
  const entries = await store.list();
  if (entries.length === 0) {
    process.stdout.write(`no unfinished uploads in ${f.store}\n`);
    return 0;
  }
  const headers = { ...headersOf(f.header), 'Tus-Resumable': '1.0.0' };
  const offsetOf = async (url: string): Promise<string> => {
    if (f.offline) return '';
    try {
      const res = await fetch(url, { method: 'HEAD', headers, signal: AbortSignal.timeout(5000) });
      const off = res.headers.get('Upload-Offset');
      return res.ok && off !== null ? ` offset=${off}` : ` (HTTP ${res.status})`;
    } catch {
      return ' (unreachable)';
    }
  };
  for (const e of entries) {
    const name = e.metadata.filename ? ` ${JSON.stringify(e.metadata.filename)}` : '';
    if (e.partials) {
      process.stdout.write(
        `parallel size=${e.size}${name} partials=${e.partials.length} created=${e.createdAt}\n`,
      );
      if (e.finalUrl) process.stdout.write(`  final ${e.finalUrl}\n`);
      for (const p of e.partials) {
        const state = p.uploadUrl ? await offsetOf(p.uploadUrl) : ' (not created)';
        process.stdout.write(`  ${p.uploadUrl ?? '-'} range=${p.start}-${p.end}${state}\n`);
      }
      continue;
    }
    const state = await offsetOf(e.uploadUrl);
    process.stdout.write(
      `${e.uploadUrl} size=${e.size ?? 'deferred'}${state}${name} created=${e.createdAt}\n`,
    );
  }
  return 0;
}

async function abortCommand(url: string, f: { store: string; header: string[] }) {
  const store = new JsonFileStore(f.store);
  // A partial's URL stands for its whole parallel upload: terminate every partial.
  const entry = (await store.list()).find((e) => e.partials?.some((p) => p.uploadUrl === url));
  const urls = entry?.partials
    ? [
        ...entry.partials.flatMap((p) => (p.uploadUrl ? [p.uploadUrl] : [])),
        ...(entry.finalUrl ? [entry.finalUrl] : []),
      ]
    : [url];
  for (const u of urls) {
    await terminateUpload(u, { headers: headersOf(f.header) });
    process.stdout.write(`terminated ${u}\n`);
  }
  await store.removeUrl(url);
  return 0;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('tus-upload')
    .description('Resumable uploads with the tus 1.0 protocol')
    .showHelpAfterError()
    .exitOverride();

  const storeOpt = () =>
    new Option('--store <path>', 'resume store (JSON file)').default(DEFAULT_STORE);
  const headerOpt = () =>
    new Option('-H, --header <header>', 'extra request header "Name: value" (repeatable)')
      .default([])
      .argParser(collect);

  program
    .command('upload <file>', { isDefault: true })
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
    .action(async (file: string, flags: UploadFlags) => {
      code = await uploadCommand(file, flags);
    });

  program
    .command('list')
    .description('show unfinished uploads from the store (with their server offset)')
    .addOption(storeOpt())
    .addOption(headerOpt())
    .option('--offline', 'do not ask the server for offsets')
    .action(async (flags: { store: string; header: string[]; offline?: boolean }) => {
      code = await listCommand(flags);
    });

  program
    .command('abort <url>')
    .description('terminate an upload (DELETE) and remove it from the store')
    .addOption(storeOpt())
    .addOption(headerOpt())
    .action(async (url: string, flags: { store: string; header: string[] }) => {
      code = await abortCommand(url, flags);
    });

  await program.parseAsync(argv);
  return code;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const c = (e as { code?: string; exitCode?: number }).code;
    if (typeof c === 'string' && c.startsWith('commander.')) {
      process.exitCode = (e as { exitCode?: number }).exitCode ?? 2;
      return;
    }
    const msg = e instanceof TusError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`tus-upload: ${oneLine(msg)}\n`);
    process.exitCode = 1;
  },
);
