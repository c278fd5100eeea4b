// S3's own check of the whole object (the store's `fullObjectChecksum: 'crc64nvme'`): the
// multipart upload is created with a full-object CRC64NVME, and completion (or a one-part
// upload's PutObject) sends the CRC this server computed over every byte it received, so S3
// refuses to publish an object whose bytes are not those bytes. AWS S3 implements it; Ceph
// RGW (16) and others that lack full-object checksums must not be given the option (the
// server README says what RGW answers).
import type { DigestInfo } from '../info.js';

export type FullObjectChecksum = 'crc64nvme';

export const FULL_OBJECT_CHECKSUMS: readonly FullObjectChecksum[] = ['crc64nvme'];

interface WithDigest {
  digest?: DigestInfo;
}

/** CreateMultipartUpload's parameters for an upload S3 verifies as a whole. */
export function multipartChecksumParams(info: WithDigest): {
  ChecksumAlgorithm?: 'CRC64NVME';
  ChecksumType?: 'FULL_OBJECT';
} {
  return info.digest?.fullObjectCrc
    ? { ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }
    : {};
}

/** CompleteMultipartUpload's: the whole object's CRC, computed while the bytes streamed. */
export function completeChecksumParams(info: WithDigest): {
  ChecksumCRC64NVME?: string;
  ChecksumType?: 'FULL_OBJECT';
} {
  const crc = requiredCrc(info);
  return crc === undefined ? {} : { ChecksumCRC64NVME: crc, ChecksumType: 'FULL_OBJECT' };
}

/** A one-part upload's PutObject: the same CRC, which S3 checks against the body. */
export function putChecksumParams(info: WithDigest): { ChecksumCRC64NVME?: string } {
  const crc = requiredCrc(info);
  return crc === undefined ? {} : { ChecksumCRC64NVME: crc };
}

function requiredCrc(info: WithDigest): string | undefined {
  if (!info.digest?.fullObjectCrc) return undefined;
  const crc = info.digest.crc64nvme;
  // Sending the object without it would publish it unchecked: a bug, never a fallback.
  if (crc === undefined) throw new Error('full-object CRC64NVME was not computed');
  return crc;
}
