// When a declared whole-file digest is taken: at creation, or on a PATCH while the server
// can still verify it (it hashes the upload already, or nothing has been received yet).
import { TusError } from '../../errors.js';
import type { DigestInfo, UploadInfo } from '../info.js';
import type { UploadState } from '../state/upload-state.js';

/**
 * The info's digest for an upload created with `declared` (hex), under `hashAll`; with
 * `fullObjectCrc` (which hashes every upload) S3 verifies its CRC64NVME too.
 */
export function digestAtCreation(
  declared: string | undefined,
  hashAll: boolean,
  fullObjectCrc = false,
): DigestInfo | undefined {
  const digest: DigestInfo | undefined =
    declared !== undefined ? { declared } : hashAll || fullObjectCrc ? {} : undefined;
  return digest && fullObjectCrc ? { ...digest, fullObjectCrc } : digest;
}

/**
 * The info after a PATCH declaring `declared`: unchanged when it repeats the declaration;
 * 400 when it contradicts it, or when bytes arrived that the server did not hash.
 */
export function declaredOnPatch(state: UploadState, declared: string): UploadInfo {
  const { info, progress } = state;
  const before = info.digest?.declared;
  if (before === declared) return info;
  if (before !== undefined) {
    throw new TusError(400, 'Repr-Digest differs from the digest declared for this upload');
  }
  if (info.digest === undefined && progress.offset > 0) {
    throw new TusError(
      400,
      'Repr-Digest must come with the creation or the first PATCH of this upload',
    );
  }
  return { ...info, digest: { ...info.digest, declared } };
}
