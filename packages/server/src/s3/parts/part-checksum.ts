// What proves to S3 that a body arrived intact. RGW (and AWS) verify Content-MD5 and
// refuse a mismatch with BadDigest; RGW ignores x-amz-checksum-* headers, so MD5 is the
// one check every S3 honours. Hashing every part is a large share of the server's CPU on a
// big upload (the server README says how much); 'none' leaves integrity on the wire to
// TCP/TLS (an https endpoint authenticates every byte already), which is what
// @tus/s3-store and lib-storage do.
export type PartChecksum = 'md5' | 'none';

export const PART_CHECKSUMS: readonly PartChecksum[] = ['md5', 'none'];
