/**
 * CRC-32 (IEEE 802.3, as zlib and the tus checksum registry use it) for platforms without
 * WebAssembly only: hash-wasm and node:zlib cover the others, and no maintained pure-JS
 * CRC-32 is among the dependencies (@noble/hashes has none).
 */

// Built on first use: uploads that never use crc32 never pay for it.
let table: Int32Array | null = null;
function crcTable(): Int32Array {
  if (table) return table;
  table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

export class Crc32 {
  private crc = -1;

  update(data: Uint8Array): this {
    const t = crcTable();
    let c = this.crc;
    for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }

  /** Big-endian 4 bytes, as Upload-Checksum carries it (base64 of the raw digest). */
  digest(): Uint8Array {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, (this.crc ^ -1) >>> 0);
    return out;
  }
}
