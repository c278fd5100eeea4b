// CRC-32C (Castagnoli), which node:zlib does not offer, from hash-wasm (WebAssembly).
// hash-wasm is loaded on the first request that asks for crc32c (loadCrc32c): it carries
// every algorithm's wasm, ~8 MiB of RSS a server would otherwise hold from its start.
import type { IHasher } from 'hash-wasm';

const CASTAGNOLI = 0x82f63b78;

// One wasm instance serves every digester: each swaps its state in and out around an
// update (save/load copy a few bytes), so a digester is made synchronously where a request
// needs it, and synchronous update/digest never interleave.
let shared: { hasher: IHasher; initial: Uint8Array } | undefined;
let loading: Promise<void> | undefined;

/** Makes Crc32cDigester usable; cheap once done. */
export function loadCrc32c(): Promise<void> {
  loading ??= import('hash-wasm')
    .then(({ createCRC32 }) => createCRC32(CASTAGNOLI))
    .then((hasher) => {
      shared = { hasher, initial: hasher.init().save() };
    })
    .catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

export class Crc32cDigester {
  private readonly wasm: IHasher;
  private state: Uint8Array;

  constructor() {
    if (!shared) throw new Error('crc32c used before loadCrc32c() resolved');
    this.wasm = shared.hasher;
    this.state = shared.initial;
  }

  update(chunk: Uint8Array): void {
    this.wasm.load(this.state);
    this.wasm.update(chunk);
    this.state = this.wasm.save();
  }

  /** Big-endian 4 bytes, as Upload-Checksum carries it. */
  digest(): Buffer {
    this.wasm.load(this.state);
    return Buffer.from(this.wasm.digest('binary'));
  }
}
