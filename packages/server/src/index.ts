export { TusError } from './errors.js';
export { Extension, type ExtensionName } from './extensions/names.js';
export { createLogger } from './log.js';
export { type TusS3Middleware, tusS3Middleware } from './middleware.js';
export { choosePartSize, DEFAULT_PART_SIZE } from './s3/parts.js';
export { type ChecksumMode, createS3Client, type S3ConnectionOptions } from './s3/s3-client.js';
export { S3MultipartStore, type S3StoreOptions, type StoreMetrics } from './s3/store.js';
export { createTusServer, type S3Options, type TusS3, type TusS3Options } from './tus-server.js';
