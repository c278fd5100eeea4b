// What a tenant holds in unfinished uploads, counted from S3 itself: the uploads the
// expiration sweep's two listings name (multipart uploads and open markers), each read's
// tenant and length from its info. So the count is right after a restart and across
// instances; an info is read once per process (its tenant never changes, its length only
// from deferred to declared).
import type { TenantUsage } from '../auth/quotas.js';
import type { StoreContext } from './context.js';
import { eachOldMarker, eachOldMultipartUpload } from './expiration/listings.js';
import { findInfo } from './info-io.js';

interface Known {
  tenant?: string;
  size?: number;
}

export class TenantUsageCounter {
  private readonly known = new Map<string, Known>();

  constructor(private readonly ctx: StoreContext) {}

  /** The tenant's unfinished uploads (finished partials not yet concatenated included). */
  async usageOf(tenant: string): Promise<TenantUsage> {
    const ids = await this.openIds();
    for (const id of this.known.keys()) if (!ids.has(id)) this.known.delete(id);
    const infos = await Promise.all([...ids].map((id) => this.infoOf(id)));
    const usage: TenantUsage = { uploads: 0, bytes: 0 };
    for (const info of infos) {
      if (info?.tenant !== tenant) continue;
      usage.uploads++;
      usage.bytes += info.size ?? 0;
    }
    return usage;
  }

  private async openIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    // expiration 0 and a "now" past every date: every upload listed counts.
    const all = Number.POSITIVE_INFINITY;
    await Promise.all([
      eachOldMultipartUpload(this.ctx, 0, all, (id) => ids.add(id)),
      eachOldMarker(this.ctx, 0, all, (id) => ids.add(id)),
    ]);
    return ids;
  }

  private async infoOf(id: string): Promise<Known | undefined> {
    const cached = this.known.get(id);
    if (cached?.size !== undefined) return cached;
    const info = await findInfo(this.ctx, id);
    // A marker or multipart upload whose info is gone is being removed: it holds nothing.
    if (!info) return undefined;
    const known = { tenant: info.tenant, size: info.size };
    this.known.set(id, known);
    return known;
  }
}
