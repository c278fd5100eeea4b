// An IETF draft upload keeps its tus length deferred until the client says it is complete
// (front/draft/): the draft lets an upload reach its length and stay open. The length it
// announced before that is recorded here as the most the upload may take and the only
// length it may later declare; its part size is chosen from it (pure).
import { ERRORS, TusError } from '../errors.js';
import type { UploadInfo } from './info.js';
import { capacityOf, S3_MAX_OBJECT_SIZE } from './parts/arithmetic.js';

/** Refuses an announced length no upload of this server may have (at creation). */
export function checkAnnouncedAtCreation(announced: number, maxSize: number | undefined): void {
  if (maxSize !== undefined && announced > maxSize) throw ERRORS.ERR_MAX_SIZE_EXCEEDED;
  if (announced > S3_MAX_OBJECT_SIZE) {
    throw new TusError(413, 'Upload-Length exceeds the S3 object limit of 5 TiB');
  }
}

/** `info` with `announced` recorded (the same info when it changes nothing), or a refusal. */
export function withAnnouncedLength(
  info: UploadInfo,
  announced: number,
  offset: number,
  maxSize: number | undefined,
): UploadInfo {
  if (info.size !== undefined || info.announcedLength === announced) return info;
  checkDeclaredLength(info, announced);
  checkAnnouncedAtCreation(announced, maxSize);
  if (announced > capacityOf(info.partSize)) {
    throw new TusError(413, 'Upload-Length exceeds what this upload can hold');
  }
  if (announced < offset) throw new TusError(400, 'Upload-Length is below the offset');
  return { ...info, announcedLength: announced };
}

/** Refuses a length other than the one announced. */
export function checkDeclaredLength(info: UploadInfo, length: number): void {
  const { announcedLength } = info;
  if (announcedLength !== undefined && length !== announcedLength) {
    throw new TusError(
      400,
      `Upload-Length ${length} is not the announced length ${announcedLength}`,
    );
  }
}

/** Refuses, before its first byte, a body that would pass the announced length. */
export function checkWithinAnnounced(
  info: UploadInfo,
  offset: number,
  contentLength: number | undefined,
): void {
  const { announcedLength } = info;
  if (info.size !== undefined || announcedLength === undefined || contentLength === undefined) {
    return;
  }
  if (offset + contentLength > announcedLength) throw ERRORS.ERR_SIZE_EXCEEDED;
}
