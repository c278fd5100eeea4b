// Serves one handler under one URL path on a bare node:http server, as Express's
// app.use(path, handler) would: the CLI needs nothing else from Express, and loading it
// costs ~5 MiB of resident memory for the life of the process.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { INTERNAL_ERROR_BODY } from './error-response.js';

type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * `path` is normalized ("/files" or "/"). Like Express, matching is case-insensitive, the
 * matched part becomes req.baseUrl and req.url keeps the rest ("/" at least).
 */
export function mountAt(path: string, handler: Handler): RequestListener {
  const base = path === '/' ? '' : path.toLowerCase();
  return (req, res) => {
    const url = req.url ?? '/';
    const cut = url.search(/[?#]/);
    const pathname = cut === -1 ? url : url.slice(0, cut);
    const lower = pathname.toLowerCase();
    if (lower !== base && !lower.startsWith(`${base}/`)) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Not Found\n');
      return;
    }
    const rest = url.slice(base.length);
    Object.assign(req, {
      baseUrl: url.slice(0, base.length),
      originalUrl: url,
      url: rest.startsWith('/') ? rest : `/${rest}`,
    });
    handler(req, res, (err?: unknown) => {
      // The middleware answers everything it is given and never calls next(); should a
      // handler call it anyway, it gets an answer without internals.
      if (res.headersSent) {
        res.destroy(err instanceof Error ? err : undefined);
        return;
      }
      res.statusCode = err ? 500 : 404;
      res.end(err ? INTERNAL_ERROR_BODY : 'Not Found\n');
    });
  };
}
