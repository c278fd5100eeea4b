// The admin subcommands against RGW: `uploads list` shows unfinished uploads as S3 has
// them (owner, offset, parts), `uploads abort` leaves nothing of one in S3, `uploads sweep`
// removes what expired.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  createTestBucket,
  deleteBucketDeep,
  listKeys,
  listMultipartUploads,
  objectText,
  testS3Client,
  testS3Env,
} from './helpers/s3.js';
import { createUpload, idOf, patch, serverCli, startCli } from './helpers/server.js';

const MiB = 1024 * 1024;
const PREFIX = 'adm/';

function runCli(args: string[]) {
  return spawnSync(process.execPath, [serverCli, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

interface Listed {
  id: string;
  owner: string;
  size: number | null;
  offset: number;
  parts: number;
  staged: number;
  partSize: number;
  ageSeconds: number;
}

describe('tus-s3-server uploads', () => {
  let bucket: string;
  let s3Args: string[];
  let owned: string;
  let deferred: string;

  const list = (...extra: string[]): Listed[] => {
    const r = runCli(['uploads', 'list', '--json', ...s3Args, ...extra]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Listed);
  };

  beforeAll(async () => {
    bucket = await createTestBucket('tus-admin');
    s3Args = ['--s3-bucket', bucket, '--s3-endpoint', testS3Env().endpoint, '--s3-prefix', PREFIX];
    const srv = await startCli([...s3Args, '--part-size', '5MiB']);
    try {
      const files = new URL('/files/', srv.url).toString();
      const a = await createUpload(files, 20 * MiB);
      // Two whole parts and a 2 MiB tail staged as a segment.
      const res = await patch(a, 0, randomBytes(12 * MiB));
      expect(res.status).toBe(204);
      owned = idOf(a);
      deferred = idOf(await createUpload(files, 'deferred'));
    } finally {
      await srv.stop();
    }
    // An owner as the authenticating server records it (info.owner).
    const key = `${PREFIX}${owned}.info`;
    const info = { ...JSON.parse(await objectText(bucket, key)), owner: 'alice' };
    await testS3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(info) }),
    );
  }, 120_000);

  afterAll(async () => {
    await deleteBucketDeep(bucket);
  });

  it('lists the interrupted uploads with owner, size, offset and parts', () => {
    const all = list();
    expect(all.map((u) => u.id).sort()).toEqual([owned, deferred].sort());
    const a = all.find((u) => u.id === owned);
    expect(a).toMatchObject({
      owner: 'alice',
      size: 20 * MiB,
      offset: 12 * MiB,
      parts: 2,
      staged: 2 * MiB,
      partSize: 5 * MiB,
    });
    expect(all.find((u) => u.id === deferred)).toMatchObject({
      owner: '',
      size: null,
      offset: 0,
      parts: 0,
    });
    expect(list('--owner', 'alice').map((u) => u.id)).toEqual([owned]);
    expect(list('--older-than', '1h')).toEqual([]);
    const table = runCli(['uploads', 'list', ...s3Args]);
    expect(table.status).toBe(0);
    const row = table.stdout.split('\n').find((l) => l.startsWith(owned));
    expect(row?.split(/\s+/)).toEqual([
      owned,
      'alice',
      '20MiB',
      '12MiB',
      '2+2MiB',
      expect.any(String),
    ]);
  });

  it('aborts an upload: no multipart upload, no staged object, no info left', async () => {
    const before = await listKeys(bucket, `${PREFIX}${owned}.`);
    expect(before.some((k) => k.includes('.seg.'))).toBe(true);
    expect((await listMultipartUploads(bucket, `${PREFIX}${owned}`)).length).toBe(1);
    const r = runCli(['uploads', 'abort', owned, ...s3Args]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`tus-s3-server: upload ${owned} aborted`);
    const mpus = await listMultipartUploads(bucket, PREFIX);
    expect(mpus.filter((u) => u.key === `${PREFIX}${owned}`)).toEqual([]);
    expect(await listKeys(bucket, `${PREFIX}${owned}`)).toEqual([]);
    expect(list().map((u) => u.id)).toEqual([deferred]);
  });

  it('answers an unknown id in one line, exit 1', () => {
    for (const id of ['no-such-upload', owned]) {
      const r = runCli(['uploads', 'abort', id, ...s3Args]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toBe(`tus-s3-server: no upload ${id} under this bucket and prefix`);
    }
  });

  it('sweeps what expired by --expiration, nothing else', async () => {
    const kept = runCli(['uploads', 'sweep', '--expiration', '1h', ...s3Args]);
    expect(kept.status).toBe(0);
    expect(kept.stdout.trim()).toBe('tus-s3-server: 0 expired upload(s) removed');
    expect(list().map((u) => u.id)).toEqual([deferred]);
    // Older than 1 s by S3's clock and by its info's creation time.
    await new Promise((r) => setTimeout(r, 1500));
    const swept = runCli(['uploads', 'sweep', '--expiration', '1s', ...s3Args]);
    expect(swept.stderr).toBe('');
    expect(swept.status).toBe(0);
    expect(swept.stdout.trim()).toBe('tus-s3-server: 1 expired upload(s) removed');
    expect(list()).toEqual([]);
    expect(await listMultipartUploads(bucket, PREFIX)).toEqual([]);
    expect(await listKeys(bucket, `${PREFIX}${deferred}`)).toEqual([]);
  });
});
