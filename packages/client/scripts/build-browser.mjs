// The browser bundle: one minified ES module of the package's public API (src/index.ts)
// with its hash libraries inlined, so a page needs no import map or bundler of its own.
// Its types are the package's own (dist/index.d.ts), re-exported beside it. Beside it,
// digest-worker.js (the whole-file digest's Worker, hash-wasm inlined too): the bundle
// starts it from its own URL (new URL('./digest-worker.js', import.meta.url)), so serve
// both files from one folder.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/browser');
export const BUNDLE = path.join(outDir, 'tus-s3-client.min.js');

export const WORKER = path.join(outDir, 'digest-worker.js');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
};

await mkdir(outDir, { recursive: true });
await build({ ...common, entryPoints: [path.join(root, 'src/index.ts')], outfile: BUNDLE });
await build({
  ...common,
  entryPoints: [path.join(root, 'src/checksum/digest-worker.ts')],
  outfile: WORKER,
});
await writeFile(path.join(outDir, 'tus-s3-client.min.d.ts'), "export * from '../index.js';\n");
