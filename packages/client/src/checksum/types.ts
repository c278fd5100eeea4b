/** An incremental hash, whichever library computes it. */
export interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}
