// Headless Chromium (Debian /usr/bin/chromium, driven by playwright-core, never a
// downloaded browser) and a tiny static server that serves the client's ESM build
// (packages/client/dist) and a test page, on 127.0.0.1.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { removeDir, tmpDir } from './files.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const clientDist = path.resolve(here, '../../packages/client/dist');
const clientModules = path.resolve(here, '../../packages/client/node_modules');
const pageDir = path.resolve(here, '../browser');
export const CHROMIUM = '/usr/bin/chromium';

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves / -> e2e/browser/index.html, /client/* -> packages/client/dist/*, /modules/* ->
 * the client's dependencies (the page's import map points there).
 */
export async function startStaticServer(): Promise<StaticServer> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let file: string | null = null;
    if (url.pathname === '/') file = path.join(pageDir, 'index.html');
    else if (url.pathname.startsWith('/client/')) {
      const p = path.resolve(clientDist, `.${url.pathname.slice('/client'.length)}`);
      if (p.startsWith(`${clientDist}${path.sep}`)) file = p;
    } else if (url.pathname.startsWith('/modules/')) {
      const p = path.resolve(clientModules, `.${url.pathname.slice('/modules'.length)}`);
      if (p.startsWith(`${clientModules}${path.sep}`)) file = p;
    }
    try {
      if (!file) throw new Error('not found');
      const body = await readFile(file);
      const type = file.endsWith('.html')
        ? 'text/html; charset=utf-8'
        : file.endsWith('.js')
          ? 'text/javascript; charset=utf-8'
          : 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile directory. */
export async function launchChromium(): Promise<Browser> {
  const profile = await tmpDir('client-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await removeDir(profile);
    },
  };
}
