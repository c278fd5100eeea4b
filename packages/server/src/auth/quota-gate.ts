// Where a store applies per-tenant quotas (auth/quotas.ts): at creation, counted from
// S3 (s3/tenant-usage.ts) or the file store's records (file/tenant-usage.ts), one
// creation per tenant at a time in this process so that concurrent creations cannot all
// pass the same count.
import { type Principal, tenantOf } from './principal.js';
import {
  countsUsage,
  KeyedQueue,
  limitsFor,
  type Quotas,
  sizeRefusal,
  type TenantUsage,
  usageRefusal,
} from './quotas.js';

/** Where a tenant's usage is counted: S3 (s3/tenant-usage.ts), the file store (file/). */
export interface UsageSource {
  usageOf(tenant: string): Promise<TenantUsage>;
}

export class QuotaGate {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly quotas: Quotas,
    private readonly usage: UsageSource,
  ) {}

  /**
   * Runs `create` if the principal's tenant may create an upload of `size`; a final
   * (`counted` false) is held only to the size limit: it consumes uploads already counted.
   * No principal (an open server): no quota.
   */
  async admit<T>(
    principal: Principal | undefined,
    size: number | undefined,
    counted: boolean,
    create: () => Promise<T>,
  ): Promise<T> {
    if (!principal) return create();
    const tenant = tenantOf(principal);
    const limits = await limitsFor(this.quotas, tenant);
    const tooLarge = sizeRefusal(limits, size);
    if (tooLarge) throw tooLarge;
    if (!counted || !countsUsage(limits)) return create();
    return this.queue.run(tenant, async () => {
      const refusal = usageRefusal(limits, await this.usage.usageOf(tenant), size);
      if (refusal) throw refusal;
      return create();
    });
  }

  /** A deferred length, once declared, is held to the size limit too. */
  async checkSize(principal: Principal | undefined, size: number): Promise<void> {
    if (!principal) return;
    const refusal = sizeRefusal(await limitsFor(this.quotas, tenantOf(principal)), size);
    if (refusal) throw refusal;
  }
}
