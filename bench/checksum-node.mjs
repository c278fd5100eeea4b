// Hash throughput in Node for the libraries the client and server use: node:crypto / zlib,
// hash-wasm (WebAssembly) and @noble/hashes (pure JS, the no-WebAssembly fallback), over
// 64 KiB pieces as a body streams, and the server's CRC-32C digester. Not a test; run
// after `pnpm build`:
//   node bench/checksum-node.mjs [MiB=64]
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const client = createRequire(path.join(here, '../packages/client/package.json'));
const load = (spec) => import(pathToFileURL(client.resolve(spec)).href);
const hw = await load('hash-wasm');
const noble = {
  ...(await load('@noble/hashes/sha2.js')),
  ...(await load('@noble/hashes/legacy.js')),
};
const { Crc32cDigester } = await import(
  pathToFileURL(path.join(here, '../packages/server/dist/extensions/crc32c.js')).href
);

const MiB = Number(process.argv[2] ?? 64);
const data = randomBytes(MiB * 1024 * 1024);
const PIECE = 64 * 1024;

function rate(make) {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    const h = make();
    for (let i = 0; i < data.length; i += PIECE) h.update(data.subarray(i, i + PIECE));
    h.digest();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return `${(MiB / (best / 1000)).toFixed(0)} MiB/s`;
}

const zlibCrc = () => {
  let c = 0;
  return { update: (d) => (c = crc32(d, c)), digest: () => c };
};
const wasm = {
  sha256: await hw.createSHA256(),
  sha1: await hw.createSHA1(),
  md5: await hw.createMD5(),
  crc32: await hw.createCRC32(),
  crc32c: await hw.createCRC32(0x82f63b78),
};
const again = (h) => () => h.init();

console.log(`${MiB} MiB in 64 KiB pieces, best of 3 (node:crypto|zlib, hash-wasm, @noble/hashes)`);
for (const alg of ['sha256', 'sha1', 'md5', 'crc32']) {
  const native = rate(alg === 'crc32' ? zlibCrc : () => createHash(alg));
  const js = alg === 'crc32' ? '-' : rate(() => noble[alg].create());
  console.log(
    `${alg.padEnd(7)} ${native.padStart(11)} ${rate(again(wasm[alg])).padStart(11)} ${js.padStart(11)}`,
  );
}
console.log(
  `crc32c  hash-wasm ${rate(again(wasm.crc32c))}, server digester ${rate(() => new Crc32cDigester())}`,
);
