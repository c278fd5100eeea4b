// The tus servers the client's e2e tests run against, behind one shape: stock
// @tus/server + @tus/file-store in-process, and our server on RGW (its CLI, or in-process).
import { idOf, startStockTusServer } from './client-tus.js';
import { type Backend, type CliServer, s3Backend, startCli, startInProcess } from './server.js';

export interface Target {
  port: number;
  /** Path of the creation endpoint, e.g. /files */
  path: string;
  endpoint: string;
  sha256Of(url: string): Promise<string>;
  close(): Promise<void>;
}

export async function stockTarget(): Promise<Target> {
  const s = await startStockTusServer();
  return {
    port: s.port,
    path: '/files',
    endpoint: s.endpoint,
    sha256Of: s.sha256Of,
    close: s.close,
  };
}

/** Our server's CLI process (packages/server/dist/cli.js) on the test RGW. */
export async function ourCliOnRgw(): Promise<Target> {
  const backend: Backend = await s3Backend('client/');
  let cli: CliServer;
  try {
    cli = await startCli(backend.cliArgs);
  } catch (e) {
    await backend.cleanup();
    throw e;
  }
  const u = new URL(cli.url);
  return {
    port: Number(u.port),
    path: u.pathname.replace(/\/$/, ''),
    endpoint: cli.url,
    sha256Of: (url) => backend.sha256Of(idOf(url)),
    close: async () => {
      await cli.stop();
      await cleanupSoon(backend);
    },
  };
}

/** Our Express middleware in this process, on the test RGW. */
export async function ourServerOnRgw(): Promise<Target> {
  const backend: Backend = await s3Backend('client/');
  const s = await startInProcess(backend.options);
  const u = new URL(s.url);
  return {
    port: Number(u.port),
    path: u.pathname,
    endpoint: s.url,
    sha256Of: (url) => backend.sha256Of(idOf(url)),
    close: async () => {
      await s.close();
      await cleanupSoon(backend);
    },
  };
}

export const targets: Array<[string, () => Promise<Target>]> = [
  ['stock @tus/server + @tus/file-store', stockTarget],
  ['our server on RGW', ourServerOnRgw],
];

/**
 * Deletes the test bucket; retries while a request the server was still finishing (e.g. one
 * a test cut or stalled) writes its last objects.
 */
async function cleanupSoon(backend: Backend): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await backend.cleanup();
      return;
    } catch (e) {
      if (i >= 10 || (e as { name?: string }).name !== 'BucketNotEmpty') throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
