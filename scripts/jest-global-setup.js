// Jest globalSetup: one memstore Ceph RGW (S3) + one redis-server per Jest run, in
// .tmp/rgw-<timestamp>-<pid>/ under the repo root. Connection info reaches the test
// workers through process.env (workers are forked after this runs):
//   TUS_S3_TEST_ENDPOINT, TUS_S3_TEST_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//   TUS_S3_TEST_RGW_DIR, TUS_S3_TEST_REDIS_URL
// If TUS_S3_TEST_ENDPOINT is already set (an S3 you started yourself, e.g. with
// `node scripts/rgw.mjs start .tmp/dev`), nothing is started and nothing is stopped.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, stopRedis } from './redis.mjs';
import { startRgw, stopRgw } from './rgw.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MEMSTORE_BYTES = 6 * 1024 ** 3;

export const STATE_KEY = '__TUS_S3_TEST_DAEMONS__';

async function stopAll(dir) {
  await stopRedis(path.join(dir, 'redis')).catch(() => {});
  await stopRgw(dir).catch(() => {});
}

export default async function globalSetup() {
  if (process.env.TUS_S3_TEST_ENDPOINT) {
    for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (!process.env[v]) throw new Error(`TUS_S3_TEST_ENDPOINT is set but ${v} is not`);
    }
    process.env.TUS_S3_TEST_REGION ??= 'us-east-1';
    globalThis[STATE_KEY] = { external: true };
    return;
  }
  const dir = path.join(root, '.tmp', `rgw-${Date.now()}-${process.pid}`);
  const t0 = Date.now();
  let rgw;
  let redis;
  try {
    rgw = await startRgw({ dir, objectstore: 'memstore', memstoreBytes: MEMSTORE_BYTES });
    redis = await startRedis({ dir: path.join(dir, 'redis') });
  } catch (e) {
    await stopAll(dir);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `tus-s3 tests need a local Ceph RADOS Gateway and redis-server, which could not start: ${e.message}\n` +
        'Install them with `bash scripts/test.sh` as root (it apt-installs ceph-mon ceph-osd radosgw redis-server), ' +
        'or: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw redis-server',
    );
  }
  globalThis[STATE_KEY] = { dir };
  Object.assign(process.env, {
    TUS_S3_TEST_ENDPOINT: rgw.endpoint,
    TUS_S3_TEST_REGION: rgw.region,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    AWS_REGION: rgw.region,
    TUS_S3_TEST_RGW_DIR: dir,
    TUS_S3_TEST_REDIS_URL: redis.url,
  });
  // Ctrl-C / kill of the Jest process skips globalTeardown: stop the daemons anyway.
  const onSignal = (sig) => {
    stopAll(dir).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, onSignal);
  globalThis[STATE_KEY].onSignal = onSignal;
  process.stderr.write(
    `\n[tus-s3] RGW ${rgw.endpoint} + redis ${redis.url} ready in ${Date.now() - t0} ms (${path.relative(root, dir)})\n`,
  );
}
