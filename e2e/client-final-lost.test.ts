// A parallel upload whose final POST reaches the server but whose 201 never reaches the
// client (the connection dies as the answer comes back, as on a mobile network). The
// server had created the final and adopted the partials; the client retries the same POST
// and must get that same final (not 400 "belongs to final upload"), then finish into it.
// A TCP proxy on 127.0.0.1 drops the response of the first final POST and cuts that
// connection; everything else passes through.
import { createConnection, createServer, type Socket } from 'node:net';
import { nodeFileSource, type TusError, Upload } from '@tus-s3/client/node';
import { ourServerOnRgw, type Target } from './helpers/client-targets.js';
import { makeRandomFile, type RandomFile, removeDir, tmpDir } from './helpers/files.js';

const MiB = 1024 * 1024;

interface LosingProxy {
  origin: string;
  /** The Location the server answered to the final POST whose answer was dropped. */
  readonly lostLocation: string | null;
  close(): Promise<void>;
}

async function startLosingProxy(targetPort: number): Promise<LosingProxy> {
  let armed = true;
  let lostLocation: string | null = null;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    let dropping = false;
    client.on('data', (chunk: Buffer) => {
      if (
        armed &&
        /^POST /m.test(chunk.toString('latin1')) &&
        /upload-concat:\s*final/i.test(chunk.toString('latin1'))
      ) {
        armed = false;
        dropping = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!dropping) {
        client.write(chunk);
        return;
      }
      lostLocation = /\r\nlocation:\s*(\S+)/i.exec(chunk.toString('latin1'))?.[1] ?? null;
      client.destroy();
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    get lostLocation() {
      return lostLocation;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let dir: string;
let file: RandomFile;
let target: Target;
let proxy: LosingProxy;

beforeAll(async () => {
  dir = await tmpDir('client-final-lost-');
  file = await makeRandomFile(dir, 40 * MiB + 12345);
  target = await ourServerOnRgw();
  proxy = await startLosingProxy(target.port);
});
afterAll(async () => {
  await proxy?.close();
  await target?.close();
  await removeDir(dir);
});

test('parallel 4, the 201 of the final POST lost: the retry gets the same final, exact bytes', async () => {
  const source = await nodeFileSource(file.path);
  const upload = new Upload(source, {
    endpoint: `${proxy.origin}${target.path}`,
    parallel: 4,
    retry: { baseDelayMs: 50, maxRetries: 5 },
  });
  const retries: TusError[] = [];
  upload.on('retry', (e) => retries.push(e.error));
  try {
    const r = await upload.start();
    expect(r.size).toBe(file.size);
    expect(await target.sha256Of(r.url)).toBe(file.sha256);
    // The server answered the lost POST with a final; the client finished into that one.
    expect(proxy.lostLocation).not.toBeNull();
    expect(new URL(r.url).pathname).toBe(new URL(proxy.lostLocation as string, r.url).pathname);
  } finally {
    await source.close();
  }
  expect(retries.some((e) => e.kind === 'network')).toBe(true);
});
