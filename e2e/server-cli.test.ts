// The CLI's contract: flags and env twins, one-line errors with exit 1, a file store
// when no S3 is configured, object key <prefix><id>.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { removeDir, tmpDir } from './helpers/files.js';
import { testRedisUrl } from './helpers/redis.js';
import {
  createTestBucket,
  deleteBucketDeep,
  listKeys,
  sha256OfObject,
  testS3Env,
} from './helpers/s3.js';
import {
  createUpload,
  idOf,
  serverCli,
  sha256Hex,
  startCli,
  tus,
  uploadRest,
} from './helpers/server.js';

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [serverCli, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('tus-s3-server CLI', () => {
  it('refuses an unknown flag in one line, exit 1', () => {
    const r = runCli(['--bogus']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('refuses a bad size in one line, exit 1', () => {
    const r = runCli(['--part-size', 'huge']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/invalid size "huge"/);
  });

  it('refuses an unreachable bucket in one line, exit 1', () => {
    const env = testS3Env();
    const r = runCli(['--s3-bucket', 'no-such-bucket-here', '--s3-endpoint', env.endpoint]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach bucket "no-such-bucket-here"/);
    const dead = runCli(['--s3-bucket', 'b', '--s3-endpoint', 'http://127.0.0.1:1'], {
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(dead.status).toBe(1);
    expect(dead.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unreachable redis, a too short lock lease or one without redis in one line, exit 1', () => {
    const r = runCli(['--redis-url', 'redis://user:secret@127.0.0.1:1', '--data-dir', '.tmp/x']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /cannot reach redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1: connect ECONNREFUSED/,
    );
    const url = testRedisUrl();
    const short = runCli(['--redis-url', url, '--lock-lease', '100ms', '--data-dir', '.tmp/x']);
    expect(short.status).toBe(1);
    expect(short.stderr.trim()).toBe('tus-s3-server: lock lease must be at least 300 ms');
    // A lease means nothing to locks that die with the process: said, not ignored.
    const alone = runCli(['--lock-lease', '5s', '--data-dir', '.tmp/x']);
    expect(alone.status).toBe(1);
    expect(alone.stderr.trim()).toBe(
      'tus-s3-server: --lock-lease needs --redis-url (locks in this process end with it)',
    );
  });

  it('says where its locks live: this process, or the redis it was given', async () => {
    const dir = await tmpDir();
    const url = testRedisUrl();
    for (const [args, said] of [
      [[], 'locks: in this process only (one instance; --redis-url for several)'],
      [['--redis-url', url], `locks: redis at ${url}, shared by every instance`],
    ] as const) {
      const srv = await startCli(['--data-dir', dir, ...args], { S3_BUCKET: '' });
      try {
        expect(srv.output()).toContain(said);
        expect((await tus(srv.url, 'OPTIONS')).status).toBe(204);
      } finally {
        expect(await srv.stop()).toBe(0);
      }
    }
    await removeDir(dir);
  });

  it('runs on the local file store without S3 and says so', async () => {
    const dir = await tmpDir();
    const srv = await startCli(['--data-dir', dir], { S3_BUCKET: '' });
    try {
      expect(srv.output()).toMatch(/local file store in .* \(no S3 configured\)/);
      expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files$/);
      const res = await tus(srv.url, 'OPTIONS');
      expect(res.status).toBe(204);
    } finally {
      expect(await srv.stop()).toBe(0);
      await removeDir(dir);
    }
  });

  it('takes its settings from env twins; the object key is <prefix><id>', async () => {
    const env = testS3Env();
    const bucket = await createTestBucket('cli');
    const srv = await startCli([], {
      S3_BUCKET: bucket,
      S3_ENDPOINT: env.endpoint,
      S3_PREFIX: 'env-prefix/',
      TUS_PATH: '/up/loads',
      PART_SIZE: '5MiB',
      MAX_SIZE: '1MiB',
      EXPIRATION: '1h',
      SEAL_KEY: randomBytes(32).toString('base64'),
    });
    try {
      expect(srv.url).toMatch(/\/up\/loads$/);
      const opts = await tus(srv.url, 'OPTIONS');
      expect(opts.headers.get('tus-max-size')).toBe(String(1024 * 1024));
      expect(opts.headers.get('tus-extension')).toContain('expiration');
      const data = randomBytes(1000);
      const url = await createUpload(srv.url, data.length);
      expect(new URL(url).pathname.startsWith('/up/loads/')).toBe(true);
      expect(await uploadRest(url, data, 0)).toBe(1000);
      expect(await sha256OfObject(bucket, `env-prefix/${idOf(url)}`)).toBe(sha256Hex(data));
      // A sealed id under the key given: none is made in the bucket; the object, alone.
      expect(idOf(url)).toMatch(/^t[A-Za-z0-9_-]{40,}$/);
      expect(await listKeys(bucket, 'env-prefix/')).toEqual([`env-prefix/${idOf(url)}`]);
    } finally {
      await srv.stop();
      await deleteBucketDeep(bucket);
    }
  });

  it('refuses a seal key that is not 32 bytes in one line; --no-seal-ids writes every info', async () => {
    const r = runCli(['--seal-key', randomBytes(16).toString('base64')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not 32 bytes in base64/);
    const env = testS3Env();
    const bucket = await createTestBucket('cli');
    const srv = await startCli([
      '--s3-bucket',
      bucket,
      '--s3-endpoint',
      env.endpoint,
      '--no-seal-ids',
    ]);
    try {
      const url = await createUpload(srv.url, 1000);
      expect(idOf(url)).toMatch(/^[0-9a-f]{32}$/);
      expect(await listKeys(bucket, '')).toEqual([`${idOf(url)}.info`]);
    } finally {
      await srv.stop();
      await deleteBucketDeep(bucket);
    }
  });
});
