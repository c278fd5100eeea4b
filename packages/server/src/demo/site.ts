/**
 * The --demo page: GET / and /demo/* on the CLI's port, everything else to the tus
 * handler. Static files only: the page (assets/, copied to dist by the build), the
 * client's browser bundle (@tus-s3/client/browser, resolved from the installed package)
 * and a config.json telling the page where the uploads endpoint is.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The page may talk to any http(s) endpoint (cross-origin with CORS); hash-wasm compiles
 * WebAssembly, which CSP calls 'wasm-unsafe-eval'. Nothing else leaves 'self'.
 */
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http: https:; " +
  "img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DemoOptions {
  /** The tus endpoint's path on this server, e.g. /files (the page's default endpoint). */
  tusPath: string;
  /** The client's browser bundle (default: resolved from @tus-s3/client/browser). */
  bundle?: string;
}

export interface DemoSite {
  /** Answers the demo's URLs; returns false for anything else. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

const assetsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

/** Where the client's bundle is; throws a one-line reason when it is not built or installed. */
function clientBundle(): string {
  let file: string;
  try {
    file = fileURLToPath(import.meta.resolve('@tus-s3/client/browser'));
  } catch {
    throw new Error('--demo: @tus-s3/client is not installed beside the server');
  }
  return file;
}

/** Loads every file the page needs once, at start-up; fails when one is missing. */
export async function demoSite(o: DemoOptions): Promise<DemoSite> {
  if (o.tusPath === '/') throw new Error('--demo serves the page at /: give --path another path');
  const files = new Map<string, { body: Buffer; type: string }>();
  const add = async (url: string, file: string) => {
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    files.set(url, { body: await readFile(file), type });
  };
  for (const name of await readdir(assetsDir))
    await add(`/demo/${name}`, path.join(assetsDir, name));
  const index = files.get('/demo/index.html');
  if (index) files.set('/', index);
  const bundle = o.bundle ?? clientBundle();
  try {
    await add('/demo/tus-s3-client.min.js', bundle);
  } catch {
    throw new Error(`--demo: the client's browser bundle is missing (${bundle}): run pnpm build`);
  }
  await add('/demo/tus-s3-client.min.js.map', `${bundle}.map`).catch(() => {});
  // The whole-file digest's Worker, which the bundle starts from beside itself.
  await add('/demo/digest-worker.js', path.join(path.dirname(bundle), 'digest-worker.js')).catch(
    () => {},
  );
  const config = JSON.stringify({ endpoint: o.tusPath });
  files.set('/demo/config.json', { body: Buffer.from(config), type: TYPES['.json']! });

  return {
    serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const url = req.url ?? '/';
      const cut = url.search(/[?#]/);
      const file = files.get(cut === -1 ? url : url.slice(0, cut));
      if (!file) return false;
      res.writeHead(200, {
        'Content-Type': file.type,
        'Content-Length': file.body.length,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': CSP,
        'Referrer-Policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    },
  };
}

/** The demo's URLs first, then `next` (the tus handler). */
export function withDemo(site: DemoSite, next: RequestListener): RequestListener {
  return (req, res) => {
    if (!site.serve(req, res)) next(req, res);
  };
}
