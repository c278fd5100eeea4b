// What a tenant holds in unfinished uploads on the local file store, counted from the
// store's own records (each `<id>.json`: tenant and declared length) and files (their size
// is the offset), so the count is right after a restart. An upload is unfinished while
// its length is deferred or its file is shorter than it.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { UsageSource } from '../auth/quota-gate.js';
import type { TenantUsage } from '../auth/quotas.js';

/** What the count reads of @tus/file-store: its directory and its record store. */
export interface FileRecords {
  directory: string;
  configstore: { get(id: string): Promise<unknown>; list?(): Promise<string[]> };
}

interface Counted {
  tenant?: string;
  size?: number;
}

/** Whether the upload `record` describes still takes bytes, from its file's size. */
export function isUnfinished(size: number | undefined, fileSize: number | undefined): boolean {
  if (fileSize === undefined) return false;
  return size === undefined || fileSize < size;
}

export class FileTenantUsage implements UsageSource {
  constructor(private readonly store: FileRecords) {}

  async usageOf(tenant: string): Promise<TenantUsage> {
    const ids = (await this.store.configstore.list?.()) ?? [];
    const usage: TenantUsage = { uploads: 0, bytes: 0 };
    for (const id of ids) {
      const record = (await this.store.configstore.get(id)) as Counted | undefined;
      if (record?.tenant !== tenant) continue;
      if (!isUnfinished(record.size, await this.fileSize(id))) continue;
      usage.uploads++;
      usage.bytes += record.size ?? 0;
    }
    return usage;
  }

  /** Undefined when the file is gone (the upload is being removed: it holds nothing). */
  private async fileSize(id: string): Promise<number | undefined> {
    try {
      return (await stat(path.join(this.store.directory, id))).size;
    } catch {
      return undefined;
    }
  }
}
