// A round-robin HTTP load balancer on 127.0.0.1: each request goes to the next backend,
// whatever connection it came on, with its Host header kept (so Locations point back
// here, as behind a real balancer).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward } from './forward.js';

export interface Balancer {
  url: string;
  /** Requests sent to each backend so far, in backend order. */
  counts: number[];
  close(): Promise<void>;
}

export async function startBalancer(backends: string[]): Promise<Balancer> {
  const targets = backends.map((b) => new URL(b));
  const counts = targets.map(() => 0);
  let next = 0;
  const server: Server = createServer((req, res) => {
    const i = next++ % targets.length;
    counts[i] = (counts[i] ?? 0) + 1;
    const target = targets[i] as URL;
    const upstream = forward(req, res, target);
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
