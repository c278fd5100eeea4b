// One staged object written to S3: its bytes after a head of staged segments streamed from
// S3 (if any), with the Content-MD5 of both, tried again as a buffered request would be.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sendWithFreshBody } from '../fresh-body-retry.js';
import { type Bytes, byteLength } from '../memory/bytes.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import { bodyAfter, md5After, type StagedRun } from './staged-body.js';

export interface StagedPut {
  client: S3Client;
  bucket: string;
  key: string;
  partChecksum: PartChecksum;
  bytes: Bytes;
  head?: StagedRun;
  /** User metadata the object carries (a segment's hash state, s3/digest/state.ts). */
  metadata?: Record<string, string>;
  /** Runs right before each attempt (a fence check). */
  before?: () => void;
}

/** Writes the object; returns its size. */
export async function putStaged(put: StagedPut): Promise<number> {
  const { client, bucket, key, bytes, head } = put;
  const size = (head?.size ?? 0) + byteLength(bytes);
  // Hashing a head reads it from S3 once before the write streams it again.
  const md5 = await md5After(put.partChecksum, head, bytes);
  await sendWithFreshBody(
    client,
    () => bodyAfter(head, bytes),
    (Body, abortSignal) =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body,
          ContentLength: size,
          ContentMD5: md5,
          Metadata: put.metadata,
        }),
        { abortSignal },
      ),
    put.before,
  );
  return size;
}
