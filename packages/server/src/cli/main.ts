// tus-s3-server: flags/env -> options -> node:http server -> listen.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isInstantUploadStore } from '../capabilities.js';
import { demoSite, withDemo } from '../demo/site.js';
import { DEFAULT_CLOSE_DEADLINE } from '../front/in-flight.js';
import { mountAt } from '../front/mount.js';
import { connectRedis, redactUrl } from '../locks/redis-connection.js';
import { RedisLocker } from '../locks/redis-locker.js';
import { createLogger } from '../log.js';
import { tusS3Middleware } from '../middleware.js';
import { type OpsListener, startOpsListener } from '../ops/listener.js';
import { createS3Client } from '../s3/client.js';
import { createTusServer, DEFAULT_EXPIRATION, type S3Options, type TusS3 } from '../tus-server.js';
import { authenticatorFromFlags, describeAuth, quotasFromFlags } from './auth-flags.js';
import { normalizePath } from './config.js';
import { type CliOptions, program } from './flags.js';
import { collectStartupGarbage } from './heap-tuning.js';

// Node 20 is this project's target; the SDK's notice about its future releases is not the
// operator's concern and would break the one-line error contract.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** S3 options from the flags, once the bucket answered; undefined: the local file store. */
async function s3FromFlags(o: CliOptions): Promise<S3Options | undefined> {
  if (!o.s3Bucket) return undefined;
  const credentials =
    process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
        }
      : undefined;
  const client = createS3Client({
    endpoint: o.s3Endpoint,
    region: o.s3Region,
    credentials,
    checksumMode: o.checksumMode,
    expectContinue: o.expectContinue,
    connectTimeout: o.s3ConnectTimeout,
    requestTimeout: o.s3RequestTimeout,
    maxAttempts: o.s3MaxAttempts,
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
  return {
    bucket: o.s3Bucket,
    endpoint: o.s3Endpoint,
    region: o.s3Region,
    prefix: o.s3Prefix,
    partChecksum: o.partChecksum,
    fullObjectChecksum: o.s3FullObjectChecksum,
    sealIds: o.sealIds,
    sealKey: o.sealKey,
    client,
  };
}

async function listen(server: Server, o: CliOptions): Promise<number> {
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return (server.address() as AddressInfo).port;
}

/** The start-up lines: where uploads go, where locks live, where the server listens. */
function announce(tus: TusS3, o: CliOptions, path: string, port: number): void {
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  process.stdout.write(`tus-s3-server: storage: ${tus.describe()}\n`);
  process.stdout.write(
    `tus-s3-server: locks: ${o.redisUrl ? `redis at ${redactUrl(o.redisUrl)}, shared by every instance` : 'in this process only (one instance; --redis-url for several)'}\n`,
  );
  process.stdout.write(`tus-s3-server: ${describeAuth(o)}\n`);
  if (o.instantUpload) process.stdout.write(`tus-s3-server: ${describeInstant(tus)}\n`);
  process.stdout.write(`tus-s3-server: listening on http://${hostForUrl}:${port}${path}\n`);
  if (o.demo) process.stdout.write(`tus-s3-server: demo page on http://${hostForUrl}:${port}/\n`);
}

/**
 * Removes expired uploads every quarter of the expiration (10 s to 1 h). A tick while the
 * last run still goes is skipped; with --redis-url one instance sweeps at a time (the
 * store's lease), the others' ticks find it taken and cost one Redis request.
 */
function startSweep(tus: TusS3, expiration: number, logger: Logger): NodeJS.Timeout | undefined {
  if (expiration <= 0) return undefined;
  const every = Math.min(Math.max(expiration / 4, 10_000), 3_600_000);
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    tus.server
      .cleanUpExpiredUploads()
      .then((n) => n > 0 && logger.info({ removed: n }, 'expired uploads removed'))
      .catch((err: unknown) => logger.warn({ err }, 'expiration sweep failed'))
      .finally(() => {
        busy = false;
      });
  }, every).unref();
}

/** The --metrics-port listener, announced once it listens. */
async function startOps(tus: TusS3, o: CliOptions): Promise<OpsListener | undefined> {
  if (o.metricsPort === undefined) return undefined;
  const ops = await startOpsListener({
    registry: tus.metrics,
    ready: tus.ready,
    host: o.metricsHost,
    port: o.metricsPort,
  });
  const host = o.metricsHost.includes(':') ? `[${o.metricsHost}]` : o.metricsHost;
  process.stdout.write(`tus-s3-server: metrics on http://${host}:${ops.port}/metrics\n`);
  return ops;
}

interface Running {
  server: Server;
  tus: TusS3;
  ops?: OpsListener;
  sweep?: NodeJS.Timeout;
  redis?: Redis;
  s3?: S3Options;
  deadlineMs: number;
  logger: Logger;
}

/** What closing the sockets, Redis and the metrics listener may take before the exit. */
const EXIT_RESERVE_MS = 100;

/**
 * On SIGTERM/SIGINT the process exits by the deadline: in-flight requests finish during its
 * first half, are then cut with their bytes kept (tus.close), and the second half settles
 * them (their last bytes staged: a few S3 writes) before locks, Redis and the S3 sockets
 * close and the process exits 0. If settling overruns, it exits at the deadline anyway:
 * a cut request's bytes were never acknowledged, so nothing acknowledged is lost.
 */
function stopOnSignals(running: Running): void {
  const { server, tus, ops, sweep, redis, s3, deadlineMs, logger } = running;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const exitBy = Date.now() + deadlineMs;
    if (sweep) clearInterval(sweep);
    logger.info({ signal, deadlineMs }, 'shutting down: finishing in-flight requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('shutdown overran its deadline; exiting');
      process.exit(0);
    }, deadlineMs).unref();
    void tus
      .close({ deadlineMs: Math.floor(deadlineMs / 2) })
      .then(async () => {
        // Answers already settled leave; keep-alive sockets they free close now.
        server.closeIdleConnections();
        const left = Math.max(0, exitBy - Date.now() - EXIT_RESERVE_MS);
        await Promise.race([closed, new Promise((r) => setTimeout(r, Math.min(left, 500)))]);
        server.closeAllConnections();
        s3?.client?.destroy();
        await ops?.close();
        await (redis?.status === 'ready' ? redis.quit() : redis?.disconnect());
      })
      .catch((err: unknown) => logger.warn({ err }, 'shutdown failed'))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** The start-up line of --instant-upload: on, or why not. */
function describeInstant(tus: TusS3): string {
  const store = tus.datastore;
  if (!isInstantUploadStore(store)) {
    return 'instant upload: off, it needs S3 (the local file store cannot verify digests)';
  }
  return `instant upload: on, per tenant; proofs answered after ${store.instantUpload.floorMs} ms at the earliest`;
}

/** --instant-upload [--instant-floor]; a floor without the extension is a mistake. */
function instantFromFlags(o: CliOptions): { floorMs?: number } | undefined {
  if (!o.instantUpload) {
    if (o.instantFloor !== undefined) throw new Error('--instant-floor needs --instant-upload');
    return undefined;
  }
  return { floorMs: o.instantFloor };
}

async function main(): Promise<void> {
  // `tus-s3-server uploads ...`: the admin subcommands (cli/admin/); anything else serves.
  program.addHelpText('after', '\nAdmin: tus-s3-server uploads list|abort|sweep --help');
  if (process.argv[2] === 'uploads') {
    const { adminMain } = await import('./admin/run.js');
    return adminMain(process.argv, program.options);
  }
  program.parse();
  const o = program.opts<CliOptions>();
  if (o.lockLease !== undefined && !o.redisUrl) {
    throw new Error('--lock-lease needs --redis-url (locks in this process end with it)');
  }
  const logger = createLogger(o.logLevel);
  const path = normalizePath(o.path);
  const s3 = await s3FromFlags(o);
  const redis = o.redisUrl ? await connectRedis(o.redisUrl) : undefined;
  const locker = redis ? new RedisLocker({ redis, lease: o.lockLease, logger }) : undefined;
  const tus = createTusServer({
    s3,
    dataDir: o.dataDir,
    path,
    partSize: o.partSize,
    partMemory: o.partMemory,
    memoryWait: o.memoryWait,
    idleTimeout: o.idleTimeout,
    digest: o.digest,
    instantUpload: instantFromFlags(o),
    queueSize: o.queueSize,
    partBuffers: o.partBuffers,
    maxSize: o.maxSize,
    expiration: o.expiration ?? DEFAULT_EXPIRATION,
    inlineTypes: o.inlineTypes,
    maxConcatPartials: o.maxConcatPartials,
    respectForwardedHeaders: o.trustProxy,
    allowedOrigins: o.corsOrigin === '*' ? undefined : o.corsOrigin,
    allowedCredentials: o.corsCredentials,
    locker,
    sweepRedis: redis,
    logger,
    authenticate: authenticatorFromFlags(o),
    quotas: quotasFromFlags(o),
    disableTerminationForFinishedUploads: !o.deleteFinished,
  });
  const tusHandler = mountAt(path, tusS3Middleware(tus));
  const demo = o.demo ? await demoSite({ tusPath: path }) : undefined;
  const server = createServer(demo ? withDemo(demo, tusHandler) : tusHandler);
  const port = await listen(server, o);
  const ops = await startOps(tus, o);
  collectStartupGarbage();
  announce(tus, o, path, port);
  const sweep = startSweep(tus, o.expiration ?? DEFAULT_EXPIRATION, logger);
  const deadlineMs = o.shutdownDeadline ?? DEFAULT_CLOSE_DEADLINE;
  stopOnSignals({ server, tus, ops, sweep, redis, s3, deadlineMs, logger });
}

main().catch((err: unknown) => {
  process.stderr.write(`tus-s3-server: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
