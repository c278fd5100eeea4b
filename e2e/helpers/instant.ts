// Instant upload (秒传) over raw HTTP, as its e2e tests drive it: the creation that asks
// for a challenge, the proof a holder of the bytes computes (the client package's own
// parsing and proof, so the wire format is checked end to end), and the proof PATCH.
import { parseChallengeHeader } from '../../packages/client/src/instant/challenge.js';
import { computeInstantProof } from '../../packages/client/src/instant/proof.js';
import { as } from './bearer.js';

export const reprDigest = (hex: string) =>
  `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`;

/** POST with Upload-Instant: ?1, Upload-Length and Repr-Digest (the raw answer). */
export function createInstant(
  bearer: string | undefined,
  collection: string,
  size: number,
  sha256: string,
  headers: Record<string, string | undefined> = {},
): Promise<Response> {
  return as(bearer, collection, 'POST', {
    'Upload-Length': String(size),
    'Repr-Digest': reprDigest(sha256),
    'Upload-Instant': '?1',
    ...headers,
  });
}

/** The upload URL a creation answered. */
export function locationOf(res: Response, collection: string): string {
  if (res.status !== 201) throw new Error(`create: ${res.status}`);
  return new URL(res.headers.get('location') ?? '', collection).toString();
}

/** The proof for the challenge header over bytes `read(from, to)` gives. */
export async function proofFor(
  header: string | null,
  size: number,
  read: (from: number, to: number) => Uint8Array,
): Promise<Uint8Array> {
  const challenge = parseChallengeHeader(header, size);
  if (!challenge) throw new Error(`no challenge in ${header}`);
  return computeInstantProof(challenge, {
    read: async (from, to) => ({ body: read(from, to), size: to - from, last: to === size }),
  });
}

/** PATCH at offset 0 with Upload-Instant-Proof and no body. */
export function provePatch(
  bearer: string | undefined,
  url: string,
  proof: Uint8Array,
  headers: Record<string, string | undefined> = {},
): Promise<Response> {
  return as(bearer, url, 'PATCH', {
    'Upload-Offset': '0',
    'Content-Type': 'application/offset+octet-stream',
    'Upload-Instant-Proof': `:${Buffer.from(proof).toString('base64')}:`,
    ...headers,
  });
}

/** Status, header names (sorted) and body length: what must not tell two answers apart. */
export async function answerShape(
  res: Response,
): Promise<{ status: number; names: string[]; bodyLength: number }> {
  const names = [...new Set([...res.headers.keys()].map((k) => k.toLowerCase()))].sort();
  return { status: res.status, names, bodyLength: (await res.arrayBuffer()).byteLength };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
