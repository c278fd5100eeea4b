// The server's Prometheus metrics (prom-client): one Registry per tus server, fed by the
// request layer (front), @tus/server's events, an S3 client middleware and the part budget.
import type { EventEmitter } from 'node:events';
import type { S3Client } from '@aws-sdk/client-s3';
import { EVENTS, type Lock, type Locker } from '@tus/utils';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the part budget tells a scrape (s3/memory/part-budget.ts). */
export interface BudgetView {
  readonly held: number;
  readonly waiting: number;
}

/** One answered tus request, as the metrics see it. */
export interface RequestFacts {
  method: string;
  status: number;
  /** Body bytes that arrived (read by the store or @tus/server). */
  received: number;
  /** Upload-Offset the request claimed (PATCH), if any. */
  requestOffset?: number;
  /** Upload-Offset the answer states, if any. */
  responseOffset?: number;
}

/** Operations whose requests carry a part of an upload. */
const PART_OPERATIONS = new Set(['UploadPart', 'UploadPartCopy']);

/**
 * Bytes a request's answer acknowledged: a 204 PATCH moved the offset from what it claimed
 * to what it answers; a 201 creation-with-upload answers the offset its body reached.
 */
export function acknowledgedBytes(f: RequestFacts): number {
  if (f.responseOffset === undefined) return 0;
  if (f.method === 'PATCH' && f.status === 204 && f.requestOffset !== undefined) {
    return Math.max(0, f.responseOffset - f.requestOffset);
  }
  if (f.method === 'POST' && f.status === 201) return Math.max(0, f.responseOffset);
  return 0;
}

/** `UploadPartCommand` -> `UploadPart`. */
export function operationOf(commandName: unknown): string {
  const name = typeof commandName === 'string' && commandName !== '' ? commandName : 'unknown';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

/** The HTTP status an S3 attempt ended with, or `error` when no answer came. */
export function s3StatusOf(outcome: { response?: unknown } | undefined, err?: unknown): string {
  if (err !== undefined) {
    const code = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return code ? String(code) : 'error';
  }
  const code = (outcome?.response as { statusCode?: number } | undefined)?.statusCode;
  return code ? String(code) : 'unknown';
}

/** A header value as a non-negative integer, or undefined. */
export function offsetOf(value: string | number | string[] | null | undefined): number | undefined {
  const n = Number(Array.isArray(value) ? value[0] : (value ?? Number.NaN));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Names each server's S3 middleware apart: the SDK refuses a name twice on one client. */
let instrumented = 0;

export class TusMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'tus_requests_total',
    help: 'tus requests answered, by method and status',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly bytesReceived = new Counter({
    name: 'tus_bytes_received_total',
    help: 'request body bytes that arrived',
    registers: [this.registry],
  });
  private readonly bytesAcknowledged = new Counter({
    name: 'tus_bytes_acknowledged_total',
    help: 'bytes acknowledged to clients (the offsets their answers moved)',
    registers: [this.registry],
  });
  private readonly uploads = new Counter({
    name: 'tus_uploads_total',
    help: 'uploads by event: created, finished, terminated, expired',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  private readonly s3Requests = new Counter({
    name: 'tus_s3_requests_total',
    help: 'S3 request attempts (retries included), by operation and HTTP status',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });
  private readonly s3Errors = new Counter({
    name: 'tus_s3_request_errors_total',
    help: 'S3 request attempts that failed (an error status or no answer), by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly s3Duration = new Histogram({
    name: 'tus_s3_request_duration_seconds',
    help: 'S3 request attempt latency, by operation',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly lockWait = new Histogram({
    name: 'tus_lock_wait_seconds',
    help: 'time to acquire an upload lock',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });
  private partsInFlight = 0;
  private budget: BudgetView | undefined;

  constructor() {
    for (const event of ['created', 'finished', 'terminated', 'expired']) {
      this.uploads.inc({ event }, 0);
    }
    const self = this;
    new Gauge({
      name: 'tus_parts_in_flight',
      help: 'part uploads (UploadPart, UploadPartCopy) sent to S3 and not answered yet',
      registers: [this.registry],
      collect() {
        this.set(self.partsInFlight);
      },
    });
    new Gauge({
      name: 'tus_part_memory_bytes',
      help: 'bytes of part buffers held by requests',
      registers: [this.registry],
      collect() {
        this.set(self.budget?.held ?? 0);
      },
    });
    new Gauge({
      name: 'tus_part_memory_waiting',
      help: 'requests waiting for part memory',
      registers: [this.registry],
      collect() {
        this.set(self.budget?.waiting ?? 0);
      },
    });
  }

  /** Counts one answered request. */
  request(f: RequestFacts): void {
    this.requests.inc({ method: f.method, status: String(f.status) });
    if (f.received > 0) this.bytesReceived.inc(f.received);
    const acked = acknowledgedBytes(f);
    if (acked > 0) this.bytesAcknowledged.inc(acked);
  }

  /** Uploads created, finished and terminated, from @tus/server's events. */
  watchServer(server: EventEmitter): void {
    server.on(EVENTS.POST_CREATE, () => this.uploads.inc({ event: 'created' }));
    server.on(EVENTS.POST_FINISH, () => this.uploads.inc({ event: 'finished' }));
    server.on(EVENTS.POST_TERMINATE, () => this.uploads.inc({ event: 'terminated' }));
  }

  expired(n: number): void {
    if (n > 0) this.uploads.inc({ event: 'expired' }, n);
  }

  /** The part budget read at each scrape. */
  watchBudget(budget: BudgetView): void {
    this.budget = budget;
  }

  /**
   * Counts every attempt `client` sends: per attempt (after the SDK's retry step), so a
   * retried request counts each time it reached, or failed to reach, S3. A client shared
   * by several servers (instances in one process) counts its requests in each of them.
   */
  instrumentS3(client: S3Client): void {
    // A stand-in with no middleware stack (a test double) has no requests to count.
    if (!client.middlewareStack) return;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationOf(context.commandName);
        const part = PART_OPERATIONS.has(operation);
        if (part) this.partsInFlight++;
        const stop = this.s3Duration.startTimer({ operation });
        try {
          const out = await next(args);
          this.s3Requests.inc({ operation, status: s3StatusOf(out) });
          return out;
        } catch (err) {
          this.s3Requests.inc({ operation, status: s3StatusOf(undefined, err) });
          this.s3Errors.inc({ operation });
          throw err;
        } finally {
          stop();
          if (part) this.partsInFlight--;
        }
      },
      { step: 'finalizeRequest', name: `tusS3Metrics#${++instrumented}`, priority: 'low' },
    );
  }

  /** `locker` with the time each lock() took observed; it stays an instance of its class. */
  timeLocks<L extends Locker>(locker: L): L {
    const observe = this.lockWait;
    const timed = Object.create(locker) as L;
    timed.newLock = (id: string): Lock => {
      const lock = locker.newLock(id);
      const original = lock.lock.bind(lock);
      lock.lock = async (...args: Parameters<Lock['lock']>) => {
        const stop = observe.startTimer();
        try {
          return await original(...args);
        } finally {
          stop();
        }
      };
      return lock;
    };
    return timed;
  }
}
