// One sweeper at a time among the instances that share a Redis: a key holding the holder's
// random token with a lease (SET NX PX), renewed while the sweep runs, deleted at its end
// only if it still holds the token. A sweeper that crashed frees it one lease later; one
// that finds its lease lost (a pause past it) stops at its next step.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface SweepLease {
  /** Takes the lease, or undefined when another sweeper holds it. */
  acquire(): Promise<HeldLease | undefined>;
}

export interface HeldLease {
  /** Whether the lease was lost (the sweep must stop: another may be sweeping now). */
  lost(): boolean;
  release(): Promise<void>;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end`;

export const DEFAULT_SWEEP_LEASE = 30_000;

/** The lease's key: deployments that share a Redis sweep each bucket and prefix apart. */
export function sweepLeaseKey(bucket: string, prefix = ''): string {
  return `tus-s3:sweep:${bucket}/${prefix}`;
}

export function redisSweepLease(
  redis: Redis,
  key: string,
  lease = DEFAULT_SWEEP_LEASE,
): SweepLease {
  return {
    async acquire() {
      const token = randomBytes(16).toString('hex');
      if ((await redis.set(key, token, 'PX', lease, 'NX')) !== 'OK') return undefined;
      let lost = false;
      const renew = setInterval(() => {
        redis
          .eval(RENEW, 1, key, token, lease)
          .then((ok) => {
            if (ok !== 1) lost = true;
          })
          .catch(() => {
            // Unknown: renewing again may still work; only an answer of "not yours" is lost.
          });
      }, lease / 3);
      renew.unref();
      return {
        lost: () => lost,
        async release() {
          clearInterval(renew);
          await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
        },
      };
    },
  };
}
