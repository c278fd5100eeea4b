// What proves to S3 that a body arrived intact. RGW (and AWS) verify Content-MD5 and
// refuse a mismatch with BadDigest; RGW ignores x-amz-checksum-* headers, so MD5 is the
// one check every S3 honours. Hashing every part is a large share of the server's CPU on a
// big upload (the server README says how much); 'none' leaves integrity on the wire to
// TCP/TLS (an https endpoint authenticates every byte already), which is what
// @tus/s3-store and lib-storage do.
import { createHash } from 'node:crypto';

export type PartChecksum = 'md5' | 'none';

export const PART_CHECKSUMS: readonly PartChecksum[] = ['md5', 'none'];

/** The Content-MD5 header for a body under `mode`; undefined when bodies go unchecked. */
export function contentMd5(mode: PartChecksum, body: Uint8Array): string | undefined {
  return mode === 'md5' ? createHash('md5').update(body).digest('base64') : undefined;
}
