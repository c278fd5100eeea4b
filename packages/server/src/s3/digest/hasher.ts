// The upload's running SHA-256 (hash-wasm): its state is saved with each durable write
// (s3/digest/state.ts) and loaded by whichever request, on whichever instance, continues.
import { createSHA256, type IHasher } from 'hash-wasm';

export class UploadHash {
  private constructor(private readonly hasher: IHasher) {}

  /** A hash continuing `saved` (a state from save()), or of nothing yet. */
  static async start(saved?: Uint8Array): Promise<UploadHash> {
    const hasher = await createSHA256();
    if (saved) hasher.load(saved);
    else hasher.init();
    return new UploadHash(hasher);
  }

  update(bytes: Uint8Array): void {
    this.hasher.update(bytes);
  }

  /** The state after every byte so far (a copy: later updates do not change it). */
  save(): Uint8Array {
    return Uint8Array.from(this.hasher.save());
  }

  load(saved: Uint8Array): void {
    this.hasher.load(saved);
  }

  /** The digest (hex) of the bytes so far; the running state is kept. */
  hex(): string {
    const state = this.hasher.save();
    const hex = this.hasher.digest('hex');
    this.hasher.load(state);
    return hex;
  }
}

/** The SHA-256 (hex) of the bytes a saved state covers. */
export async function digestOf(saved: Uint8Array | undefined): Promise<string> {
  return (await UploadHash.start(saved)).hex();
}
