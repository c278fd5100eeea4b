// How an upload looks to the tus layer: the Upload that @tus/server's handlers see, and
// what a response about it says (the store's entry points hand that to the front).
import { Upload } from '@tus/utils';
import type { ConcatRequest } from '../../extensions/concatenation.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import type { UploadState } from './upload-state.js';

export function toUpload(ctx: StoreContext, state: UploadState): Upload {
  const { info, progress } = state;
  return new Upload({
    id: info.id,
    size: info.size,
    offset: progress.offset,
    metadata: info.metadata,
    // A finished upload no longer expires, so it carries no creation date for the
    // handlers' expiration checks; a finished partial still does (see isExpired).
    creation_date:
      info.completedAt === undefined || info.concat?.role === 'partial'
        ? info.createdAt
        : undefined,
    storage: storageOf(ctx, info.id),
  });
}

export function storageOf(ctx: StoreContext, id: string): Upload['storage'] {
  return { type: 's3', path: objectKey(ctx.prefix, id), bucket: ctx.bucket };
}

/** What a response says about an upload, beyond @tus/server's headers. */
export interface UploadReply {
  /** Its S3 part size (Tus-S3-Part-Size). */
  partSize: number;
  /** Its concat role (Upload-Concat). */
  concat: ConcatRequest | undefined;
  /** The length announced while its tus length is deferred (s3/announced-length.ts). */
  announcedLength: number | undefined;
  /** A final not complete yet: HEAD answers no Upload-Offset (tus spec). */
  unfinishedFinal: boolean;
  /** A finished upload's verified SHA-256 (hex), if computed. */
  digest: string | undefined;
}

export function uploadReply(info: UploadInfo): UploadReply {
  return {
    partSize: info.partSize,
    announcedLength: info.size === undefined ? info.announcedLength : undefined,
    concat:
      info.concat?.role === 'final'
        ? { role: 'final', partials: info.concat.partials.map((p) => p.id) }
        : info.concat?.role === 'partial'
          ? { role: 'partial' }
          : undefined,
    unfinishedFinal: info.concat?.role === 'final' && info.completedAt === undefined,
    digest: info.completedAt !== undefined ? info.digest?.sha256 : undefined,
  };
}
