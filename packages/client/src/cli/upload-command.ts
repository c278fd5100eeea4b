/**
 * tus-upload <file>: one Upload from a Node file with a JSON file store, its events as
 * lines on stderr, a progress bar (TTY) or periodic lines, and SIGINT/SIGTERM as an
 * abort that leaves the upload resumable by the same command.
 */
import { parseChunkSize } from '../chunk-size.js';
import { parseRetryDelays } from '../retry.js';
import { nodeFileSource } from '../sources/node-file.js';
import { JsonFileStore } from '../stores/json-file.js';
import { Upload, type UploadOptions } from '../upload.js';
import { checksumOf, headersOf, parallelOf } from './flags.js';
import {
  guessType,
  instantLine,
  oneLine,
  type ProgressView,
  parseMetadataArg,
  RateMeter,
  renderBar,
  renderLine,
} from './format.js';

export interface UploadFlags {
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
  /** --digest sha256 (commander checks the choice). */
  digest?: 'sha256';
  /** --dedupe: instant upload when the server has the content. */
  dedupe?: boolean;
  /** --protocol tus | ietf-draft (commander checks the choice). */
  protocol: 'tus' | 'ietf-draft';
}

export async function uploadCommand(file: string, f: UploadFlags): Promise<number> {
  const metadata = metadataOf(f.metadata);
  const source = await nodeFileSource(file, { bodyMode: f.bodyMode, type: guessType(file) });
  const err = process.stderr;
  const tty = err.isTTY === true;
  const upload = new Upload(source, uploadOptions(f, metadata));
  const view = progressView(upload);
  const show = (end = '') => {
    if (tty) err.write(`\r\x1b[K${renderBar(view())}${end}`);
    else err.write(`${renderLine(view())}\n`);
  };
  reportEvents(upload, (line) => {
    if (tty) err.write('\r\x1b[K');
    err.write(`${line}\n`);
  });

  const interval = Math.max(50, Number(f.progressInterval) || 1000);
  const timer = setInterval(() => show(), interval);

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
    show('\n');
    if (result.instant) err.write(`${instantLine(result.instant, upload.progress.bytesSent)}\n`);
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

function metadataOf(list: string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const m of list) {
    const [k, v] = parseMetadataArg(m);
    metadata[k] = v;
  }
  return metadata;
}

function uploadOptions(f: UploadFlags, metadata: Record<string, string>): UploadOptions {
  return {
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
    digest: f.digest ?? (f.dedupe ? 'sha256' : false),
    dedupe: f.dedupe === true,
    parallel: parallelOf(f.parallel),
    protocol: f.protocol,
  };
}

/** The upload's progress as the bar shows it, with a rate smoothed over the samples. */
function progressView(upload: Upload): () => ProgressView {
  const meter = new RateMeter();
  return () => {
    const p = upload.progress;
    return {
      sent: p.bytesSent,
      acked: p.bytesAcknowledged,
      total: p.bytesTotal,
      rate: meter.sample(p.bytesSent, Date.now()),
    };
  };
}

/** One line per event worth telling the user about. */
function reportEvents(upload: Upload, say: (line: string) => void): void {
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
  upload.on('digest', (e) =>
    say(`digest: ${e.reprDigest}${e.fromStore ? ' (declared at creation, from the store)' : ''}`),
  );
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
}
