export { type JwtOptions, jwtAuthenticator } from './auth/jwt.js';
export type { Authenticate, Principal } from './auth/principal.js';
export type { QuotaLimits, Quotas } from './auth/quotas.js';
export { Extension, type ExtensionName } from './capabilities.js';
export { TusError } from './errors.js';
export { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './extensions/checksum.js';
export { CHECKSUM_ALGORITHM_HEADER, PART_SIZE_HEADER } from './front/handler.js';
export { RedisLocker, type RedisLockerOptions } from './locks/redis-locker.js';
export { createLogger } from './log.js';
export { type TusS3Middleware, tusS3Middleware } from './middleware.js';
export {
  cachedReadiness,
  probeDependencies,
  type Readiness,
  type ReadinessCheck,
  type ReadinessOptions,
} from './ops/health.js';
export { type OpsListener, type OpsListenerOptions, startOpsListener } from './ops/listener.js';
export { TusMetrics } from './ops/metrics.js';
export {
  type AbortResult,
  type ListFilter,
  type UnfinishedUpload,
  UploadsAdmin,
  type UploadsAdminOptions,
} from './s3/admin.js';
export { type ChecksumMode, createS3Client, type S3ConnectionOptions } from './s3/client.js';
export { redisSweepLease, type SweepLease, sweepLeaseKey } from './s3/expiration/lease.js';
export { choosePartSize, DEFAULT_PART_SIZE, S3_MIN_PART_SIZE } from './s3/parts/arithmetic.js';
export { PART_CHECKSUMS, type PartChecksum } from './s3/parts/part-checksum.js';
export { S3MultipartStore, type S3StoreOptions, type StoreMetrics } from './s3/store.js';
export {
  createTusServer,
  DEFAULT_EXPIRATION,
  type S3Options,
  type TusS3,
  type TusS3Options,
} from './tus-server.js';
