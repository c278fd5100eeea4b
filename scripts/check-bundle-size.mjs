// CI check (scripts/test.sh): the browser bundle of @tus-s3/client, minified and gzipped
// (node:zlib, level 9), must stay within its budget. The reference is tus-js-client's
// browser build (dist/tus.min.js, from e2e's devDependencies), measured the same way and
// printed beside it. Run `pnpm build` first: the bundle is built, not committed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

/** Budget in bytes, gzipped. Raise it only with the reason in the commit message. */
const BUDGET = 32 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'packages/client/dist/browser/tus-s3-client.min.js');
const reference = path.join(root, 'e2e/node_modules/tus-js-client/dist/tus.min.js');

async function sizes(file) {
  const bytes = await readFile(file);
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
  return { min: bytes.length, gz };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
let ours;
try {
  ours = await sizes(bundle);
} catch {
  console.error(`check-bundle-size: ${path.relative(root, bundle)} is missing: run pnpm build`);
  process.exit(1);
}
const line = `@tus-s3/client browser bundle: ${kib(ours.min)} minified, ${kib(ours.gz)} gzipped (budget ${kib(BUDGET)})`;
const ref = await sizes(reference).catch(() => null);
console.log(
  ref
    ? `${line}; tus-js-client dist/tus.min.js: ${kib(ref.min)} minified, ${kib(ref.gz)} gzipped`
    : line,
);
if (ours.gz > BUDGET) {
  console.error(`check-bundle-size: over budget by ${ours.gz - BUDGET} bytes`);
  process.exit(1);
}
