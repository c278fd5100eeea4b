// What the store asks of S3, recorded on the wire (SDK middleware) while it talks to RGW:
// Content-MD5 on every part, no SDK checksum trailers by default, a bounded number of part
// uploads in flight, and no staged segment deleted before the part that replaces it is durable.
import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { S3_MIN_PART_SIZE } from '@tus-s3/server';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import { testS3Env } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  idOf,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
  uploadRest,
} from './helpers/server.js';

describe('S3 requests of the store (recorded against RGW)', () => {
  let backend: Backend;
  let server: RunningServer;
  let log: Sent[];
  const PS = S3_MIN_PART_SIZE;
  beforeAll(async () => {
    backend = await s3Backend('wire/');
    const rec = recordedS3(backend);
    log = rec.log;
    server = await startInProcess({ s3: rec.s3, partSize: PS, queueSize: 2 });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('sends Content-MD5 on every part and segment, no SDK checksums, bounded parallel parts', async () => {
    log.length = 0;
    const data = randomBytes(8 * PS + 777);
    const url = await createUpload(server.url, data.length);
    // 2 MiB + 1 MiB staged first, then one big PATCH crossing many part boundaries.
    expect(await uploadRest(url, data.subarray(0, 3 * 1024 * 1024), 0, 2 * 1024 * 1024)).toBe(
      3 * 1024 * 1024,
    );
    expect(await uploadRest(url, data, 3 * 1024 * 1024)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));

    const parts = log.filter((e) => e.command === 'UploadPartCommand');
    expect(parts.map((p) => p.input.PartNumber)).toEqual(
      expect.arrayContaining([1, 2, 3, 4, 5, 6, 7, 8, 9]),
    );
    const bodies = log.filter(
      (e) => e.command === 'UploadPartCommand' || e.command === 'PutObjectCommand',
    );
    for (const e of bodies) {
      expect(e.headers['content-md5']).toBe(e.md5OfBody);
      expect(Object.keys(e.headers).filter((h) => h.startsWith('x-amz-checksum-'))).toEqual([]);
      expect(e.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
      expect(e.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      // RGW closes the connection after a request that carried it (see below).
      expect(Object.keys(e.headers).filter((h) => h.toLowerCase() === 'expect')).toEqual([]);
    }
    // Every part but the last is exactly the part size.
    const sizes = parts.sort((a, b) => Number(a.input.PartNumber) - Number(b.input.PartNumber));
    expect(sizes.slice(0, -1).every((p) => p.bodyLength === PS)).toBe(true);
    expect(sizes.at(-1)?.bodyLength).toBe(777);

    // At most queueSize (2) part uploads overlap; and they do overlap (a pipeline).
    const events = parts.flatMap((p) => [
      { t: p.startedAt, d: 1 },
      { t: p.endedAt ?? Number.POSITIVE_INFINITY, d: -1 },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let now = 0;
    let peak = 0;
    for (const ev of events) {
      now += ev.d;
      peak = Math.max(peak, now);
    }
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });

  it('part uploads reuse their connections to S3', async () => {
    // With Expect: 100-continue (the SDK's default from 2 MiB) RGW answers every part
    // with Connection: close, and each part paid a new connection.
    const port = Number(new URL(testS3Env().endpoint).port);
    let opened = 0;
    const onSocket = ({ socket }: { socket: Socket }) => {
      socket.once('connect', () => {
        if (socket.remotePort === port) opened++;
      });
    };
    diagnostics.subscribe('net.client.socket', onSocket as (m: unknown) => void);
    log.length = 0;
    const data = randomBytes(8 * PS);
    let url = '';
    try {
      url = await createUpload(server.url, data.length);
      // Four PATCHes of two parts each.
      expect(await uploadRest(url, data, 0, 2 * PS)).toBe(data.length);
      expect(log.filter((e) => e.command === 'UploadPartCommand')).toHaveLength(8);
    } finally {
      diagnostics.unsubscribe('net.client.socket', onSocket as (m: unknown) => void);
    }
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    // queueSize 2: two connections carry the parts, at most two more the other requests.
    expect(opened).toBeLessThanOrEqual(4);
  });

  it('deletes staged segments only after the part that holds them is durable', async () => {
    log.length = 0;
    const data = randomBytes(2 * PS);
    const url = await createUpload(server.url, data.length);
    // Three segments in part 1, then the PATCH that fills part 1.
    expect(await uploadRest(url, data.subarray(0, 3 * 1024 * 1024), 0, 1024 * 1024)).toBe(
      3 * 1024 * 1024,
    );
    expect(await uploadRest(url, data, 3 * 1024 * 1024)).toBe(data.length);
    const part1 = log.find((e) => e.command === 'UploadPartCommand' && e.input.PartNumber === 1);
    const deletes = log.filter((e) => e.command === 'DeleteObjectsCommand');
    expect(part1?.endedAt).toBeDefined();
    expect(deletes.length).toBeGreaterThan(0);
    for (const d of deletes) expect(d.startedAt).toBeGreaterThanOrEqual(part1?.endedAt as number);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});
