// AWS's full-object CRC64NVME (the aws dialect only: RGW lacks it): a multipart upload
// created with ChecksumType FULL_OBJECT completes only with the CRC of the assembled
// bytes, and a PutObject carrying x-amz-checksum-crc64nvme only with its body's.
import { createCRC64 } from 'hash-wasm';
import { badRequest } from './errors.js';
import type { S3State } from './state.js';

async function crc64nvme(bytes: Buffer): Promise<string> {
  const h = await createCRC64('9a6c9329ac4bc9b5');
  h.init();
  h.update(bytes);
  return Buffer.from(h.digest('binary')).toString('base64');
}

/** Whether CreateMultipartUpload's input asks S3 to verify the whole object. */
export function wantsFullObject(
  s: S3State,
  input: { ChecksumAlgorithm?: string; ChecksumType?: string },
): boolean {
  if (s.dialect !== 'aws' || input.ChecksumType === undefined) return false;
  if (input.ChecksumType !== 'FULL_OBJECT' || input.ChecksumAlgorithm !== 'CRC64NVME') {
    throw badRequest('InvalidRequest', 'the fake supports FULL_OBJECT CRC64NVME only');
  }
  return true;
}

/** Throws BadDigest unless `declared` is the CRC64NVME of `bytes` (aws dialect). */
export async function checkCrc64nvme(
  s: S3State,
  bytes: Buffer,
  declared: string | undefined,
  required: boolean,
): Promise<void> {
  if (s.dialect !== 'aws') return;
  if (declared === undefined) {
    if (required) throw badRequest('InvalidRequest', 'full-object CRC64NVME missing');
    return;
  }
  if ((await crc64nvme(bytes)) !== declared) {
    throw badRequest('BadDigest', 'the CRC64NVME you specified did not match the calculated');
  }
}
