// A @tus/server Locker shared by every instance that talks to one Redis, so that several
// servers behind a load balancer serialize the requests of one upload as a single server
// does. A lock is a key holding its owner's random token with a lease: the holder renews
// it while its request runs, so a crashed or partitioned instance frees its uploads one
// lease later instead of never. Redis pub/sub carries the two messages @tus/server's
// locking needs across instances: "release" (a waiter asks whoever holds the upload to
// cancel its request, typically a PATCH whose client reconnected elsewhere after a cut)
// and "released" (wakes waiters at once instead of at their next poll). Messages are only
// a speed-up: a waiter also polls, so a lost message costs one poll interval.
//
// Every acquisition also counts the upload's lock generation up and tells it to whoever
// listens (onAcquired; the front notes it for the request that took the lock): a store
// keeps what it learnt of an upload between requests only while no other request, on any
// instance, took the upload's lock in between.
//
// A lease is about liveness, and it alone does not keep bytes safe: a holder paused past
// its lease (a GC pause, a frozen VM, SIGSTOP) wakes up after another instance took the
// upload over and acknowledged bytes. So every acquisition also draws a fencing
// generation from one counter shared by all uploads (it never expires, so it only grows),
// and hands the request a Fence (locks/fence.ts): the store puts that generation in every
// staged key, so a woken holder never overwrites what its successor staged and the offset
// derivation prefers the newer holder's (s3/state/generations.ts), and it asks the Fence
// right before each S3 write, which refuses once this process cannot be sure its lease is
// still running. What stays unfenced, and why that is safe, is in the README (Several instances).
import { randomBytes } from 'node:crypto';
import type { Lock, Locker, RequestRelease } from '@tus/utils';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { lockTimeoutError } from '../errors.js';
import { silentLogger } from '../log.js';
import { type Fence, type LeaseStart, leaseHolds, leaseStartNow, lockLostError } from './fence.js';

export interface RedisLockerOptions {
  /**
   * The connection for commands; the locker duplicates it once for its subscription.
   * Closing it stays the caller's job (close() only ends the duplicate).
   */
  redis: Redis;
  /** Key and channel prefix, so that deployments can share one Redis (default 'tus-s3:lock:'). */
  prefix?: string;
  /** How long a request waits for a lock before it gets 423 (ms, default 30 s). */
  acquireTimeout?: number;
  /** How long a lock outlives a holder that stopped renewing it (ms, default 10 s). */
  lease?: number;
  logger?: Logger;
}

const DEFAULT_PREFIX = 'tus-s3:lock:';
const DEFAULT_ACQUIRE_TIMEOUT = 30_000;
const DEFAULT_LEASE = 10_000;
const MIN_LEASE = 300;
// A waiter tries again this often even if no "released" message arrives (lease expiry of
// a crashed holder sends none).
const POLL_MS = 200;
// A waiter repeats its request to let go this often: the holder may have changed since.
const ASK_AGAIN_MS = 1_000;

// Taking a lock counts the upload's generation up (kept a day after its last use, far
// beyond any memory a store keeps of an upload): a store may trust what it remembers of an
// upload from its previous request only if that request's lock was the one just before.
// The fencing generation (KEYS[3]) is one counter for all uploads and never expires: a
// per-upload count would start over after its TTL, below the generations in staged keys.
// Returns {generation, fencing generation}, or {0, 0} when the lock is taken.
const TAKE = `if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  local g = redis.call('incr', KEYS[2]); redis.call('pexpire', KEYS[2], ARGV[3])
  return {g, redis.call('incr', KEYS[3])}
  else return {0, 0} end`;
const GENERATION_TTL_MS = 24 * 3600 * 1000;
// Renew and release only act while the key still holds the caller's token, so a holder
// whose lease ran out never extends or deletes the lock its successor took.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// Release and its "released" message in one round trip (every tus request ends in one).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1]); redis.call('publish', ARGV[2], ARGV[3]); return 1
  else return 0 end`;

/**
 * Told of each lock taken through this locker, of its generation and of the Fence its
 * writes go through, synchronously within the call of lock() that took it (so in its
 * caller's async context).
 */
export type AcquisitionListener = (id: string, generation: number, fence: Fence) => void;

/** A locker that counts the generations of upload locks (RedisLocker). */
export interface GenerationCountingLocker extends Locker {
  /** Calls `listener` on every acquisition from now on. */
  onAcquired(listener: AcquisitionListener): void;
}

export function countsGenerations(locker: unknown): locker is GenerationCountingLocker {
  return (
    typeof (locker as Partial<GenerationCountingLocker> | undefined)?.onAcquired === 'function'
  );
}

interface Held {
  token: string;
  requestRelease: RequestRelease;
  renew: NodeJS.Timeout;
  renewedAt: number;
  /** No later than Redis last (re)started the lease: when that command was sent. */
  leaseFrom: LeaseStart;
}

// A write is refused once the lease may have less than a tenth of it left (at most 1 s):
// a woken holder is far past it, a live one renews every third and never gets near, and
// the rest covers the time between the check and the write reaching S3 (unless the
// process stops in exactly that gap). A larger margin would refuse holders whose event
// loop a loaded machine delays, for no gain against a pause.
const FENCE_MARGIN = 0.1;
const FENCE_MARGIN_MAX_MS = 1_000;

export class RedisLocker implements GenerationCountingLocker {
  readonly prefix: string;
  readonly acquireTimeout: number;
  readonly lease: number;
  private readonly redis: Redis;
  private readonly releaseChannel: string;
  private readonly releasedChannel: string;
  private readonly log: Logger;
  /** Locks this process holds, by upload id. */
  private readonly held = new Map<string, Held>();
  /** Callbacks of this process's waiters, by upload id. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<AcquisitionListener>();
  private subscriber?: Redis;
  private subscribed?: Promise<void>;

  constructor(options: RedisLockerOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.acquireTimeout = options.acquireTimeout ?? DEFAULT_ACQUIRE_TIMEOUT;
    this.lease = options.lease ?? DEFAULT_LEASE;
    this.releaseChannel = `${this.prefix}release`;
    this.releasedChannel = `${this.prefix}released`;
    this.log = options.logger ?? silentLogger;
    // Renewal runs every lease / 3: much shorter and a busy event loop loses the lease.
    if (!(this.lease >= MIN_LEASE)) throw new Error(`lock lease must be at least ${MIN_LEASE} ms`);
  }

  newLock(id: string): Lock {
    return new RedisLock(this, id);
  }

  onAcquired(listener: AcquisitionListener): void {
    this.listeners.add(listener);
  }

  /** @internal The lock of `id` is now held under `token` as its `generation`-th holder. */
  acquired(id: string, generation: number, token: string, fencing: number): void {
    const fence: Fence = { generation: fencing, assertHeld: () => this.assertHeld(id, token) };
    for (const listener of this.listeners) listener(id, generation, fence);
  }

  /**
   * Throws unless `id`'s lock is still this process's under `token` with its lease surely
   * running: lost, released, or not renewed lately enough (the process may have been
   * stopped: its timers have not run yet to tell).
   */
  assertHeld(id: string, token: string): void {
    const held = this.held.get(id);
    if (
      held?.token !== token ||
      !leaseHolds(
        held.leaseFrom,
        this.lease,
        Math.min(this.lease * FENCE_MARGIN, FENCE_MARGIN_MAX_MS),
      )
    ) {
      throw lockLostError();
    }
  }

  /** Ends the subscription; locks still held stay in Redis until their lease ends. */
  async close(): Promise<void> {
    for (const h of this.held.values()) clearInterval(h.renew);
    this.held.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    this.subscribed = undefined;
    // QUIT waits for a connection that may never come back; only a live one gets it.
    if (sub?.status === 'ready') await sub.quit().catch(() => sub.disconnect());
    else sub?.disconnect();
  }

  /** @internal */
  keyOf(id: string): string {
    return `${this.prefix}${id}`;
  }

  /** @internal The subscription must exist before this process holds or awaits a lock. */
  listening(): Promise<void> {
    // A failed subscription is tried again by the next lock, not remembered.
    this.subscribed ??= this.subscribe().catch((err: unknown) => {
      this.subscribed = undefined;
      throw err;
    });
    return this.subscribed;
  }

  /** @internal Ids cannot hold '/' (they are one URL path segment): no lock key is like it. */
  generationKeyOf(id: string): string {
    return `${this.prefix}generation/${id}`;
  }

  /**
   * @internal One attempt: the lock's generation and fencing generation if it is now this
   * process's under `token`, else undefined.
   */
  async tryTake(
    id: string,
    token: string,
    requestRelease: RequestRelease,
  ): Promise<{ generation: number; fencing: number } | undefined> {
    const leaseFrom = leaseStartNow();
    const [generation, fencing] = (await this.redis.eval(
      TAKE,
      3,
      this.keyOf(id),
      this.generationKeyOf(id),
      this.fencingKey(),
      token,
      this.lease,
      GENERATION_TTL_MS,
    )) as [number, number];
    if (!(generation > 0)) return undefined;
    const held: Held = {
      token,
      requestRelease,
      renewedAt: Date.now(),
      leaseFrom,
      renew: setInterval(() => void this.renew(id, held), Math.floor(this.lease / 3)),
    };
    held.renew.unref();
    this.held.set(id, held);
    return { generation: Number(generation), fencing: Number(fencing) };
  }

  /** @internal One counter for every upload under this prefix ('/' keeps it off lock keys). */
  fencingKey(): string {
    return `${this.prefix}fencing/generation`;
  }

  /** @internal */
  async askRelease(id: string): Promise<void> {
    await this.redis.publish(this.releaseChannel, id);
  }

  /** @internal Resolves on a "released" message for `id`, after `ms`, or on abort. */
  waitForRelease(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, waiters);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(id) === waiters) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      waiters.add(done);
    });
  }

  /** @internal */
  async release(id: string, token: string): Promise<void> {
    const held = this.held.get(id);
    if (held?.token === token) {
      clearInterval(held.renew);
      this.held.delete(id);
    }
    const deleted = await this.redis.eval(
      RELEASE,
      1,
      this.keyOf(id),
      token,
      this.releasedChannel,
      id,
    );
    if (deleted !== 1) this.log.warn({ id }, 'lock lease had run out before release');
  }

  private async renew(id: string, held: Held): Promise<void> {
    const leaseFrom = leaseStartNow();
    try {
      const ok = await this.redis.eval(RENEW, 1, this.keyOf(id), held.token, this.lease);
      if (ok === 1) {
        held.renewedAt = Date.now();
        held.leaseFrom = leaseFrom;
        return;
      }
      this.lost(id, held, 'lock taken over after its lease ran out');
    } catch (err) {
      // Redis unreachable: the lease may still be ours; once it surely is not, stop.
      if (Date.now() - held.renewedAt >= this.lease) this.lost(id, held, 'lock lease not renewed');
      else this.log.warn({ id, err }, 'lock renewal failed; retrying');
    }
  }

  private lost(id: string, held: Held, why: string): void {
    if (this.held.get(id) !== held) return;
    clearInterval(held.renew);
    this.held.delete(id);
    this.log.warn({ id }, why);
    void held.requestRelease();
  }

  private async subscribe(): Promise<void> {
    this.subscriber?.disconnect();
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on('error', (err: unknown) => this.log.warn({ err }, 'lock subscription error'));
    sub.on('message', (channel: string, id: string) => {
      if (channel === this.releaseChannel) {
        const held = this.held.get(id);
        if (held) void held.requestRelease();
      } else if (channel === this.releasedChannel) {
        for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
      }
    });
    await sub.subscribe(this.releaseChannel, this.releasedChannel);
  }
}

class RedisLock implements Lock {
  private token?: string;

  constructor(
    private readonly locker: RedisLocker,
    private readonly id: string,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const token = randomBytes(16).toString('hex');
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort);
    const timer = setTimeout(() => stop.abort(), this.locker.acquireTimeout);
    try {
      // Redis calls do not see the abort: a Redis that stopped answering must still end
      // in a timeout, not in a request that hangs.
      const acquired = await Promise.race([
        this.acquire(token, requestRelease, stop.signal),
        new Promise<false>((resolve) =>
          stop.signal.addEventListener('abort', () => resolve(false)),
        ),
      ]);
      if (!acquired) throw lockTimeoutError();
      this.token = token;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  async unlock(): Promise<void> {
    const token = this.token;
    if (token === undefined) return;
    this.token = undefined;
    await this.locker.release(this.id, token);
  }

  private async acquire(
    token: string,
    requestRelease: RequestRelease,
    signal: AbortSignal,
  ): Promise<boolean> {
    await this.locker.listening();
    let askedAt = Number.NEGATIVE_INFINITY;
    while (!signal.aborted) {
      const taken = await this.locker.tryTake(this.id, token, requestRelease);
      if (taken) {
        // The race in lock() may have given up already: do not keep what nobody will free.
        if (signal.aborted) await this.locker.release(this.id, token);
        else this.locker.acquired(this.id, taken.generation, token, taken.fencing);
        return !signal.aborted;
      }
      if (Date.now() - askedAt >= ASK_AGAIN_MS) {
        askedAt = Date.now();
        await this.locker.askRelease(this.id);
      }
      await this.locker.waitForRelease(this.id, POLL_MS, signal);
    }
    return false;
  }
}
