// The expiration sweep of a store: incremental (its cost follows the unfinished uploads, see
// listings.ts) and single-flight: a run never overlaps the previous one in this process
// (a call while one runs joins it), and with a shared lease (lease.ts) one instance sweeps
// at a time. Now and then (fullPassInterval) a run also makes the full pass (full-pass.ts),
// whose last end is stamped in S3 so instances and restarts share the schedule.
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ERRORS, isS3NotFound } from '../../errors.js';
import { fullSweepStampKey } from '../keys.js';
import { type SweepDeps, sweepOne } from './apply.js';
import type { Found } from './decide.js';
import { fullPass } from './full-pass.js';
import type { HeldLease, SweepLease } from './lease.js';
import { findCandidates } from './listings.js';

/** A day: orphaned staged objects are garbage, not a risk; an hour of listing is not free. */
export const DEFAULT_FULL_PASS_INTERVAL = 24 * 3600 * 1000;
// Uploads dealt with at once: each is a few small requests.
const CONCURRENCY = 8;

export interface SweeperOptions extends SweepDeps {
  /** Shared with other instances (Redis); without it, this process alone is single-flight. */
  lease?: SweepLease;
  /** How often the full pass runs, in ms (0: never). */
  fullPassInterval?: number;
  /** The clock (tests). */
  now?: () => number;
}

export class ExpirationSweeper {
  private running: Promise<number> | undefined;

  constructor(private readonly opts: SweeperOptions) {}

  /** Sweeps once (or joins the run in progress); returns how many uploads went. */
  run(): Promise<number> {
    this.running ??= this.leased().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async leased(): Promise<number> {
    const held = this.opts.lease ? await this.opts.lease.acquire() : undefined;
    if (this.opts.lease && !held) {
      this.opts.ctx.log.debug('another instance is sweeping');
      return 0;
    }
    try {
      return await this.sweep(held);
    } finally {
      await held?.release();
    }
  }

  private async sweep(held: HeldLease | undefined): Promise<number> {
    const { ctx, expiration } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    const stopped = () => held?.lost() === true;
    const found = await findCandidates(ctx, expiration, now);
    let removed = await this.each([...found.values()], now, stopped);
    if (!stopped() && (await this.fullPassDue(now))) {
      const one = (id: string) => this.one({ id, uploadIds: [], marker: false }, now);
      removed += await fullPass({ ctx, expiration, sweepInfo: one, stopped }, now);
      if (!stopped()) await this.stampFullPass();
    }
    return removed;
  }

  private async each(all: Found[], now: number, stopped: () => boolean): Promise<number> {
    let removed = 0;
    let next = 0;
    const worker = async () => {
      while (next < all.length && !stopped()) {
        // Read after the await: workers add concurrently.
        const n = await this.one(all[next++] as Found, now);
        removed += n;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, all.length) }, worker));
    return removed;
  }

  /** One upload; a failure is logged and left for the next run. */
  private async one(found: Found, now: number): Promise<number> {
    try {
      return await sweepOne(this.opts, found, now);
    } catch (err) {
      // Removed meanwhile (a DELETE, or another sweeper whose lease ran out).
      if (err !== ERRORS.FILE_NOT_FOUND) {
        this.opts.ctx.log.warn({ err, id: found.id }, 'sweep could not deal with an upload');
      }
      return 0;
    }
  }

  private async fullPassDue(now: number): Promise<boolean> {
    const every = this.opts.fullPassInterval ?? DEFAULT_FULL_PASS_INTERVAL;
    if (every <= 0) return false;
    const { client, bucket, prefix } = this.opts.ctx;
    const head = await client
      .send(new HeadObjectCommand({ Bucket: bucket, Key: fullSweepStampKey(prefix) }))
      .catch((err: unknown) => {
        if (isS3NotFound(err)) return undefined;
        throw err;
      });
    const last = head?.LastModified?.getTime();
    return last === undefined || last + every < now;
  }

  private async stampFullPass(): Promise<void> {
    const { client, bucket, prefix } = this.opts.ctx;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: fullSweepStampKey(prefix),
        Body: Buffer.alloc(0),
        ContentLength: 0,
      }),
    );
  }
}
