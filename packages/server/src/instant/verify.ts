// Whether a proof earns an instant upload: the stored challenge (consumed first, whatever
// follows), the tenant's index entry for the digest and length the challenge was made
// for, and the challenged ranges read from that entry's object. Pure apart from the
// injected I/O. Every "no" looks the same to the client (Upload-Offset: 0); the reason is
// for logs and metrics only.
import { isExpired, type StoredChallenge } from './challenge.js';
import type { IndexEntry } from './index-keys.js';
import { computeProof, proofsMatch } from './proof.js';

export interface ProofIo {
  /**
   * Removes the challenge from the upload's record and answers what was there: it must
   * be gone for good before this resolves, so a second proof finds none.
   */
  consume(): Promise<StoredChallenge | undefined>;
  /** The tenant's index entry for this digest and length (index-store.ts getEntry). */
  lookup(tenant: string, sha256: string, size: number): Promise<IndexEntry | undefined>;
  /** Bytes of the entry's object, or undefined when it is gone (index-store.ts readEntryRange). */
  readRange(entry: IndexEntry, offset: number, length: number): Promise<Uint8Array | undefined>;
  /** Deletes a stale entry (index-store.ts deleteEntry). */
  forget(tenant: string, entry: IndexEntry): Promise<void>;
  now(): number;
}

export type NoReason = 'no-challenge' | 'expired' | 'no-entry' | 'stale' | 'mismatch' | 'error';

export type ProofOutcome =
  | { instant: true; source: IndexEntry }
  | { instant: false; reason: NoReason; error?: unknown };

/**
 * Decides one proof for an upload of `tenant` (as recorded at its creation; OPEN_TENANT
 * on an open server). Only consume() may throw: it runs before anything that depends on
 * what is stored, so its failure says nothing about the content. Any later failure is a
 * "no", so an S3 error while reading existing content cannot answer differently from
 * content that is missing.
 */
export async function decideProof(
  tenant: string,
  proof: Uint8Array,
  io: ProofIo,
): Promise<ProofOutcome> {
  const challenge = await io.consume();
  if (!challenge) return { instant: false, reason: 'no-challenge' };
  if (isExpired(challenge, io.now())) return { instant: false, reason: 'expired' };
  try {
    return await check(tenant, challenge, proof, io);
  } catch (error) {
    return { instant: false, reason: 'error', error };
  }
}

async function check(
  tenant: string,
  challenge: StoredChallenge,
  proof: Uint8Array,
  io: ProofIo,
): Promise<ProofOutcome> {
  const entry = await io.lookup(tenant, challenge.sha256, challenge.size);
  if (!entry || entry.sha256 !== challenge.sha256 || entry.size !== challenge.size) {
    return { instant: false, reason: 'no-entry' };
  }
  const ranges = await Promise.all(
    challenge.offsets.map((offset) => io.readRange(entry, offset, challenge.length)),
  );
  if (ranges.some((r) => r === undefined || r.length !== challenge.length)) {
    await io.forget(tenant, entry).catch(() => undefined);
    return { instant: false, reason: 'stale' };
  }
  const expected = computeProof(Buffer.from(challenge.nonce, 'base64'), ranges as Uint8Array[]);
  return proofsMatch(expected, proof)
    ? { instant: true, source: entry }
    : { instant: false, reason: 'mismatch' };
}
