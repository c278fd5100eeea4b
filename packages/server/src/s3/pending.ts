// Staging of whole parts received under an Upload-Checksum that is not verified yet.
// S3 cannot take a part back out of a multipart upload, and any part there counts toward
// the offset (s3/offset.ts), so an unverified part must not be uploaded as a part. It is
// written as an object under <id>.pend.<token>.<part> instead (streamed, bounded memory),
// and becomes a part by UploadPartCopy only after the whole request body matched its
// checksum. A crash at any point leaves only objects that never count; they are deleted
// when the request ends, or with the upload on completion or termination.
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { copyPart, type PartTarget } from './copy-part.js';
import { pendingKey, pendingPrefix } from './keys.js';
import type { StoredPart } from './offset.js';

export interface PendingPart {
  key: string;
  partNumber: number;
  size: number;
}

export class PendingParts {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  /** A token for one request's pending parts. */
  newToken(): string {
    return randomBytes(6).toString('hex');
  }

  async put(id: string, token: string, partNumber: number, body: Buffer): Promise<PendingPart> {
    const key = pendingKey(this.prefix, id, token, partNumber);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    return { key, partNumber, size: body.length };
  }

  /** Makes a verified pending part a real part of the multipart upload. */
  commit(target: Omit<PartTarget, 'partNumber'>, part: PendingPart): Promise<StoredPart> {
    return copyPart(
      this.client,
      { ...target, partNumber: part.partNumber },
      part.key,
      0,
      part.size,
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  /** Every pending object of an upload, from any request (for completion and termination). */
  async list(id: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: pendingPrefix(this.prefix, id),
          ContinuationToken: token,
        }),
      );
      for (const obj of res.Contents ?? []) if (obj.Key) keys.push(obj.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
