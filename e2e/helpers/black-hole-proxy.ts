// A TCP proxy on 127.0.0.1 in front of the real RGW that can turn into a black hole: it
// still accepts connections but nothing passes either way, the way S3 behind a dead
// route or a half-open connection behaves (no reset, no answer, ever). Switched to the
// black hole, connections already open fall silent too, dropping what they carried, and
// stay silent once the proxy forwards again (their requests are half-lost); connections
// opened while it forwards pass every byte untouched.
import { createConnection, createServer, type Socket } from 'node:net';

export interface BlackHoleProxy {
  /** The endpoint to give the server instead of RGW's. */
  endpoint: string;
  /** From now on nothing passes: open connections fall silent, new ones are never answered. */
  blackHole(): void;
  /** From now on every connection, open or new, is reset (S3 down, not silent). */
  reset(): void;
  /** New connections are forwarded again. */
  forward(): void;
  close(): Promise<void>;
}

interface Connection {
  client: Socket;
  upstream?: Socket;
  silent: boolean;
}

export async function startBlackHoleProxy(target: string): Promise<BlackHoleProxy> {
  const { hostname, port } = new URL(target);
  let mode: 'forward' | 'hole' | 'reset' = 'forward';
  const open = new Set<Connection>();

  const silence = (c: Connection) => {
    c.silent = true;
    // Not read any more: the sender's writes pile up in its kernel as over a dead route.
    c.client.pause();
    c.upstream?.destroy();
    c.upstream = undefined;
  };

  const server = createServer((client) => {
    const c: Connection = { client, silent: false };
    open.add(c);
    client.on('error', () => {});
    client.on('close', () => {
      open.delete(c);
      c.upstream?.destroy();
    });
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hole') {
      silence(c);
      return;
    }
    const upstream = createConnection({ host: hostname, port: Number(port) });
    c.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      if (!c.silent) client.destroy();
    });
    client.on('data', (d: Buffer) => {
      if (!c.silent) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!c.silent) client.write(d);
    });
    client.on('end', () => {
      if (!c.silent) upstream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    blackHole() {
      mode = 'hole';
      for (const c of open) silence(c);
    },
    reset() {
      mode = 'reset';
      for (const c of open) {
        c.upstream?.destroy();
        c.client.resetAndDestroy();
      }
    },
    forward() {
      mode = 'forward';
    },
    close: async () => {
      for (const c of open) {
        c.client.destroy();
        c.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
