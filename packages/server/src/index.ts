export { tusS3Middleware, type TusS3Middleware } from './middleware.js';
export { createTusServer, type TusS3, type TusS3Options, type S3Options } from './tus-server.js';
export { S3MultipartStore, type S3StoreOptions, type StoreMetrics } from './s3/store.js';
export { createS3Client, type ChecksumMode, type S3ConnectionOptions } from './s3/s3-client.js';
export { choosePartSize, DEFAULT_PART_SIZE } from './s3/parts.js';
export { Extension, type ExtensionName } from './extensions/names.js';
export { TusError } from './errors.js';
export { createLogger } from './log.js';
