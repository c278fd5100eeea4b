// The CLI's flags and their environment variables, parsed into CliOptions by commander.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ChecksumMode } from '../s3/client.js';
import { FULL_OBJECT_CHECKSUMS, type FullObjectChecksum } from '../s3/digest/full-object-crc.js';
import { PART_CHECKSUMS, type PartChecksum } from '../s3/parts/part-checksum.js';
import { type AuthCliOptions, addAuthFlags } from './auth-flags.js';
import { parseDuration, parseSize } from './config.js';

const asSize = (v: string): number => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const asDuration = (v: string): number => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const asCount = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('not 1..64');
  return n;
};
const asPartialCount = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('not 1..10000');
  return n;
};
const asTypeList = (v: string): string[] => {
  const types = v
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const bad = types.find(
    (t) => t !== '*' && !/^[A-Za-z0-9!#$&^_.+-]+\/(\*|[A-Za-z0-9!#$&^_.+-]+)$/.test(t),
  );
  if (bad !== undefined)
    throw new InvalidArgumentError(`"${bad}" is not type/subtype, type/* or *`);
  return types;
};
const asSealKey = (v: string): Buffer => {
  const key = Buffer.from(v, 'base64');
  if (key.length !== 32) throw new InvalidArgumentError('not 32 bytes in base64');
  return key;
};
const asPort = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port');
  return n;
};

export interface CliOptions extends AuthCliOptions {
  host: string;
  port: number;
  path: string;
  s3Bucket?: string;
  s3Endpoint?: string;
  s3Region: string;
  s3Prefix: string;
  checksumMode: ChecksumMode;
  expectContinue: boolean;
  s3ConnectTimeout?: number;
  s3RequestTimeout?: number;
  s3MaxAttempts?: number;
  partChecksum: PartChecksum;
  s3FullObjectChecksum?: FullObjectChecksum;
  sealIds: boolean;
  sealKey?: Buffer;
  partSize?: number;
  partMemory?: number;
  memoryWait?: number;
  idleTimeout?: number;
  digest?: 'sha256';
  instantUpload: boolean;
  instantFloor?: number;
  shutdownDeadline?: number;
  queueSize?: number;
  partBuffers?: number;
  maxSize?: number;
  expiration?: number;
  inlineTypes?: string[];
  maxConcatPartials?: number;
  dataDir: string;
  trustProxy: boolean;
  corsOrigin: string[] | '*';
  corsCredentials: boolean;
  redisUrl?: string;
  lockLease?: number;
  logLevel: string;
  metricsPort?: number;
  metricsHost: string;
  demo: boolean;
}

/** `*`, or origins as browsers send them (scheme://host[:port], no path). */
function asOriginList(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const o of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(o);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== o) {
      throw new InvalidArgumentError(`not an origin (scheme://host[:port]): ${o}`);
    }
  }
  if (origins.length === 0) throw new InvalidArgumentError('no origin given');
  return origins;
}

export const program = new Command('tus-s3-server')
  .description('tus 1.0 resumable upload server that streams uploads into S3 multipart uploads')
  .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('127.0.0.1'))
  .addOption(
    new Option('--port <port>', 'port (0: any free port)')
      .env('PORT')
      .default(1080)
      .argParser(asPort),
  )
  .addOption(
    new Option('--path <path>', 'URL path of the uploads').env('TUS_PATH').default('/files'),
  )
  .addOption(
    new Option('--s3-bucket <bucket>', 'S3 bucket; absent: local file store').env('S3_BUCKET'),
  )
  .addOption(
    new Option('--s3-endpoint <url>', 'S3-compatible endpoint (path-style)').env('S3_ENDPOINT'),
  )
  .addOption(new Option('--s3-region <region>', 'S3 region').env('S3_REGION').default('us-east-1'))
  .addOption(
    new Option('--s3-prefix <prefix>', 'key prefix for uploads').env('S3_PREFIX').default(''),
  )
  .addOption(
    new Option('--checksum-mode <mode>', 'SDK request checksums')
      .env('S3_CHECKSUM_MODE')
      .choices(['WHEN_REQUIRED', 'WHEN_SUPPORTED'])
      .default('WHEN_REQUIRED'),
  )
  .addOption(
    new Option('--expect-continue', 'send Expect: 100-continue with large S3 bodies').default(
      false,
    ),
  )
  .addOption(
    new Option(
      '--s3-connect-timeout <duration>',
      'connecting to S3 fails after (default 5s; 0: never)',
    )
      .env('S3_CONNECT_TIMEOUT')
      .argParser(asDuration),
  )
  .addOption(
    new Option(
      '--s3-request-timeout <duration>',
      'an S3 request whose connection is silent this long fails (default 20s; 0: never)',
    )
      .env('S3_REQUEST_TIMEOUT')
      .argParser(asDuration),
  )
  .addOption(
    new Option('--s3-max-attempts <n>', 'attempts per S3 request, retries included (default 3)')
      .env('S3_MAX_ATTEMPTS')
      .argParser(asCount),
  )
  .addOption(
    new Option('--part-checksum <kind>', 'how part bodies are proven intact to S3')
      .env('PART_CHECKSUM')
      .choices(PART_CHECKSUMS)
      .default('md5'),
  )
  .addOption(
    new Option(
      '--s3-full-object-checksum <algorithm>',
      'S3 verifies each upload whole before publishing it (AWS only; not Ceph RGW); implies --digest sha256',
    )
      .env('S3_FULL_OBJECT_CHECKSUM')
      .choices(FULL_OBJECT_CHECKSUMS),
  )
  .addOption(
    new Option(
      '--no-seal-ids',
      'every creation writes its info to S3 (default: a small upload created without a body gets a sealed id and writes nothing until its bytes come)',
    ),
  )
  .addOption(
    new Option(
      '--seal-key <base64>',
      'the 32-byte key of sealed ids (default: one made once, kept in the bucket at <prefix>.seal-key)',
    )
      .env('SEAL_KEY')
      .argParser(asSealKey),
  )
  .addOption(
    new Option('--part-size <size>', 'preferred S3 part size, e.g. 8MiB')
      .env('PART_SIZE')
      .argParser(asSize),
  )
  .addOption(
    new Option(
      '--part-memory <size>',
      'part buffers held at once across all uploads; past it PATCHes wait (default 32MiB)',
    )
      .env('PART_MEMORY')
      .argParser(asSize),
  )
  .addOption(
    new Option(
      '--memory-wait <duration>',
      'longest wait of a PATCH for part memory, then 503 + Retry-After (default 10s; 0: none)',
    )
      .env('MEMORY_WAIT')
      .argParser(asDuration),
  )
  .addOption(
    new Option(
      '--idle-timeout <duration>',
      'cut a request body silent this long, keeping its bytes (default 30s; 0: never)',
    )
      .env('IDLE_TIMEOUT')
      .argParser(asDuration),
  )
  .addOption(
    new Option(
      '--digest <algorithm>',
      'compute the whole-file digest of every upload, declared (Repr-Digest) or not',
    )
      .env('DIGEST')
      .choices(['sha256']),
  )
  .addOption(
    new Option(
      '--instant-upload',
      'instant upload (S3): a client proving it holds content its tenant stored before gets it by server-side copy',
    )
      .env('INSTANT_UPLOAD')
      .default(false),
  )
  .addOption(
    new Option(
      '--instant-floor <duration>',
      'least time before a proof of possession is answered, e.g. 250ms (default 250ms)',
    )
      .env('INSTANT_FLOOR')
      .argParser(asDuration),
  )
  .addOption(
    new Option(
      '--shutdown-deadline <duration>',
      'on SIGTERM/SIGINT: exit within this; in-flight requests finish in its first half, then are cut, their bytes kept (default 5s)',
    )
      .env('SHUTDOWN_DEADLINE')
      .argParser(asDuration),
  )
  .addOption(
    new Option('--queue-size <n>', 'part uploads to S3 in flight per PATCH (default 4)')
      .env('QUEUE_SIZE')
      .argParser(asCount),
  )
  .addOption(
    new Option(
      '--part-buffers <n>',
      'part buffers one PATCH holds: filling or not yet sent (default 1)',
    )
      .env('PART_BUFFERS')
      .argParser(asCount),
  )
  .addOption(
    new Option('--max-size <size>', 'largest upload, e.g. 10GiB').env('MAX_SIZE').argParser(asSize),
  )
  .addOption(
    new Option(
      '--expiration <duration>',
      'unfinished uploads expire after, e.g. 24h; 0: never (default 7d)',
    )
      .env('EXPIRATION')
      .argParser(asDuration),
  )
  .addOption(
    new Option(
      '--inline-types <list>',
      'media types S3 may serve inline beyond images, audio, video and text/plain, e.g. application/pdf,text/html (others: attachment)',
    )
      .env('INLINE_TYPES')
      .argParser(asTypeList),
  )
  .addOption(
    new Option(
      '--max-concat-partials <n>',
      'most partial uploads one Upload-Concat: final may name (default 256)',
    )
      .env('MAX_CONCAT_PARTIALS')
      .argParser(asPartialCount),
  )
  .addOption(
    new Option('--data-dir <dir>', 'file store directory when no S3 bucket')
      .env('DATA_DIR')
      .default('./data'),
  )
  .addOption(
    new Option('--trust-proxy', 'honour X-Forwarded-Host/Proto and Forwarded')
      .env('TRUST_PROXY')
      .default(false),
  )
  .addOption(
    new Option(
      '--cors-origin <list>',
      'origins whose pages may read answers, comma-separated, or * (any, without credentials)',
    )
      .env('CORS_ORIGIN')
      .argParser(asOriginList)
      .default('*'),
  )
  .addOption(
    new Option(
      '--cors-credentials',
      'let listed origins send cookies and Authorization (Access-Control-Allow-Credentials)',
    )
      .env('CORS_CREDENTIALS')
      .default(false),
  )
  .addOption(
    new Option(
      '--redis-url <url>',
      'Redis for upload locks shared by several instances; absent: locks in this process only',
    ).env('REDIS_URL'),
  )
  .addOption(
    new Option(
      '--lock-lease <duration>',
      'with --redis-url: how long a dead instance keeps its uploads locked (default 10s)',
    )
      .env('LOCK_LEASE')
      .argParser(asDuration),
  )
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('warn'))
  .addOption(
    new Option(
      '--metrics-port <port>',
      'serve /metrics, /healthz and /readyz on this port (0: any free port); absent: none',
    )
      .env('METRICS_PORT')
      .argParser(asPort),
  )
  .addOption(
    new Option('--metrics-host <host>', 'address of the --metrics-port listener')
      .env('METRICS_HOST')
      .default('127.0.0.1'),
  )
  .addOption(
    new Option(
      '--demo',
      'serve a browser upload page at / on the same port (off by default: for trying, not production)',
    )
      .env('TUS_S3_DEMO')
      .default(false),
  )
  .showHelpAfterError(false)
  .configureOutput({
    outputError: (str, write) => write(`tus-s3-server: ${str.replace(/^error: /, '').trim()}\n`),
  })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 1));

addAuthFlags(program);
