// tus-upload --dedupe: the flag reaches the Upload (Upload-Instant on the creation, the
// digest implied) and the run ends with one line saying whether the server already had
// the file. The command runs in-process against the fake server (global fetch swapped).

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { instantLine } from '../src/cli/format.js';
import { main } from '../src/cli/program.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';
const reprOf = (d: Uint8Array) => `sha-256=:${createHash('sha256').update(d).digest('base64')}:`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tus-cli-instant-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs tus-upload in-process; returns its exit code and what it wrote to stderr. */
async function cli(server: FakeTusServer, args: string[]) {
  const realFetch = globalThis.fetch;
  const realWrite = process.stderr.write;
  let err = '';
  globalThis.fetch = server.fetch;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  const out = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const code = await main(['node', 'tus-upload', ...args]);
    return { code, err };
  } finally {
    globalThis.fetch = realFetch;
    process.stderr.write = realWrite;
    process.stdout.write = out;
  }
}

async function setup(stored: boolean) {
  const data = bytes(40_000, 6);
  const file = path.join(dir, 'f.bin');
  await writeFile(file, data);
  const server = new FakeTusServer();
  server.extensions += ',instant-upload';
  server.instantContents = new Map(stored ? [[`${reprOf(data)} ${data.length}`, data]] : []);
  const args = [file, '-e', ENDPOINT, '--store', path.join(dir, 's.json'), '--no-checksum'];
  return { data, server, args };
}

test('--dedupe, content stored: the instant line, 0 bytes sent, no PATCH with bytes', async () => {
  const { server, args } = await setup(true);
  const { code, err } = await cli(server, [...args, '--dedupe']);
  expect(code).toBe(0);
  expect(err).toContain('instant upload: the server already had this content (0 bytes sent)\n');
  expect(err).toContain(`digest: sha-256=:`);
  expect(server.requests.find((q) => q.method === 'POST')!.headers['upload-instant']).toBe('?1');
  expect(server.requests.filter((q) => q.bodySize > 0)).toEqual([]);
});

test('--dedupe, content not stored: the uploaded-normally line with the bytes sent', async () => {
  const { data, server, args } = await setup(false);
  const { code, err } = await cli(server, [...args, '--dedupe']);
  expect(code).toBe(0);
  expect(err).toContain(
    'uploaded normally: the server does not have this content for this tenant (or the challenge failed) (40000 bytes sent)\n',
  );
  const url = [...server.uploads.keys()][0]!;
  expect(Buffer.from(server.bytesOf(url))).toEqual(Buffer.from(data));
});

test('without --dedupe: no Upload-Instant and no instant line', async () => {
  const { server, args } = await setup(true);
  const { code, err } = await cli(server, args);
  expect(code).toBe(0);
  expect(err).not.toMatch(/instant upload|uploaded normally/);
  expect(server.requests.some((q) => q.headers['upload-instant'])).toBe(false);
});

test('instantLine', () => {
  expect(instantLine({ outcome: 'instant', message: 'had it' }, 0)).toBe(
    'instant upload: had it (0 bytes sent)',
  );
  expect(instantLine({ outcome: 'uploaded', reason: 'refused', message: 'no' }, 12)).toBe(
    'uploaded normally: no (12 bytes sent)',
  );
});
