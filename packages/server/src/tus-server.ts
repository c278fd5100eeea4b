// Builds the tus server: our S3 store when a bucket is configured, the local file store
// otherwise, with @tus/server doing the protocol.
import { mkdirSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { MemoryLocker, Server, type ServerOptions } from '@tus/server';
import type { DataStore, Locker } from '@tus/utils';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticate } from './auth/principal.js';
import type { Quotas } from './auth/quotas.js';
import { storeExtensions } from './capabilities.js';
import { OwnedFileStore } from './file/owned-file-store.js';
import { corsPolicy } from './front/cors.js';
import { answerFailure } from './front/error-response.js';
import {
  EXTENSION_REQUEST_HEADERS,
  EXTENSION_RESPONSE_HEADERS,
  type FrontOptions,
  handleTusRequest,
  notingLockGenerations,
} from './front/handler.js';
import { type CloseOptions, closingResponse, InFlight } from './front/in-flight.js';
import { TUS_VERSION } from './front/request-checks.js';
import { requestContext } from './front/request-context.js';
import { silentLogger } from './log.js';
import { countedHandle } from './ops/count-requests.js';
import { cachedReadiness, probeDependencies, type ReadinessCheck } from './ops/health.js';
import { TusMetrics } from './ops/metrics.js';
import { type ChecksumMode, createS3Client, type S3ConnectionOptions } from './s3/client.js';
import type { FullObjectChecksum } from './s3/digest/full-object-crc.js';
import { redisSweepLease, sweepLeaseKey } from './s3/expiration/lease.js';
import type { PartChecksum } from './s3/parts/part-checksum.js';
import { S3MultipartStore } from './s3/store.js';

/** connectTimeout, requestTimeout (an idle timeout), maxAttempts: see S3ConnectionOptions. */
type S3Timeouts = Pick<S3ConnectionOptions, 'connectTimeout' | 'requestTimeout' | 'maxAttempts'>;

export interface S3Options extends S3Timeouts {
  bucket: string;
  /** S3-compatible endpoint (Ceph RGW, MinIO, R2); path-style addressing is used with it. */
  endpoint?: string;
  region?: string;
  /** Prefix for every key the server writes; the expiration sweep stays inside it. */
  prefix?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** See ChecksumMode; default 'WHEN_REQUIRED' (Content-MD5 per part). */
  checksumMode?: ChecksumMode;
  /** `Expect: 100-continue` on large bodies (default off; see S3ConnectionOptions). */
  expectContinue?: boolean;
  /**
   * How each part body is proven intact to S3: 'md5' (default) sends Content-MD5, which
   * every S3 verifies, at a CPU cost the README states; 'none' leaves it to TCP/TLS, as
   * @tus/s3-store and lib-storage do.
   */
  partChecksum?: PartChecksum;
  /**
   * 'crc64nvme': S3 verifies each upload as a whole before publishing it (a full-object
   * CRC64NVME, computed by this server as the bytes stream). AWS S3 only; implies hashing
   * every upload (as `digest: 'sha256'`). See the server README, "Whole-file digest".
   */
  fullObjectChecksum?: FullObjectChecksum;
  /**
   * ms a one-part upload's open marker (how the expiration sweep finds unfinished uploads)
   * waits before it is written; one that completes sooner here never gets one. Default
   * 10 000; 0 writes it at creation, as a server with `quotas` always does.
   */
  openMarkerDelay?: number;
  /**
   * Sealed ids (server README, "Small files"): a POST without a body for an upload that fits
   * in one part writes nothing to S3, its id carries the creation, encrypted. Default on
   * where it applies (no Redis locks, an expiration, no quotas, no server-side digest).
   */
  sealIds?: boolean;
  /** 32 bytes that seal ids; default: a key made once and kept at `<prefix>.seal-key`. */
  sealKey?: Buffer;
  /** A ready client instead of endpoint/region/credentials. */
  client?: S3Client;
}

type TusHooks = Omit<ServerOptions, 'path' | 'locker' | 'maxSize' | 'datastore'>;

export interface TusS3Options extends Partial<TusHooks> {
  /** Where uploads live; absent: @tus/file-store in `dataDir`. */
  s3?: S3Options;
  /**
   * Runs before any S3 work on every request but an OPTIONS preflight and names who it acts
   * for; uploads record that owner and answer anyone else 404 (auth/principal.ts). Absent:
   * the server is open.
   */
  authenticate?: Authenticate;
  /**
   * Per-tenant limits checked at creation (needs `authenticate`): the largest
   * upload (413), unfinished uploads and bytes held in them (429). One set for every
   * tenant, or a function of the tenant.
   */
  quotas?: Quotas;
  /** Directory of the local file store used when `s3` is absent (default ./data). */
  dataDir?: string;
  /**
   * URL path the uploads are served under. With tusS3Middleware it defaults to the path the
   * middleware is mounted at.
   */
  path?: string;
  /** Preferred S3 part size in bytes (default 8 MiB). */
  partSize?: number;
  /** Largest upload accepted, in bytes (0: no limit but S3's). */
  maxSize?: number;
  /**
   * Unfinished uploads expire this many ms after creation (0: never; default 7 days,
   * DEFAULT_EXPIRATION). Expired uploads answer 410; `server.cleanUpExpiredUploads()`
   * removes them.
   */
  expiration?: number;
  /**
   * Media types (`type/subtype`, `type/*`, or `*` for all) whose objects S3 may serve inline, on top
   * of the passive ones (s3/object-headers.ts); any other type is stored with
   * `Content-Disposition: attachment`.
   */
  inlineTypes?: readonly string[];
  /** Most partial uploads one `Upload-Concat: final` may name (default 256). */
  maxConcatPartials?: number;
  /** Part uploads in flight per PATCH (default 4). */
  queueSize?: number;
  /**
   * Part buffers one PATCH holds at once: the one filling and those whose bytes the kernel
   * does not have yet (default 1).
   */
  partBuffers?: number;
  /**
   * Bytes of part buffers held at once across all uploads; past it a PATCH waits for a
   * buffer, its body paused (default 32 MiB, at least one PATCH's partBuffers).
   */
  partMemory?: number;
  /** Longest wait (ms) of a PATCH for part memory before a 503 with Retry-After (default 10 s). */
  memoryWait?: number;
  /** A request body silent this long (ms) is cut, what it brought kept (default 30 s; 0: never). */
  idleTimeout?: number;
  /**
   * 'sha256': hash every upload (S3 store), Repr-Digest declared or not; HEAD of a finished
   * one answers its Repr-Digest (server README, "Whole-file digest").
   */
  digest?: 'sha256';
  /**
   * Instant upload (秒传) on the S3 store (server README, "Instant upload"): `true`, or
   * `{ floorMs }`, the least time (ms) before a proof is answered (default 250). Off by
   * default; the local file store never has it.
   */
  instantUpload?: boolean | { floorMs?: number };
  /**
   * @tus/server's locker (default: its MemoryLocker, one process). Several instances need
   * a RedisLocker; with any other locker the store re-reads every upload from S3 on every
   * request, as it cannot tell whether another instance changed it.
   */
  locker?: ServerOptions['locker'];
  /**
   * The Redis the instances share (the CLI's --redis-url): the expiration sweep takes a lease
   * there, so that one instance sweeps at a time. Without it, runs only never overlap within
   * one process.
   */
  sweepRedis?: Redis;
  logger?: Logger;
}

export interface TusS3 {
  /**
   * The @tus/server instance. Its own handle()/handleWeb() skip the checksum and
   * concatenation layer: serve requests through handle() below (or the middleware).
   */
  server: Server;
  /** Answers one tus request (Fetch API), extensions included, for non-Express servers. */
  handle(request: Request): Promise<Response>;
  datastore: DataStore;
  /** 's3' or 'file': which store serves the uploads. */
  storage: 's3' | 'file';
  /** Human-readable description of where uploads go. */
  describe(): string;
  /** How the layer in front of @tus/server logs failures and bounds a final. */
  front: FrontOptions;
  /** The Prometheus registry of this server's metrics (README: Metrics and health). */
  metrics: Registry;
  /** What feeds `metrics` (the middleware counts each request through it). */
  instruments: TusMetrics;
  /** S3 (HeadBucket) and `sweepRedis` (PING) reachable, cached 1 s: what /readyz answers. */
  ready: ReadinessCheck;
  /**
   * Graceful shutdown: new requests answer 503 with Retry-After from now on, in-flight
   * ones finish until `deadlineMs` (default 5 s), then node requests (the middleware's)
   * are cut as a client that went away would cut them, their bytes kept, and awaited;
   * then the locker's close() (RedisLocker) runs and the S3 client this server created
   * closes its sockets. Fetch API requests (handle()) cannot be cut and are awaited.
   */
  close(options?: CloseOptions): Promise<void>;
  /** @internal The requests being served, for close() (the middleware registers its own). */
  inFlight: InFlight;
}

/**
 * Unfinished uploads expire after 7 days unless told otherwise: an abandoned multipart
 * upload's parts are stored (and on AWS billed) until someone aborts it, and a week
 * leaves a client that went offline over a weekend its upload. The same figure as the
 * AbortIncompleteMultipartUpload lifecycle rule AWS suggests.
 */
export const DEFAULT_EXPIRATION = 7 * 24 * 3_600_000;

export function createTusServer(options: TusS3Options = {}): TusS3 {
  const log = options.logger ?? silentLogger;
  const {
    s3,
    dataDir: _dataDir,
    path = '/files',
    partSize: _partSize,
    maxSize,
    expiration = DEFAULT_EXPIRATION,
    inlineTypes: _inlineTypes,
    maxConcatPartials,
    queueSize: _queueSize,
    partBuffers: _partBuffers,
    partMemory: _partMemory,
    sweepRedis: _sweepRedis,
    memoryWait: _memoryWait,
    idleTimeout: _idleTimeout,
    digest: _digest,
    instantUpload: _instantUpload,
    logger: _logger,
    authenticate,
    quotas: _quotas,
    ...tusOptions
  } = options;
  const instruments = new TusMetrics();
  const { datastore, describe, ready, ownClient } = createStore(
    options,
    expiration,
    log,
    instruments,
  );
  const inFlight = new InFlight();
  const cors = corsPolicy(tusOptions.allowedOrigins, tusOptions.allowedCredentials === true);
  const server = tusServer(tusOptions, { path, datastore, maxSize, log });
  instrumentServer(server, instruments);
  const tus: TusS3 = {
    server,
    datastore,
    storage: s3 ? 's3' : 'file',
    describe,
    front: { logger: log, maxConcatPartials, authenticate, cors },
    metrics: instruments.registry,
    instruments,
    ready,
    inFlight,
    handle: async (request) => {
      const leave = inFlight.enter();
      if (!leave) return closingResponse(TUS_VERSION);
      try {
        return await countedHandle(instruments, log, request, (counted, note) =>
          handleTusRequest(tus, counted, path, undefined, note),
        );
      } finally {
        leave();
      }
    },
    close: async (closeOptions) => {
      const cut = await inFlight.close(closeOptions);
      if (cut > 0) log.warn({ cut }, 'requests cut at the shutdown deadline, their bytes kept');
      // A cut PATCH may be answered before its bytes are durable: wait for the store too.
      await (datastore as { drained?: () => Promise<void> }).drained?.();
      const locker = tusOptions.locker as { close?: () => Promise<void> } | undefined;
      if (typeof locker?.close === 'function') await locker.close();
      ownClient?.destroy();
    },
  };
  return tus;
}

/**
 * @tus/server over the store, with what the front needs from it: failures answered as
 * their tus status (or "500 internal error", details logged), Locations under the mount
 * path, lock generations noted, and the extension headers allowed.
 */
function tusServer(
  tusOptions: Partial<ServerOptions>,
  {
    path,
    datastore,
    maxSize,
    log,
  }: { path: string; datastore: DataStore; maxSize?: number; log: Logger },
): Server {
  return new Server({
    ...tusOptions,
    locker: notingLockGenerations(tusOptions.locker),
    // The S3 store names uploads itself: a small one may then cost one S3 request.
    namingFunction: tusOptions.namingFunction ?? namingOf(datastore),
    path,
    datastore,
    maxSize: maxSize && maxSize > 0 ? maxSize : undefined,
    // CORS: browsers may send Upload-Checksum and read our extension headers.
    allowedHeaders: [...(tusOptions.allowedHeaders ?? []), ...EXTENSION_REQUEST_HEADERS],
    exposedHeaders: [...(tusOptions.exposedHeaders ?? []), ...EXTENSION_RESPONSE_HEADERS],
    // Every failure @tus/server answers leaves as its tus status and one-line reason, or
    // as "500 internal error" with the details in the log (front/error-response.ts).
    onResponseError: async (req, err) => {
      const mapped = await tusOptions.onResponseError?.(req, err);
      if (mapped) return mapped;
      const answer = answerFailure(err, req, log);
      const ctx = requestContext.getStore();
      if (ctx && answer.retryAfter !== undefined) ctx.reply.retryAfter = answer.retryAfter;
      return { status_code: answer.status_code, body: answer.body };
    },
    generateUrl:
      tusOptions.generateUrl ??
      ((_req, { proto, host, path: configured, id }) => {
        const base = requestContext.getStore()?.baseUrl ?? configured;
        const location = `${base.replace(/\/+$/, '')}/${encodeURIComponent(id)}`;
        return tusOptions.relativeLocation ? location : `${proto}://${host}${location}`;
      }),
  });
}

/** The S3 store's own naming of new uploads (S3MultipartStore.nameUpload). */
function namingOf(datastore: DataStore): ServerOptions['namingFunction'] {
  if (!(datastore instanceof S3MultipartStore)) return undefined;
  return (request, metadata) => datastore.nameUpload(request, metadata);
}

/** Uploads from its events, lock waits from its locker, expired uploads from its sweeps. */
function instrumentServer(server: Server, instruments: TusMetrics): void {
  instruments.watchServer(server);
  const locker = server.options.locker;
  // A locker given as a function or promise is left untimed.
  if (typeof locker === 'object' && 'newLock' in locker) {
    server.options.locker = instruments.timeLocks(locker as Locker);
  }
  const sweep = server.cleanUpExpiredUploads.bind(server);
  server.cleanUpExpiredUploads = async () => {
    const removed = await sweep();
    instruments.expired(removed);
    return removed;
  };
}

/** The S3 store when S3 is configured, else the local file store. */
function createStore(
  options: TusS3Options,
  expiration: number,
  log: Logger,
  instruments: TusMetrics,
): { datastore: DataStore; describe: () => string; ready: ReadinessCheck; ownClient?: S3Client } {
  const {
    s3,
    dataDir = './data',
    partSize,
    maxSize,
    inlineTypes,
    queueSize,
    partBuffers,
    partMemory,
    sweepRedis,
    memoryWait,
    idleTimeout,
    quotas,
    digest,
    instantUpload,
  } = options;
  if (s3) {
    const ownClient = s3.client ? undefined : createS3Client(s3);
    const client = s3.client ?? (ownClient as S3Client);
    instruments.instrumentS3(client);
    const datastore = new S3MultipartStore({
      client,
      bucket: s3.bucket,
      prefix: s3.prefix,
      partSize,
      maxSize,
      expiration,
      queueSize,
      partBuffers,
      partMemory,
      memoryWait,
      idleTimeout,
      partChecksum: s3.partChecksum,
      fullObjectChecksum: s3.fullObjectChecksum,
      openMarkerDelay: s3.openMarkerDelay,
      sealIds: s3.sealIds,
      sealKey: s3.sealKey,
      sweepLease: sweepRedis && redisSweepLease(sweepRedis, sweepLeaseKey(s3.bucket, s3.prefix)),
      inlineTypes,
      // Any locker but @tus/server's own process-local one may be shared by instances.
      sharedLocks: options.locker !== undefined && !(options.locker instanceof MemoryLocker),
      logger: log,
      quotas,
      digest,
      instantUpload,
    });
    instruments.watchBudget(datastore.partBudget);
    const ready = cachedReadiness(
      probeDependencies({ s3: { client, bucket: s3.bucket }, redis: sweepRedis }),
    );
    const describe = () =>
      `S3 bucket "${s3.bucket}"${s3.endpoint ? ` at ${s3.endpoint}` : ''}${s3.prefix ? ` under prefix "${s3.prefix}"` : ''}`;
    return { datastore, describe, ready, ownClient };
  }
  mkdirSync(dataDir, { recursive: true });
  // Owners recorded and checked as on S3 (file/owned-file-store.ts).
  const datastore = new OwnedFileStore({
    directory: dataDir,
    expirationPeriodInMilliseconds: expiration,
    quotas,
  });
  // What it implements, as the S3 store derives its own (its list says the same today).
  datastore.extensions = storeExtensions(datastore).tusServer;
  const describe = () => `local file store in ${dataDir} (no S3 configured)`;
  const ready = cachedReadiness(probeDependencies({ redis: sweepRedis }));
  return { datastore, describe, ready };
}
