// Between a sealed creation (s3/sealed/seal.ts) and the info record it stands for. Pure.
import { isDeepStrictEqual } from 'node:util';
import type { UploadInfo } from '../info.js';
import type { SealedCreation } from './seal.js';

/** The info of the upload sealed in `id`: what its creation would have written. */
export function infoOfSealed(id: string, c: SealedCreation): UploadInfo {
  const info: UploadInfo = {
    version: 1,
    id,
    size: c.size,
    metadata: c.metadata,
    partSize: c.partSize,
    createdAt: new Date(c.createdAt).toISOString(),
  };
  if (c.metadata === undefined) delete info.metadata;
  if (c.owner !== undefined) info.owner = c.owner;
  if (c.tenant !== undefined) info.tenant = c.tenant;
  return info;
}

/**
 * Whether `info`, as the creation built it, is exactly what its id seals and nothing more:
 * no multipart upload, digest, challenge or concatenation, which a sealed id cannot carry.
 */
export function isSealedAs(info: UploadInfo, c: SealedCreation): boolean {
  const { uploadId, digest, instant, concat, announcedLength, completedAt, terminated } = info;
  const extras = [uploadId, digest, instant, concat, announcedLength, completedAt, terminated];
  return (
    extras.every((x) => x === undefined) &&
    // As stored: a field set to undefined is no field.
    isDeepStrictEqual(JSON.parse(JSON.stringify(info)), infoOfSealed(info.id, c))
  );
}

/** The record that says the upload of a sealed id was terminated; it expires as the id. */
export function tombstoneOf(info: UploadInfo): UploadInfo {
  return {
    version: 1,
    id: info.id,
    size: info.size,
    partSize: info.partSize,
    createdAt: info.createdAt,
    terminated: true,
  };
}
