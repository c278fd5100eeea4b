// CRC-32C (Castagnoli), which node:zlib does not offer, from hash-wasm (WebAssembly).
import { createCRC32, type IHasher } from 'hash-wasm';

const CASTAGNOLI = 0x82f63b78;

// One wasm instance serves every digester: each swaps its state in and out around an
// update (save/load copy a few bytes), so a digester is made synchronously where a request
// needs it, and synchronous update/digest never interleave.
const shared: IHasher = await createCRC32(CASTAGNOLI);
const INITIAL = shared.init().save();

export class Crc32cDigester {
  private state = INITIAL;

  update(chunk: Uint8Array): void {
    shared.load(this.state);
    shared.update(chunk);
    this.state = shared.save();
  }

  /** Big-endian 4 bytes, as Upload-Checksum carries it. */
  digest(): Buffer {
    shared.load(this.state);
    return Buffer.from(shared.digest('binary'));
  }
}
