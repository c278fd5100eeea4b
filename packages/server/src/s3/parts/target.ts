// Which multipart upload an upload's parts go to, and under which part numbers. Usually
// its own, from part 1; an adopted partial's go into its final's, shifted so that the
// final needs no copy (s3/concat/direct-final.ts). Everything that writes or lists parts asks here,
// so the rest of the store keeps counting an upload's parts from 1.
import { adoptionOf, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { capacityOf, partCount } from './arithmetic.js';

export interface MultipartTarget {
  key: string;
  uploadId: string;
  /** The target's part number of the upload's part 1. */
  firstPart: number;
  /** How many of the target's parts belong to the upload (from firstPart on). */
  parts: number;
}

/** The upload's multipart target; undefined for a one-part upload (no multipart upload). */
export function multipartTarget(prefix: string, info: UploadInfo): MultipartTarget | undefined {
  const parts = partCount(info.size ?? capacityOf(info.partSize), info.partSize);
  const adopted = adoptionOf(info);
  if (adopted) {
    return {
      key: objectKey(prefix, adopted.finalId),
      uploadId: adopted.uploadId,
      firstPart: adopted.firstPart,
      parts,
    };
  }
  if (info.uploadId === undefined) return undefined;
  return { key: objectKey(prefix, info.id), uploadId: info.uploadId, firstPart: 1, parts };
}
