// How an upload looks to the tus layer: the Upload that @tus/server's handlers see, and
// what the response of the current request says about it.
import { Upload } from '@tus/utils';
import { currentRequest } from '../../front/request-context.js';
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

/** Tells the response layer about the request's upload (Tus-S3-Part-Size, Upload-Concat). */
export function tellRequest(info: UploadInfo): void {
  const request = currentRequest();
  if (!request) return;
  request.reply.partSize = info.partSize;
  request.reply.concat =
    info.concat?.role === 'final'
      ? { role: 'final', partials: info.concat.partials.map((p) => p.id) }
      : info.concat?.role === 'partial'
        ? { role: 'partial' }
        : undefined;
  request.reply.unfinishedFinal = info.concat?.role === 'final' && info.completedAt === undefined;
}
