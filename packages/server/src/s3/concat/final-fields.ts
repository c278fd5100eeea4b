// What every kind of final (s3/concat/final.ts) works out and answers alike: its length from
// its partials, and the fields of the Upload that @tus/server answers a final's POST with.
import type { Upload } from '@tus/utils';
import { TusError } from '../../errors.js';
import type { UploadInfo } from '../info.js';
import { S3_MAX_OBJECT_SIZE } from '../parts/arithmetic.js';
import type { UploadState } from '../state/upload-state.js';
import { storageOf } from '../state/view.js';
import type { Created, FinalDeps } from './deps.js';

/** The length a final naming this partial gets from it (unknown while deferred: 400). */
export function partialLength({ info }: UploadState): number {
  if (info.size === undefined) {
    throw new TusError(400, `partial upload ${info.id} has a deferred length`);
  }
  return info.size;
}

/** The partials' total: a declared Upload-Length must match it (400), S3 must hold it (413). */
export function finalLength(upload: Upload, sizes: readonly number[]): number {
  const size = sizes.reduce((a, b) => a + b, 0);
  if (upload.size !== undefined && upload.size !== size) {
    throw new TusError(400, `Upload-Length ${upload.size} is not the partials' total ${size}`);
  }
  if (size > S3_MAX_OBJECT_SIZE) {
    throw new TusError(413, 'the partial uploads exceed the S3 object limit of 5 TiB');
  }
  return size;
}

/** A final created unfinished (direct or waiting): no byte yet, it expires as unfinished. */
export function answerUnfinished(deps: FinalDeps, upload: Upload, info: UploadInfo): Created {
  upload.offset = 0;
  upload.storage = storageOf(deps.ctx, info.id);
  upload.creation_date = info.createdAt;
  return { upload, info };
}

/**
 * The same final POST again (s3/concat/named-partials.ts): answered with the unfinished
 * final it created. The new id @tus/server drew goes unused.
 */
export function answerRepeat(deps: FinalDeps, upload: Upload, final: UploadInfo): Created {
  deps.ctx.log.info({ id: final.id }, 'final POST repeated: answered with its final');
  upload.id = final.id;
  upload.size = final.size;
  upload.metadata = final.metadata;
  return answerUnfinished(deps, upload, final);
}
