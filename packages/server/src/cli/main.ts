// tus-s3-server: flags/env -> options -> node:http server -> listen.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { mountAt } from '../front/mount.js';
import { connectRedis, redactUrl } from '../locks/redis-connection.js';
import { RedisLocker } from '../locks/redis-locker.js';
import { createLogger } from '../log.js';
import { tusS3Middleware } from '../middleware.js';
import { type ChecksumMode, createS3Client } from '../s3/client.js';
import { PART_CHECKSUMS, type PartChecksum } from '../s3/parts/part-checksum.js';
import { createTusServer, type S3Options } from '../tus-server.js';
import { normalizePath, parseDuration, parseSize } from './config.js';
import { collectStartupGarbage } from './heap-tuning.js';

// Node 20 is this project's target; the SDK's notice about its future releases is not the
// operator's concern and would break the one-line error contract.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
const asPort = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port');
  return n;
};

interface CliOptions {
  host: string;
  port: number;
  path: string;
  s3Bucket?: string;
  s3Endpoint?: string;
  s3Region: string;
  s3Prefix: string;
  checksumMode: ChecksumMode;
  expectContinue: boolean;
  partChecksum: PartChecksum;
  partSize?: number;
  partMemory?: number;
  queueSize?: number;
  partBuffers?: number;
  maxSize?: number;
  expiration?: number;
  dataDir: string;
  trustProxy: boolean;
  redisUrl?: string;
  lockLease?: number;
  logLevel: string;
}

const program = new Command('tus-s3-server')
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
    new Option('--part-checksum <kind>', 'how part bodies are proven intact to S3')
      .env('PART_CHECKSUM')
      .choices(PART_CHECKSUMS)
      .default('md5'),
  )
  .addOption(
    new Option('--part-size <size>', 'preferred S3 part size, e.g. 8MiB')
      .env('PART_SIZE')
      .argParser(asSize),
  )
  .addOption(
    new Option(
      '--part-memory <size>',
      'part buffers held at once across all uploads; past it PATCHes wait (default 64MiB)',
    )
      .env('PART_MEMORY')
      .argParser(asSize),
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
    new Option('--expiration <duration>', 'unfinished uploads expire after, e.g. 24h')
      .env('EXPIRATION')
      .argParser(asDuration),
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
  .showHelpAfterError(false)
  .configureOutput({
    outputError: (str, write) => write(`tus-s3-server: ${str.replace(/^error: /, '').trim()}\n`),
  })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 1));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<CliOptions>();
  if (o.lockLease !== undefined && !o.redisUrl) {
    throw new Error('--lock-lease needs --redis-url (locks in this process end with it)');
  }
  const logger = createLogger(o.logLevel);
  const path = normalizePath(o.path);
  const credentials =
    process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
        }
      : undefined;
  let s3: S3Options | undefined;
  if (o.s3Bucket) {
    const client = createS3Client({
      endpoint: o.s3Endpoint,
      region: o.s3Region,
      credentials,
      checksumMode: o.checksumMode,
      expectContinue: o.expectContinue,
    });
    try {
      await client.send(new HeadBucketCommand({ Bucket: o.s3Bucket }));
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const why = e.$metadata?.httpStatusCode
        ? `HTTP ${e.$metadata.httpStatusCode} ${e.name}`
        : e.message || e.name;
      throw new Error(
        `cannot reach bucket "${o.s3Bucket}"${o.s3Endpoint ? ` at ${o.s3Endpoint}` : ''}: ${why}`,
      );
    }
    s3 = {
      bucket: o.s3Bucket,
      endpoint: o.s3Endpoint,
      region: o.s3Region,
      prefix: o.s3Prefix,
      partChecksum: o.partChecksum,
      client,
    };
  }
  const redis = o.redisUrl ? await connectRedis(o.redisUrl) : undefined;
  const locker = redis ? new RedisLocker({ redis, lease: o.lockLease, logger }) : undefined;
  const tus = createTusServer({
    s3,
    dataDir: o.dataDir,
    path,
    partSize: o.partSize,
    partMemory: o.partMemory,
    queueSize: o.queueSize,
    partBuffers: o.partBuffers,
    maxSize: o.maxSize,
    expiration: o.expiration ?? 0,
    respectForwardedHeaders: o.trustProxy,
    locker,
    logger,
  });
  const server = createServer(mountAt(path, tusS3Middleware(tus)));
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  collectStartupGarbage();
  const { port } = server.address() as AddressInfo;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  process.stdout.write(`tus-s3-server: storage: ${tus.describe()}\n`);
  process.stdout.write(
    `tus-s3-server: locks: ${o.redisUrl ? `redis at ${redactUrl(o.redisUrl)}, shared by every instance` : 'in this process only (one instance; --redis-url for several)'}\n`,
  );
  process.stdout.write(`tus-s3-server: listening on http://${hostForUrl}:${port}${path}\n`);

  let sweep: NodeJS.Timeout | undefined;
  if ((o.expiration ?? 0) > 0) {
    const every = Math.min(Math.max((o.expiration ?? 0) / 4, 10_000), 3_600_000);
    sweep = setInterval(() => {
      tus.server
        .cleanUpExpiredUploads()
        .then((n) => n > 0 && logger.info({ removed: n }, 'expired uploads removed'))
        .catch((err: unknown) => logger.warn({ err }, 'expiration sweep failed'));
    }, every).unref();
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (sweep) clearInterval(sweep);
    logger.info({ signal }, 'draining in-flight requests');
    // In-flight PATCHes finish and are acknowledged; idle keep-alive sockets close now.
    server.close(() => {
      void Promise.all([
        locker?.close(),
        redis?.status === 'ready' ? redis.quit() : redis?.disconnect(),
      ])
        .catch(() => {})
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tus-s3-server: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
