// One listing of everything staged for an upload: segments (s3/staging/segments.ts), pending parts
// (s3/staging/pending.ts) and unverified marks (s3/staging/marks.ts) share the prefix <id>. so a
// single ListObjectsV2 finds them all.
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseStagingKey, stagingPrefix } from '../keys.js';
import type { HashState, StoredSegment, UnverifiedRange } from '../state/progress.js';

export interface Staged {
  segments: StoredSegment[];
  pending: string[];
  unverified: UnverifiedRange[];
  /** Hash states of PATCHes that ended on a part boundary (s3/digest/state.ts). */
  hashes: HashState[];
}

export async function listStaged(
  client: S3Client,
  bucket: string,
  prefix: string,
  id: string,
): Promise<Staged> {
  const out: Staged = { segments: [], pending: [], unverified: [], hashes: [] };
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: stagingPrefix(prefix, id),
        ContinuationToken: token,
      }),
    );
    for (const obj of res.Contents ?? []) {
      const key = obj.Key;
      const kind = key ? parseStagingKey(prefix, id, key) : undefined;
      if (!key || !kind) continue;
      if (kind.kind === 'segment')
        out.segments.push({
          key,
          offset: kind.offset,
          size: obj.Size ?? 0,
          generation: kind.generation,
        });
      else if (kind.kind === 'pending') out.pending.push(key);
      else if (kind.kind === 'hash') out.hashes.push({ key, ...kind });
      else out.unverified.push({ key, from: kind.from, to: kind.to, generation: kind.generation });
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Every key of a listing, for deletion. */
export function stagedKeys(s: Staged): string[] {
  return [
    ...s.segments.map((x) => x.key),
    ...s.pending,
    ...s.unverified.map((x) => x.key),
    ...s.hashes.map((x) => x.key),
  ];
}

/** Deletes keys in batches of 1000 (DeleteObjects' limit). */
export async function deleteKeys(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}
