/**
 * The Merkle–Damgård framing MD5 and SHA-1 share: input cut into 64-byte blocks, the
 * message length (in bits) appended after 0x80 and zero padding. Subclasses supply the
 * compression function and the length's byte order (MD5 little-endian, SHA-1 big-endian).
 */
export abstract class BlockHash {
  private block = new Uint8Array(64);
  private blockLen = 0;
  private total = 0;

  protected abstract readonly lengthLittleEndian: boolean;
  protected abstract compress(data: Uint8Array, at: number): void;

  update(data: Uint8Array): this {
    let i = 0;
    this.total += data.length;
    // Whole blocks straight from the input; only the remainder is copied.
    if (this.blockLen > 0) {
      const n = Math.min(64 - this.blockLen, data.length);
      this.block.set(data.subarray(0, n), this.blockLen);
      this.blockLen += n;
      i = n;
      if (this.blockLen < 64) return this;
      this.compress(this.block, 0);
      this.blockLen = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.compress(data, i);
    if (i < data.length) {
      this.block.set(data.subarray(i), 0);
      this.blockLen = data.length - i;
    }
    return this;
  }

  /** Appends the padding and length; the state then holds the digest. */
  protected finish(): void {
    const bits = this.total * 8;
    const pad = new Uint8Array((this.blockLen < 56 ? 56 : 120) - this.blockLen + 8);
    pad[0] = 0x80;
    const v = new DataView(pad.buffer);
    const low = bits >>> 0;
    const high = Math.floor(bits / 0x100000000);
    if (this.lengthLittleEndian) {
      v.setUint32(pad.length - 8, low, true);
      v.setUint32(pad.length - 4, high, true);
    } else {
      v.setUint32(pad.length - 8, high);
      v.setUint32(pad.length - 4, low);
    }
    const total = this.total;
    this.update(pad);
    this.total = total;
  }
}
