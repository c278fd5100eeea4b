// Where the instant-upload index keeps its entries, and what an entry says (pure). One
// entry per tenant, digest and length, under the store's prefix: no service beside S3.
import { createHash } from 'node:crypto';

/** Ids never start with a dot, so nothing here can be taken for an upload's key (s3/keys.ts). */
const INDEX_FOLDER = '.instant/';

/**
 * The tenant of uploads created on an open server. Real tenants are never empty
 * (auth/principal.ts refuses an empty owner or tenant), so it shares no entry with one.
 */
export const OPEN_TENANT = '';

/**
 * Tenants are hashed into the key: any string (slashes, dots, 1 KiB of UTF-8) becomes a
 * fixed 64-character segment, and a listing never shows tenant names. An operator finds a
 * tenant's folder with `printf %s "$tenant" | sha256sum`.
 */
export function tenantSegment(tenant: string): string {
  return createHash('sha256').update(tenant, 'utf8').digest('hex');
}

export function indexPrefix(prefix: string): string {
  return `${prefix}${INDEX_FOLDER}`;
}

export function tenantIndexPrefix(prefix: string, tenant: string): string {
  return `${indexPrefix(prefix)}${tenantSegment(tenant)}/`;
}

/** `<prefix>.instant/<sha256hex(tenant)>/<sha256hex>.<size>`. */
export function indexKey(prefix: string, tenant: string, sha256: string, size: number): string {
  return `${tenantIndexPrefix(prefix, tenant)}${sha256}.${size}`;
}

/** An index entry: which finished object has this digest and length. */
export interface IndexEntry {
  version: 1;
  /** The object's key in the bucket. */
  key: string;
  /** The upload it belongs to. */
  uploadId: string;
  size: number;
  /** Verified whole-file SHA-256, hex. */
  sha256: string;
  /** ISO 8601: when the entry was written. */
  createdAt: string;
}

export function serializeEntry(entry: IndexEntry): string {
  return JSON.stringify(entry);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** An entry read back, checked; undefined for anything else (treated as no entry). */
export function parseEntry(text: string): IndexEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<IndexEntry>;
  const ok =
    e.version === 1 &&
    typeof e.key === 'string' &&
    e.key !== '' &&
    typeof e.uploadId === 'string' &&
    Number.isSafeInteger(e.size) &&
    (e.size as number) > 0 &&
    typeof e.sha256 === 'string' &&
    HEX64.test(e.sha256) &&
    typeof e.createdAt === 'string';
  return ok ? (e as IndexEntry) : undefined;
}
