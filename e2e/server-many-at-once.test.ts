// Many uploads at once against a small part memory (issue 25, "Scale"): requests take part
// memory only under a turn (s3/memory/turns.ts), so 40 uploads sharing room for two parts
// all finish exact, none is answered 503, and (nearly) none stages what it holds to make
// room (the spill storm of slab-by-slab sharing: about six staged segments per upload in
// the bench, 14 for these 40 on a loaded machine).
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { S3_MIN_PART_SIZE, type S3MultipartStore } from '@tus-s3/server';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import {
  type Backend,
  createUpload,
  idOf,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PS = S3_MIN_PART_SIZE;
const UPLOADS = 40;
const SIZE = 8 * MiB; // two parts each: a turn is handed on at the boundary

/** One PATCH of the whole upload on a connection of its own; resolves with the status. */
function patchAlone(url: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        agent: false,
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(data.length),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('40 uploads of 8 MiB at once, 16 MiB of part memory', () => {
  let backend: Backend;
  let server: RunningServer;
  let store: S3MultipartStore;
  let log: Sent[];
  beforeAll(async () => {
    backend = await s3Backend('many/');
    const rec = recordedS3(backend);
    log = rec.log;
    server = await startInProcess({ s3: rec.s3, partSize: PS, partMemory: 16 * MiB });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('all finish exact, with no 503 and next to no segment staged to make room', async () => {
    const data = randomBytes(SIZE);
    const urls = await Promise.all(
      Array.from({ length: UPLOADS }, () => createUpload(server.url, SIZE)),
    );
    log.length = 0;
    const statuses = await Promise.all(urls.map((url) => patchAlone(url, data)));
    expect(statuses).toEqual(urls.map(() => 204));
    const segmentPuts = log.filter(
      (e) => e.command === 'PutObjectCommand' && String(e.input.Key).includes('.seg.'),
    ).length;
    // None when the machine is idle; a turn holder whose client (this process) is starved
    // for TURN_IDLE may stage once. Slab-by-slab sharing staged several per upload.
    console.log(`40 uploads of 8 MiB, 16 MiB of part memory: ${segmentPuts} segments staged`);
    expect(segmentPuts).toBeLessThan(UPLOADS / 4);
    const want = sha256Hex(data);
    for (const url of urls.slice(0, 5)) expect(await backend.sha256Of(idOf(url))).toBe(want);
    const completed = log.filter((e) => e.command === 'CompleteMultipartUploadCommand').length;
    expect(completed).toBe(UPLOADS);
    expect(store.partBudget.held).toBe(0);
    expect(store.partBudget.waiting).toBe(0);
    expect(store.partBudget.turns.reserved).toBe(0);
  }, 240_000);
});
