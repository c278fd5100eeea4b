import { CommanderError } from 'commander';
import { parseAdminArgs } from '../src/cli/admin/command.js';
import { formatAge, formatBytes, formatJsonLines, formatTable } from '../src/cli/admin/format.js';
import { program } from '../src/cli/flags.js';
import { ownerOf, type UnfinishedUpload } from '../src/s3/admin.js';
import type { UploadInfo } from '../src/s3/info.js';

const MiB = 1024 * 1024;

const upload = (over: Partial<UnfinishedUpload> = {}): UnfinishedUpload => ({
  id: 'abc',
  owner: 'alice',
  size: 20 * MiB,
  offset: 12 * MiB,
  parts: 2,
  staged: 2 * MiB,
  partSize: 5 * MiB,
  createdAt: '2026-01-01T00:00:00.000Z',
  ageMs: 3_723_000,
  ...over,
});

describe('formatBytes and formatAge', () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1536, '1.5KiB'],
    [8 * MiB, '8MiB'],
    [5 * 1024 * MiB, '5GiB'],
  ])('%d bytes: %s', (n, text) => expect(formatBytes(n)).toBe(text));
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [750_000, '12m30s'],
    [3_723_000, '1h2m'],
    [3_600_000, '1h'],
    [2 * 86_400_000 + 4 * 3_600_000 + 59_000, '2d4h'],
  ])('%d ms: %s', (ms, text) => expect(formatAge(ms)).toBe(text));
});

describe('formatTable', () => {
  it('pads columns under a header, one line per upload', () => {
    const text = formatTable([
      upload(),
      upload({ id: 'longer-id', owner: '', size: undefined, offset: 0, parts: 0, staged: 0 }),
    ]);
    expect(text).toBe(
      [
        'ID         OWNER  SIZE      OFFSET  PARTS   AGE',
        'abc        alice  20MiB     12MiB   2+2MiB  1h2m',
        'longer-id  -      deferred  0B      0       1h2m',
        '',
      ].join('\n'),
    );
  });
  it('says when there is nothing', () => {
    expect(formatTable([])).toBe('no unfinished uploads\n');
  });
});

describe('formatJsonLines', () => {
  it('writes one object per line, a deferred size as null', () => {
    const lines = formatJsonLines([upload(), upload({ id: 'd', size: undefined })])
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        id: 'abc',
        owner: 'alice',
        size: 20 * MiB,
        offset: 12 * MiB,
        parts: 2,
        staged: 2 * MiB,
        partSize: 5 * MiB,
        createdAt: '2026-01-01T00:00:00.000Z',
        ageSeconds: 3723,
      },
      expect.objectContaining({ id: 'd', size: null }),
    ]);
    expect(formatJsonLines([])).toBe('');
  });
});

describe('parseAdminArgs', () => {
  const errors: string[] = [];
  const parse = (...args: string[]) =>
    parseAdminArgs(['node', 'cli.js', 'uploads', ...args], program.options, (s) => {
      errors.push(s);
    });
  beforeEach(() => {
    errors.length = 0;
  });

  it('reads list filters and the server S3 flags, with their defaults', () => {
    const r = parse('list', '--owner', 'bob', '--older-than', '1h', '--json', '--s3-bucket', 'b');
    expect(r).toEqual({
      command: 'list',
      owner: 'bob',
      olderThan: 3_600_000,
      json: true,
      flags: expect.objectContaining({
        s3Bucket: 'b',
        s3Region: 'us-east-1',
        s3Prefix: '',
        checksumMode: 'WHEN_REQUIRED',
        logLevel: 'warn',
      }),
    });
    expect(parse('list')).toMatchObject({ command: 'list', json: false, owner: undefined });
  });

  it('reads abort <id> and sweep with --expiration', () => {
    expect(parse('abort', 'xyz', '--s3-prefix', 'p/')).toMatchObject({
      command: 'abort',
      id: 'xyz',
      flags: { s3Prefix: 'p/' },
    });
    expect(parse('sweep', '--expiration', '30m')).toMatchObject({
      command: 'sweep',
      flags: { expiration: 1_800_000 },
    });
  });

  it('refuses bad input in one line', () => {
    expect(() => parse('list', '--older-than', 'soon')).toThrow(CommanderError);
    expect(errors.join('')).toMatch(/^tus-s3-server: .*invalid duration "soon".*\n$/);
    errors.length = 0;
    expect(() => parse('abort')).toThrow(CommanderError);
    expect(errors.join('')).toBe("tus-s3-server: missing required argument 'id'\n");
    errors.length = 0;
    expect(() => parse('list', '--port', '1')).toThrow(CommanderError);
    expect(errors.join('')).toBe("tus-s3-server: unknown option '--port'\n");
    expect(() => parse('frobnicate')).toThrow(CommanderError);
  });
});

describe('ownerOf', () => {
  const info = { version: 1, id: 'a', partSize: 5 * MiB, createdAt: 'x' } as UploadInfo;
  it('reads the recorded owner, or empty', () => {
    expect(ownerOf({ ...info, owner: 'alice' } as UploadInfo)).toBe('alice');
    expect(ownerOf(info)).toBe('');
    expect(ownerOf({ ...info, owner: 42 } as unknown as UploadInfo)).toBe('');
  });
});
