// The local file store (@tus/file-store) with owners, as the S3 store has them
// (auth/principal.ts): a creation records the principal's owner and tenant, and every
// later use checks them first, answering another owner's upload as a missing one.
//
// @tus/file-store 2.1.1 keeps each upload's record as `<id>.json` (its configstore, a
// FileKvStore) holding the Upload given to create(); getUpload builds a fresh Upload from
// its id, size, metadata and creation_date only, and declareUploadLength rewrites the
// record it read. So an `owner`/`tenant` written into that record stays there, and no
// response (HEAD's Upload-Metadata included) ever shows it.

import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { assertMayUse, type Ownership, ownershipOf, type Principal } from '../auth/principal.js';
import { QuotaGate } from '../auth/quota-gate.js';
import type { Quotas } from '../auth/quotas.js';
import { currentRequest } from '../front/request-context.js';
import { FileTenantUsage } from './tenant-usage.js';

export interface OwnedFileStoreOptions {
  directory: string;
  expirationPeriodInMilliseconds?: number;
  /** Per-tenant limits at creation, counted from this store's records (file/tenant-usage.ts). */
  quotas?: Quotas;
}

/** The ownership a record holds; an upload created on an open server has none. */
export function ownershipInRecord(record: unknown): Ownership {
  const r = (record ?? {}) as { owner?: unknown; tenant?: unknown };
  const owner = typeof r.owner === 'string' && r.owner !== '' ? r.owner : undefined;
  if (owner === undefined) return {};
  return typeof r.tenant === 'string' && r.tenant !== '' ? { owner, tenant: r.tenant } : { owner };
}

export class OwnedFileStore extends FileStore {
  private readonly quotas: QuotaGate | undefined;

  constructor({ quotas, ...options }: OwnedFileStoreOptions) {
    super(options);
    this.quotas = quotas && new QuotaGate(quotas, new FileTenantUsage(this));
  }

  override async create(upload: Upload): Promise<Upload> {
    const principal = currentRequest()?.principal;
    if (!this.quotas) return this.createOwned(upload, principal);
    // The file store offers no concatenation: every creation counts.
    return this.quotas.admit(principal, upload.size, true, () =>
      this.createOwned(upload, principal),
    );
  }

  private async createOwned(upload: Upload, principal: Principal | undefined): Promise<Upload> {
    const ownership = ownershipOf(principal);
    // The record is a copy: the Upload @tus/server goes on with carries no owner.
    const record = Object.assign(Object.create(Object.getPrototypeOf(upload)), upload, ownership);
    const created = await super.create(record as Upload);
    upload.storage = created.storage;
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    await this.assertMayUse(id);
    return super.getUpload(id);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    await this.assertMayUse(id);
    return super.write(readable, id, offset);
  }

  override async remove(id: string): Promise<void> {
    await this.assertMayUse(id);
    return super.remove(id);
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    await this.assertMayUse(id);
    await this.quotas?.checkSize(currentRequest()?.principal, length);
    return super.declareUploadLength(id, length);
  }

  /**
   * ERRORS.FILE_NOT_FOUND unless the request's principal may use the upload. No record:
   * left to FileStore, which answers a missing upload its own way. No principal (an open
   * server, the expiration sweep): not checked.
   */
  private async assertMayUse(id: string): Promise<void> {
    const principal = currentRequest()?.principal;
    if (principal === undefined) return;
    const record = await this.configstore.get(id);
    if (record !== undefined) assertMayUse(ownershipInRecord(record), principal);
  }
}
