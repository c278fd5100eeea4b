// The upload's running SHA-256 (hash-wasm), and beside it, for uploads whose S3 multipart
// upload verifies a full-object CRC64NVME (s3/digest/full-object-crc.ts), that CRC: their
// state is saved with each durable write (s3/digest/state.ts) and loaded by whichever
// request, on whichever instance, continues. Both go into one state, so one write makes
// both durable at the same offset.
import type { IHasher } from 'hash-wasm';

/** CRC-64/NVME is CRC-64/XZ's parameters with this (reflected) polynomial. */
const CRC64NVME_POLYNOMIAL = '9a6c9329ac4bc9b5';

/** The whole-upload values a hash state gives. */
export interface UploadDigests {
  /** SHA-256, hex. */
  sha256: string;
  /** CRC64NVME, base64 (as S3's x-amz-checksum-crc64nvme), when the state carries it. */
  crc64nvme?: string;
}

export class UploadHash {
  private constructor(
    private readonly sha: IHasher,
    private readonly crc: IHasher | undefined,
    private readonly shaStateLength: number,
  ) {}

  /**
   * A hash continuing `saved` (a state from save()), or of nothing yet. `withCrc` must be
   * the same for every state of an upload (the info record says: `digest.fullObjectCrc`).
   */
  static async start(saved?: Uint8Array, withCrc = false): Promise<UploadHash> {
    // Loaded by the first hashed upload: hash-wasm is ~8 MiB of RSS (every algorithm's wasm).
    const { createCRC64, createSHA256 } = await import('hash-wasm');
    const sha = await createSHA256();
    sha.init();
    const shaStateLength = sha.save().length;
    const crc = withCrc ? await createCRC64(CRC64NVME_POLYNOMIAL) : undefined;
    crc?.init();
    const hash = new UploadHash(sha, crc, shaStateLength);
    if (saved) hash.load(saved);
    return hash;
  }

  update(bytes: Uint8Array): void {
    this.sha.update(bytes);
    this.crc?.update(bytes);
  }

  /** The state after every byte so far (a copy: later updates do not change it). */
  save(): Uint8Array {
    const sha = this.sha.save();
    if (!this.crc) return Uint8Array.from(sha);
    const crc = this.crc.save();
    const out = new Uint8Array(sha.length + crc.length);
    out.set(sha, 0);
    out.set(crc, sha.length);
    return out;
  }

  load(saved: Uint8Array): void {
    if (!this.crc) {
      this.sha.load(saved);
      return;
    }
    if (saved.length <= this.shaStateLength) {
      throw new Error('hash state carries no CRC64NVME for an upload that needs it');
    }
    this.sha.load(saved.subarray(0, this.shaStateLength));
    this.crc.load(saved.subarray(this.shaStateLength));
  }

  /** The SHA-256 (hex) of the bytes so far; the running state is kept. */
  hex(): string {
    return finalOf(this.sha, 'hex');
  }

  /** The digests of the bytes so far; the running state is kept. */
  digests(): UploadDigests {
    const sha256 = this.hex();
    if (!this.crc) return { sha256 };
    return { sha256, crc64nvme: Buffer.from(finalOf(this.crc, 'binary')).toString('base64') };
  }
}

function finalOf(hasher: IHasher, form: 'hex'): string;
function finalOf(hasher: IHasher, form: 'binary'): Uint8Array;
function finalOf(hasher: IHasher, form: 'hex' | 'binary'): string | Uint8Array {
  const state = hasher.save();
  const out = form === 'hex' ? hasher.digest('hex') : hasher.digest('binary');
  hasher.load(state);
  return out;
}

/** The digests of the bytes a saved state covers. */
export async function digestsOf(
  saved: Uint8Array | undefined,
  withCrc = false,
): Promise<UploadDigests> {
  return (await UploadHash.start(saved, withCrc)).digests();
}
