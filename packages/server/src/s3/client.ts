// One place that builds the S3 client, so every S3 talk has the same checksum mode,
// timeouts and retries.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { storageUnavailable } from './transport-errors.js';

/**
 * 'WHEN_REQUIRED' (default): no SDK CRC32 on ordinary requests. Many S3-compatible servers
 * (Ceph RGW, older MinIO, R2) reject or mishandle the SDK's default aws-chunked CRC32
 * trailers; integrity comes from Content-MD5 on every part instead, which they verify.
 * 'WHEN_SUPPORTED': the SDK's default, for AWS itself.
 */
export type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

export interface S3ConnectionOptions {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style addressing; defaults to true when an endpoint is given. */
  forcePathStyle?: boolean;
  checksumMode?: ChecksumMode;
  /**
   * Sign each request body's SHA-256 (SigV4 over plain HTTP does by default). Off by
   * default: bodies carry Content-MD5 (partChecksum 'md5'), which S3 verifies, so a second
   * full hash of each part is CPU spent for nothing.
   */
  signPayload?: boolean;
  /**
   * Send `Expect: 100-continue` on bodies of 2 MiB or more (the SDK's default). Off by
   * default: Ceph RGW (beast) answers such a request with `Connection: close`, so every
   * part paid a new TCP connection plus a round trip before its first byte. Without it a
   * refused request (bad credentials) wastes one body's upload, once.
   */
  expectContinue?: boolean;
  /**
   * ms to open a connection to S3 before the attempt fails (default 5 s; 0: none). It
   * measures connecting only: the socket pool has no limit, so no request waits for a socket
   * (the SDK's timer also runs while a request waits in its pool's queue).
   */
  connectTimeout?: number;
  /**
   * ms an S3 request's connection may carry no byte either way before the attempt fails
   * (default 20 s; 0: none). An idle timeout, not a deadline: a 5 GiB part on a slow link
   * is not cut while its bytes move, but a half-open connection or a silent S3 is.
   */
  requestTimeout?: number;
  /** Attempts per S3 request, the first included (default 3; the SDK's standard retry). */
  maxAttempts?: number;
}

export const DEFAULT_S3_CONNECT_TIMEOUT = 5_000;
export const DEFAULT_S3_REQUEST_TIMEOUT = 20_000;
export const DEFAULT_S3_MAX_ATTEMPTS = 3;

const ignore = (): void => {};
const quietSdkLogger = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export function createS3Client(opts: S3ConnectionOptions): S3Client {
  const config: S3ClientConfig = {
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
    requestChecksumCalculation: opts.checksumMode ?? 'WHEN_REQUIRED',
    responseChecksumValidation: opts.checksumMode ?? 'WHEN_REQUIRED',
    expectContinueHeader: opts.expectContinue ? 2 * 1024 * 1024 : false,
    // @smithy/node-http-handler's own requestTimeout is a deadline on the whole request
    // (and only warns unless told to throw); its socketTimeout is the idle timeout wanted.
    requestHandler: {
      connectionTimeout: opts.connectTimeout ?? DEFAULT_S3_CONNECT_TIMEOUT,
      socketTimeout: opts.requestTimeout ?? DEFAULT_S3_REQUEST_TIMEOUT,
      // The handler's agents hold 50 sockets, and its connection timer runs while a request
      // waits for one: 200 uploads at once answered 503 after 5 s queued (BENCHMARKS.md,
      // "Scale"). The server bounds its own S3 requests: parts in flight by part memory
      // (s3/memory/turns.ts), the small ones (info, HEAD, staging) by the uploads in progress.
      // Idle sockets are kept (keep-alive) up to the agent's default of 256.
      httpAgent: { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY },
      httpsAgent: { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY },
    },
    // Standard retry: a failed attempt is tried again after a jittered backoff, except a
    // request whose body is a stream (a part sent while it fills): the SDK cannot replay
    // it, so it fails at once and s3/patch/send.ts resends the part from memory if it can.
    retryMode: 'standard',
    maxAttempts: Math.max(1, opts.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS),
  };
  if (opts.credentials) config.credentials = opts.credentials;
  // Without a logger the SDK writes some warnings (a failed streaming request) straight to
  // the console; the store logs those failures itself, structured.
  config.logger = quietSdkLogger;
  const client = new S3Client(config);
  // Outside the retries: an S3 that stayed silent through every attempt is a 503 the
  // client may retry, not an internal error.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw storageUnavailable(err) ?? err;
      }
    },
    { step: 'initialize', name: 'tusS3StorageUnavailable' },
  );
  if (!opts.signPayload) {
    // The signer uses a preset x-amz-content-sha256 instead of hashing the body.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers && !request.headers['x-amz-content-sha256']) {
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        }
        return next(args);
      },
      { step: 'build', name: 'tusS3UnsignedPayload' },
    );
  }
  return client;
}

/** S3 answers ETags quoted; some servers (RGW on UploadPartCopy) do not. Store them bare. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"+|"+$/g, '');
}

export function quotedEtag(etag: string): string {
  return `"${bareEtag(etag)}"`;
}
