// Staging of whole parts received under an Upload-Checksum that is not verified yet, for
// uploads whose length is deferred. (Known-length uploads stream such parts straight into
// the multipart upload under a mark, s3/staging/marks.ts; a deferred upload cannot, because a
// part a mismatch left behind could lie past the length declared later, and a strict S3
// such as RGW refuses to complete while any uploaded part is left out.) Each part is
// written as an object <id>.pend.<token>.<part> (streamed, bounded memory) and becomes a
// part by UploadPartCopy only after the whole body matched its checksum. A crash at any
// point leaves only objects that never count; they are deleted when the request ends, or
// with the upload on completion or termination.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { pendingKey } from '../keys.js';
import type { Bytes } from '../memory/bytes.js';
import { copyPart, type PartTarget } from '../parts/copy.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import type { StoredPart } from '../state/progress.js';
import { deleteKeys } from './listing.js';
import type { StagedRun } from './staged-body.js';
import { putStaged } from './staged-put.js';

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
    private readonly partChecksum: PartChecksum = 'md5',
  ) {}

  /** A token for one request's pending parts. */
  newToken(): string {
    return randomBytes(6).toString('hex');
  }

  /** Stages part `partNumber`: `head`'s segments streamed from S3 if any, then `body`. */
  async put(
    id: string,
    token: string,
    partNumber: number,
    body: Bytes,
    head?: StagedRun,
  ): Promise<PendingPart> {
    const key = pendingKey(this.prefix, id, token, partNumber);
    const { client, bucket, partChecksum } = this;
    const size = await putStaged({ client, bucket, key, partChecksum, bytes: body, head });
    return { key, partNumber, size };
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

  delete(keys: readonly string[]): Promise<void> {
    return deleteKeys(this.client, this.bucket, keys);
  }
}
