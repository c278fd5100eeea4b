// Per-tenant quotas on creation: the largest upload (413), unfinished uploads at once and
// bytes held in them (429). Pure verdicts, and a gate that admits one creation per tenant
// at a time, so creations in this process cannot all pass the same count.
import { TusError } from '../errors.js';

export interface QuotaLimits {
  /** Largest Upload-Length, in bytes. */
  maxUploadSize?: number;
  /** Unfinished uploads a tenant may hold at once. */
  maxUnfinishedUploads?: number;
  /** Sum of the declared lengths of a tenant's unfinished uploads, in bytes. */
  maxUnfinishedBytes?: number;
}

/** The same limits for every tenant, or a tenant's own. */
export type Quotas = QuotaLimits | ((tenant: string) => QuotaLimits | Promise<QuotaLimits>);

/** What a tenant holds in unfinished uploads now. */
export interface TenantUsage {
  uploads: number;
  bytes: number;
}

export async function limitsFor(quotas: Quotas, tenant: string): Promise<QuotaLimits> {
  return typeof quotas === 'function' ? quotas(tenant) : quotas;
}

/** Whether `limits` need the tenant's usage counted (a listing of S3). */
export function countsUsage(limits: QuotaLimits): boolean {
  return limits.maxUnfinishedUploads !== undefined || limits.maxUnfinishedBytes !== undefined;
}

/** 413 for an upload larger than the tenant may make, else undefined. */
export function sizeRefusal(limits: QuotaLimits, size: number | undefined): TusError | undefined {
  const max = limits.maxUploadSize;
  if (max === undefined || size === undefined || size <= max) return undefined;
  return new TusError(413, `Upload-Length exceeds this tenant's largest upload of ${max} bytes`);
}

/** 429 when one more upload of `size` would pass the tenant's limits, else undefined. */
export function usageRefusal(
  limits: QuotaLimits,
  usage: TenantUsage,
  size: number | undefined,
): TusError | undefined {
  const { maxUnfinishedUploads: uploads, maxUnfinishedBytes: bytes } = limits;
  if (uploads !== undefined && usage.uploads + 1 > uploads) {
    return new TusError(429, `this tenant holds ${usage.uploads} unfinished uploads, its limit`);
  }
  if (bytes !== undefined && usage.bytes + (size ?? 0) > bytes) {
    return new TusError(
      429,
      `this tenant's unfinished uploads would hold more than its limit of ${bytes} bytes`,
    );
  }
  return undefined;
}

/** Runs one task per key at a time, in arrival order. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(task, task);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
