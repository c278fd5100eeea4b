// What the whole-file digest costs in S3 requests and time per PATCH (issue 22: "say what a
// PATCH ending on a part boundary costs and measure it"), recorded on the wire against RGW:
// the same upload through a store that hashes it (digest: 'sha256') and one that does not.
import { randomBytes } from 'node:crypto';
import { S3_MIN_PART_SIZE } from '@tus-s3/server';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import {
  type Backend,
  createUpload,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
} from './helpers/server.js';

const PS = S3_MIN_PART_SIZE;

interface Run {
  /** S3 requests of each PATCH, by command. */
  perPatch: Array<Record<string, number>>;
  /** Wall time of each PATCH (ms). */
  ms: number[];
}

async function measure(
  server: RunningServer & { backend: Backend },
  log: Sent[],
  data: Buffer,
  cuts: number[],
): Promise<Run> {
  const url = await createUpload(server.url, data.length);
  const run: Run = { perPatch: [], ms: [] };
  for (let i = 1; i < cuts.length; i++) {
    const [from, to] = [cuts[i - 1] as number, cuts[i] as number];
    log.length = 0;
    const t = performance.now();
    const res = await patch(url, from, data.subarray(from, to));
    run.ms.push(performance.now() - t);
    expect(res.status).toBe(204);
    const counts: Record<string, number> = {};
    for (const e of log) {
      const name = e.command.replace(/Command$/, '');
      counts[name] = (counts[name] ?? 0) + 1;
    }
    run.perPatch.push(counts);
  }
  expect(sha256Hex(data)).toBe(await server.backend.sha256Of(idOf(url)));
  return run;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

describe('the digest on the wire', () => {
  let backend: Backend;
  const servers: Array<RunningServer & { backend: Backend }> = [];
  const logs: Sent[][] = [];
  beforeAll(async () => {
    backend = await s3Backend('cost/');
    for (const digest of [undefined, 'sha256'] as const) {
      const rec = recordedS3(backend);
      logs.push(rec.log);
      const s = await startInProcess({ s3: rec.s3, partSize: PS, digest });
      servers.push({ ...s, backend });
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await backend?.cleanup();
  });

  it('a boundary-ending PATCH costs one small PutObject; one that stages a tail costs nothing more', async () => {
    // Nine boundary-ending PATCHes of one part each, then a tail-staging one, then the end.
    const cuts = [...Array.from({ length: 10 }, (_, i) => i * PS), 9 * PS + 1000, 10 * PS + 5];
    const data = randomBytes(cuts.at(-1) as number);
    const [plain, hashed] = [
      await measure(
        servers[0] as RunningServer & { backend: Backend },
        logs[0] as Sent[],
        data,
        cuts,
      ),
      await measure(
        servers[1] as RunningServer & { backend: Backend },
        logs[1] as Sent[],
        data,
        cuts,
      ),
    ];
    const boundary = (r: Run) => r.perPatch.slice(1, 9);
    for (const [i, counts] of boundary(hashed).entries()) {
      const base = boundary(plain)[i] as Record<string, number>;
      // The state object; and every HASH_OBJECTS_KEPT of them one DeleteObjects of the older.
      expect(counts.PutObject ?? 0).toBe((base.PutObject ?? 0) + 1);
      expect(total(counts) - total(base)).toBeLessThanOrEqual(2);
    }
    // The tail: its segment carries the state in its metadata.
    expect(total(hashed.perPatch[9] as Record<string, number>)).toBe(
      total(plain.perPatch[9] as Record<string, number>),
    );
    const line = (r: Run) =>
      `median PATCH ${median(r.ms.slice(1, 9)).toFixed(1)} ms, requests ${boundary(r).map(total).join('/')}`;
    console.log(
      `boundary-ending 5 MiB PATCHes on RGW: off ${line(plain)}; on ${line(hashed)}; last PATCH ${JSON.stringify(plain.perPatch[10])} vs ${JSON.stringify(hashed.perPatch[10])}`,
    );
  });
});
