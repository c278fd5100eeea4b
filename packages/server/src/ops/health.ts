// Readiness: S3 answers a HeadBucket (and Redis a PING when configured) within a short
// timeout. The verdict is cached briefly so a scraper or balancer probing often costs S3
// one request per cache period, not one per probe.
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

export interface Readiness {
  ok: boolean;
  /** One line: what is unreachable, or "ready". */
  reason: string;
}

export type ReadinessCheck = () => Promise<Readiness>;

export interface ReadinessOptions {
  s3?: { client: S3Client; bucket: string };
  /** Anything with ioredis's ping(). */
  redis?: { ping(): Promise<unknown> };
  /** ms each dependency has to answer (default 2 s). */
  timeout?: number;
  /** ms a verdict is reused (default 1 s). */
  cacheFor?: number;
}

export const DEFAULT_READY_TIMEOUT = 2_000;
export const DEFAULT_READY_CACHE = 1_000;

/** Rejects with `what` timed out after `ms`, unless `work` settles first. */
function within<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, what: string) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work(controller.signal), timeout]).finally(() => clearTimeout(timer));
}

function describe(what: string, err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const why = status ? `HTTP ${status} ${e.name ?? ''}`.trim() : e.message || e.name || 'failed';
  const line = why.split('\n')[0] ?? why;
  return line.startsWith(what) ? line : `${what}: ${line}`;
}

/** One probe of every configured dependency, uncached. */
export function probeDependencies(o: ReadinessOptions): ReadinessCheck {
  const ms = o.timeout ?? DEFAULT_READY_TIMEOUT;
  return async () => {
    const failures: string[] = [];
    const checks: Promise<void>[] = [];
    if (o.s3) {
      const { client, bucket } = o.s3;
      checks.push(
        within(
          (abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }),
          ms,
          's3',
        ).then(
          () => undefined,
          (err) => void failures.push(describe('s3', err)),
        ),
      );
    }
    if (o.redis) {
      const redis = o.redis;
      checks.push(
        within(() => redis.ping(), ms, 'redis').then(
          () => undefined,
          (err) => void failures.push(describe('redis', err)),
        ),
      );
    }
    await Promise.all(checks);
    return failures.length === 0
      ? { ok: true, reason: 'ready' }
      : { ok: false, reason: failures.sort().join('; ') };
  };
}

/**
 * `check` answered from a cache of `cacheFor` ms; concurrent callers share one probe.
 * `now` is injectable for tests.
 */
export function cachedReadiness(
  check: ReadinessCheck,
  cacheFor = DEFAULT_READY_CACHE,
  now: () => number = Date.now,
): ReadinessCheck {
  let last: { at: number; verdict: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;
  return () => {
    if (last && now() - last.at < cacheFor) return Promise.resolve(last.verdict);
    running ??= check()
      .then((verdict) => {
        last = { at: now(), verdict };
        return verdict;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
