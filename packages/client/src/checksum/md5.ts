/**
 * Incremental MD5 (RFC 1321) in plain JS. Only for Upload-Checksum against servers that ask
 * for md5: it detects transport corruption, it is not a security primitive.
 */
import { BlockHash } from './block-hash.js';

// Per-round shift amounts and the sine-derived constants of RFC 1321.
const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
  20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6,
  10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

export class Md5 extends BlockHash {
  protected readonly lengthLittleEndian = true;
  private h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
  private m = new Int32Array(16);

  digest(): Uint8Array {
    this.finish();
    const out = new Uint8Array(16);
    const ov = new DataView(out.buffer);
    for (let j = 0; j < 4; j++) ov.setInt32(j * 4, this.h[j]!, true);
    return out;
  }

  protected compress(b: Uint8Array, at: number): void {
    const m = this.m;
    for (let t = 0; t < 16; t++) {
      const p = at + t * 4;
      m[t] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    }
    const h = this.h;
    let a = h[0]!;
    let bb = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (bb & c) | (~bb & d);
        g = i;
      } else if (i < 32) {
        f = (d & bb) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = bb ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (bb | ~d);
        g = (7 * i) & 15;
      }
      const x = (a + f + K[i]! + m[g]!) | 0;
      a = d;
      d = c;
      c = bb;
      const s = S[i]!;
      bb = (bb + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + bb) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
  }
}
