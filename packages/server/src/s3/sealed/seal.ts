// Sealed ids: an upload id that carries its own creation, encrypted and authenticated with
// a key only the server knows (s3/sealed/seal-key.ts). A POST without a body (what
// tus-js-client sends before its PATCH) then writes nothing to S3: whoever asks for the
// upload later opens the id and knows its size, metadata, owner and creation time. The
// PATCH that brings its bytes writes the object with the info folded in (s3/folded-info.ts), so a
// small file costs one S3 request, not two. Pure: encoding and decoding only.
//
// AES-256-GCM: the metadata (file names) stays private in URLs and logs, and a client
// cannot forge or alter an id without the key (the tag fails).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** What a creation leaves in its sealed id. */
export interface SealedCreation {
  size: number;
  /** ms since the epoch. */
  createdAt: number;
  partSize: number;
  metadata?: Record<string, string | null>;
  owner?: string;
  tenant?: string;
}

/** Sealed ids start with it; random ids are hex, foldable ones start with `s`. */
const MARK = 't';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SEAL_KEY_BYTES = 32;
/** Longest sealed id: a creation whose id would be longer is written to S3 as before. */
export const SEALED_ID_MAX = 320;
const SEALED_ID = new RegExp(`^${MARK}[A-Za-z0-9_-]{40,${SEALED_ID_MAX - 1}}$`);
// Binds a tag to this use of the key, so nothing else sealed with it reads as an id.
const AAD = Buffer.from('tus-s3 sealed upload id v1');

/** An id that has the shape of a sealed one (it may still not open). */
export function isSealedId(id: string): boolean {
  return SEALED_ID.test(id);
}

/** The id of `creation`, or undefined when it would be longer than SEALED_ID_MAX. */
export function sealId(key: Buffer, creation: SealedCreation): string | undefined {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(AAD);
  const plain = Buffer.from(JSON.stringify(compact(creation)), 'utf-8');
  const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  const id = `${MARK}${sealed.toString('base64url')}`;
  return id.length <= SEALED_ID_MAX ? id : undefined;
}

/** The creation sealed in `id`, or undefined when it is not one this key sealed. */
export function openId(key: Buffer, id: string): SealedCreation | undefined {
  if (!isSealedId(id)) return undefined;
  const text = id.slice(MARK.length);
  const sealed = Buffer.from(text, 'base64url');
  // One id per sealing: the spare bits of a last character would make others that decode alike.
  if (sealed.length <= NONCE_BYTES + TAG_BYTES || sealed.toString('base64url') !== text) {
    return undefined;
  }
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(AAD).setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    return expand(JSON.parse(plain.toString('utf-8')));
  } catch {
    return undefined;
  }
}

interface Compact {
  z: number;
  c: number;
  p: number;
  m?: Record<string, string | null>;
  o?: string;
  t?: string;
}

// Short field names: every byte of them is in the URL, a third more in base64.
function compact(c: SealedCreation): Compact {
  const out: Compact = { z: c.size, c: c.createdAt, p: c.partSize };
  if (c.metadata !== undefined) out.m = c.metadata;
  if (c.owner !== undefined) out.o = c.owner;
  if (c.tenant !== undefined) out.t = c.tenant;
  return out;
}

/** Authenticated, so only ever what sealId wrote; checked anyway, as any parsed input is. */
function expand(raw: unknown): SealedCreation | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<Compact>;
  const positive = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
  if (!positive(r.z) || !positive(r.c) || !positive(r.p)) return undefined;
  const out: SealedCreation = { size: r.z, createdAt: r.c, partSize: r.p };
  if (r.m !== undefined) {
    if (typeof r.m !== 'object' || r.m === null) return undefined;
    out.metadata = r.m;
  }
  if (typeof r.o === 'string') out.owner = r.o;
  if (typeof r.t === 'string') out.tenant = r.t;
  return out;
}
