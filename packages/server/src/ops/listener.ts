// The operations listener (--metrics-port): /metrics, /healthz and /readyz on their own
// node:http server, so they are not exposed wherever the uploads are.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from './health.js';

export interface OpsListenerOptions {
  registry: Registry;
  ready: ReadinessCheck;
  host?: string;
  port: number;
}

export interface OpsListener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function text(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** Answers one request to the operations listener. */
export async function answerOps(
  o: Pick<OpsListenerOptions, 'registry' | 'ready'>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return text(res, 405, 'method not allowed\n');
  }
  if (path === '/metrics') {
    return text(res, 200, await o.registry.metrics(), o.registry.contentType.split(';')[0]);
  }
  if (path === '/healthz') return text(res, 200, 'ok\n');
  if (path === '/readyz') {
    const verdict = await o.ready();
    return text(res, verdict.ok ? 200 : 503, `${verdict.reason}\n`);
  }
  return text(res, 404, 'not found: /metrics, /healthz, /readyz\n');
}

export async function startOpsListener(o: OpsListenerOptions): Promise<OpsListener> {
  const server = createServer((req, res) => {
    answerOps(o, req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `${(err as Error).message.split('\n')[0]}\n`);
      else res.destroy();
    });
  });
  server.listen(o.port, o.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
