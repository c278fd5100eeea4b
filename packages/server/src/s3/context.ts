// What every piece of the store works against: one client and bucket, one key prefix,
// one set of counters and one logger. Passed explicitly, so each module says what it uses.

import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { Fence } from '../locks/fence.js';
import type { StoreMetrics } from './metrics.js';
import type { PartChecksum } from './parts/part-checksum.js';
import type { PendingMarkers } from './pending-markers.js';
import type { SealKeeper } from './sealed/seal-key.js';

export interface StoreContext {
  client: S3Client;
  bucket: string;
  /** Key prefix for everything the store writes (e.g. "uploads/"). */
  prefix: string;
  metrics: StoreMetrics;
  /** How each part and segment body is proven intact to S3. */
  partChecksum: PartChecksum;
  /** Types the upload objects may be served inline as, beyond the passive ones (object-headers.ts). */
  inlineTypes?: readonly string[];
  log: Logger;
  /**
   * The lock of the request this context serves (locks/fence.ts): writes of an upload's
   * bytes, parts and completion go through it. The store's own context has UNFENCED; the
   * store's entry points hand down one with the request's fence.
   */
  fence: Fence;
  /** Open markers written late (s3/pending-markers.ts); absent: written at creation. */
  markers?: PendingMarkers;
  /** Opens sealed ids (s3/sealed/seal.ts); absent: none opens. */
  seals?: SealKeeper;
}
