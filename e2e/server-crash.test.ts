// Must-show 2 of the server issue: the server process is SIGKILLed in the middle of a
// PATCH and restarted; HEAD reports at least the last acknowledged offset and the upload
// resumes to an exact object. Also: SIGTERM drains an in-flight PATCH before exiting.
import { randomBytes } from 'node:crypto';
import {
  type Backend,
  backends,
  type CliServer,
  createUpload,
  headOffset,
  idOf,
  patch,
  rawPatch,
  s3Backend,
  sha256Hex,
  startCli,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;

/** Streams data[from..] as one PATCH; calls onSent after each write. */
function streamPatch(
  url: string,
  data: Buffer,
  from: number,
  onSent: (sent: number) => void,
): Promise<number> {
  return rawPatch(url, from, data.length - from, (req) => {
    let sent = 0;
    const step = 256 * 1024;
    const pump = () => {
      while (from + sent < data.length) {
        const chunk = data.subarray(from + sent, Math.min(from + sent + step, data.length));
        sent += chunk.length;
        onSent(sent);
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

// Without Content-MD5 whole parts stream to S3 while they arrive: killed mid-stream too.
const streamed: (typeof backends)[number] = [
  's3 with streamed parts (--part-checksum none)',
  async () => {
    const b = await s3Backend('crash-streamed/');
    return { ...b, cliArgs: [...b.cliArgs, '--part-checksum', 'none'] };
  },
];

describe.each([...backends, streamed])('server process crash on %s', (_name, makeBackend) => {
  let backend: Backend;
  let server: CliServer | undefined;
  beforeAll(async () => {
    backend = await makeBackend();
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await backend?.cleanup();
  });

  it('SIGKILL mid-PATCH, restart: HEAD >= last acknowledged offset, and the object is exact', async () => {
    const size = 40 * MiB;
    const data = randomBytes(size);
    server = await startCli([...backend.cliArgs, '--part-size', '5MiB']);
    const url0 = await createUpload(server.url, size, 'filetype YXBwbGljYXRpb24vb2N0ZXQtc3RyZWFt');
    const id = idOf(url0);
    // 7 MiB acknowledged: one whole part and a staged tail.
    const first = await patch(url0, 0, data.subarray(0, 7 * MiB));
    expect(first.status).toBe(204);
    let acknowledged = Number(first.headers.get('upload-offset'));
    expect(acknowledged).toBe(7 * MiB);

    // Kill at three points of later PATCHes: inside a part, past a part, far past.
    for (const killAfter of [1 * MiB + 12345, 6 * MiB, 11 * MiB]) {
      const url = `${server.url}/${id}`;
      let killed = false;
      const victim = server;
      const status = await streamPatch(url, data, acknowledged, (sent) => {
        if (!killed && sent >= killAfter) {
          killed = true;
          victim.proc.kill('SIGKILL');
        }
      });
      await victim.stop('SIGKILL');
      expect(killed).toBe(true);
      expect(status).toBe(-1); // the connection died with the process: nothing acknowledged
      server = await startCli([...backend.cliArgs, '--part-size', '5MiB']);
      const offset = await headOffset(`${server.url}/${id}`);
      expect(offset).toBeGreaterThanOrEqual(acknowledged);
      expect(offset).toBeLessThanOrEqual(acknowledged + killAfter + 256 * 1024);
      acknowledged = offset; // a HEAD answer is an acknowledgement too
    }

    const url = `${server.url}/${id}`;
    expect(await uploadRest(url, data, acknowledged, 9 * MiB)).toBe(size);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
  });

  it('SIGTERM lets an in-flight PATCH finish, acknowledges it, then exits 0', async () => {
    const size = 12 * MiB;
    const data = randomBytes(size);
    const srv = await startCli([...backend.cliArgs, '--part-size', '5MiB']);
    const url = await createUpload(srv.url, size);
    let signalled = false;
    const status = await streamPatch(url, data, 0, (sent) => {
      if (!signalled && sent >= 3 * MiB) {
        signalled = true;
        srv.proc.kill('SIGTERM');
      }
    });
    expect(status).toBe(204);
    expect(await srv.stop()).toBe(0);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});
