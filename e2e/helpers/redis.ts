// The Redis that scripts/jest-global-setup.js started, for tests of shared locks.

/** Its URL (TUS_S3_TEST_REDIS_URL); throws if the Jest global setup did not run. */
export function testRedisUrl(): string {
  const url = process.env.TUS_S3_TEST_REDIS_URL;
  if (!url) throw new Error('TUS_S3_TEST_REDIS_URL is not set (jest global setup starts redis)');
  return url;
}
