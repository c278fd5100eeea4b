// Stock tus server (@tus/server + @tus/file-store) on 127.0.0.1 for the client's e2e tests,
// optionally with extra routes (static files for the browser test) in front.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import { removeDir, tmpDir } from './files.js';

export interface StockTusServer {
  /** Creation endpoint, e.g. http://127.0.0.1:PORT/files */
  endpoint: string;
  origin: string;
  port: number;
  dir: string;
  /** SHA-256 of the stored bytes of the upload at `url`. */
  sha256Of(url: string): Promise<string>;
  close(): Promise<void>;
}

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export async function startStockTusServer(
  o: { extra?: ExtraRoute; maxSize?: number } = {},
): Promise<StockTusServer> {
  const dir = await tmpDir('client-tus-');
  const tus = new Server({
    path: '/files',
    datastore: new FileStore({ directory: dir }),
    maxSize: o.maxSize,
    // Lets a browser send the client's `digest` header (CORS); this server ignores it.
    allowedHeaders: ['Repr-Digest'],
  });
  const http = createServer((req, res) => {
    if (o.extra?.(req, res)) return;
    tus.handle(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    endpoint: `${origin}/files`,
    origin,
    port,
    dir,
    sha256Of: (url) => fileSha256(path.join(dir, idOf(url))),
    async close() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await removeDir(dir);
    },
  };
}

/** The upload id: last path segment of its URL. */
export function idOf(url: string): string {
  return new URL(url).pathname.split('/').pop()!;
}

export async function fileSha256(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
