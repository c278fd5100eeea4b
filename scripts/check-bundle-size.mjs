// CI check (scripts/test.sh): the browser bundle of @tus-s3/client, minified and gzipped
// (node:zlib, level 9), must stay within its budget. The reference is tus-js-client's
// browser build (dist/tus.min.js, from e2e's devDependencies), measured the same way and
// printed beside it. The whole-file digest's Worker (digest-worker.js, fetched only when a
// Blob is hashed for `digest`/`dedupe`) has a budget of its own. Run `pnpm build` first:
// the bundle is built, not committed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

/** Budgets in bytes, gzipped. Raise them only with the reason in the commit message. */
const BUDGET = 36 * 1024;
const WORKER_BUDGET = 10 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'packages/client/dist/browser/tus-s3-client.min.js');
const worker = path.join(root, 'packages/client/dist/browser/digest-worker.js');
const reference = path.join(root, 'e2e/node_modules/tus-js-client/dist/tus.min.js');

async function sizes(file) {
  const bytes = await readFile(file);
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
  return { min: bytes.length, gz };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
async function built(file) {
  try {
    return await sizes(file);
  } catch {
    console.error(`check-bundle-size: ${path.relative(root, file)} is missing: run pnpm build`);
    process.exit(1);
  }
}
const ours = await built(bundle);
const work = await built(worker);
const line =
  `@tus-s3/client browser bundle: ${kib(ours.min)} minified, ${kib(ours.gz)} gzipped (budget ${kib(BUDGET)}); ` +
  `digest-worker.js: ${kib(work.min)} minified, ${kib(work.gz)} gzipped (budget ${kib(WORKER_BUDGET)})`;
const ref = await sizes(reference).catch(() => null);
console.log(
  ref
    ? `${line}; tus-js-client dist/tus.min.js: ${kib(ref.min)} minified, ${kib(ref.gz)} gzipped`
    : line,
);
if (ours.gz > BUDGET) console.error(`check-bundle-size: over budget by ${ours.gz - BUDGET} bytes`);
if (work.gz > WORKER_BUDGET) {
  console.error(
    `check-bundle-size: digest-worker.js over budget by ${work.gz - WORKER_BUDGET} bytes`,
  );
}
if (ours.gz > BUDGET || work.gz > WORKER_BUDGET) process.exit(1);
