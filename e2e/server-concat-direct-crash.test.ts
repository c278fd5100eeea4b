// A partial of a direct final (concatenation-unfinished) when the server process is
// SIGKILLed in the middle of its PATCH: after a restart, HEAD on the partial reports at
// least what was acknowledged, the partial resumes into the final's multipart upload, and
// the final completes with exactly the bytes sent (nothing copied).
import { randomBytes } from 'node:crypto';
import {
  type Backend,
  type CliServer,
  headOffset,
  idOf,
  rawPatch,
  s3Backend,
  sha256Hex,
  startCli,
  tus,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PS = 5 * MiB;

let backend: Backend;
let server: CliServer | undefined;
beforeAll(async () => {
  backend = await s3Backend('cdk/');
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await backend?.cleanup();
});

/** Streams data[from..] as one PATCH, SIGKILLing the server once `killAfter` bytes went. */
function patchUntilKilled(
  url: string,
  data: Buffer,
  from: number,
  killAfter: number,
  victim: CliServer,
) {
  return rawPatch(url, from, data.length - from, (req) => {
    let sent = 0;
    const pump = () => {
      while (from + sent < data.length) {
        const chunk = data.subarray(from + sent, Math.min(from + sent + 256 * 1024, data.length));
        sent += chunk.length;
        if (sent >= killAfter && victim.proc.exitCode === null) victim.proc.kill('SIGKILL');
        if (!req.write(chunk)) {
          req.once('drain', () => setTimeout(pump, 5));
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

test('SIGKILL mid-PATCH of a partial of a direct final, restart: resumes, final exact', async () => {
  const args = [...backend.cliArgs, '--part-size', '5MiB'];
  server = await startCli(args);
  const pieces = [randomBytes(3 * PS), randomBytes(2 * PS + 777)];
  const ids: string[] = [];
  for (const p of pieces) {
    const res = await tus(server.url, 'POST', {
      'Upload-Length': String(p.length),
      'Upload-Concat': 'partial',
    });
    expect(res.status).toBe(201);
    ids.push(idOf(new URL(res.headers.get('location') as string, server.url).toString()));
  }
  const fin = await tus(server.url, 'POST', {
    'Upload-Concat': `final;${ids.map((id) => `/files/${id}`).join(' ')}`,
  });
  expect(fin.status).toBe(201);
  const finalId = idOf(new URL(fin.headers.get('location') as string, server.url).toString());

  // The second partial complete; the first killed at ~1.5 parts into its PATCH.
  expect(await uploadRest(`${server.url}/${ids[1]}`, pieces[1] as Buffer, 0, 4 * MiB)).toBe(
    (pieces[1] as Buffer).length,
  );
  const victim = server;
  const status = await patchUntilKilled(
    `${server.url}/${ids[0]}`,
    pieces[0] as Buffer,
    0,
    PS + PS / 2,
    victim,
  );
  await victim.stop('SIGKILL');
  expect(status).toBe(-1);

  server = await startCli(args);
  const head = await tus(`${server.url}/${finalId}`, 'HEAD');
  expect(head.status).toBe(200);
  expect(head.headers.get('upload-offset')).toBeNull(); // not finished
  const url0 = `${server.url}/${ids[0]}`;
  const offset = await headOffset(url0);
  expect(offset).toBeLessThanOrEqual(PS + PS / 2);
  expect(await uploadRest(url0, pieces[0] as Buffer, offset, 4 * MiB)).toBe(3 * PS);
  const total = 5 * PS + 777;
  expect(await headOffset(`${server.url}/${finalId}`)).toBe(total);
  expect(await backend.sha256Of(finalId)).toBe(sha256Hex(Buffer.concat(pieces)));
});
