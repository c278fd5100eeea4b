// Cost of Upload-Checksum on the hot path: hash throughput per algorithm (one core), then
// the same upload through the built CLI into S3 with and without a checksum, measuring
// wall time and the server process's CPU seconds (from /proc). Not a Jest test.
//
//   pnpm --filter @tus-s3/server build
//   S3_ENDPOINT=... S3_BUCKET=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
//     node packages/server/test/perf/checksum-cost.mjs [sizeMiB=256] [patchMiB=32] [runs=2]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const [sizeMiB = 256, patchMiB = 32, runs = 2] = process.argv.slice(2).map(Number);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../../dist/cli.js');
const { createDigester } = await import(path.resolve(here, '../../dist/extensions/checksum.js'));

const digests = Object.fromEntries(
  ['sha1', 'md5', 'sha256', 'crc32', 'crc32c'].map((alg) => [
    alg,
    (d) => {
      const h = createDigester(alg);
      h.update(d);
      return h.digest();
    },
  ]),
);

// 1. Hash throughput, 64 KiB chunks as a request body arrives.
const sample = randomBytes(128 * MiB);
console.log('hash throughput (one core, 64 KiB chunks):');
for (const alg of Object.keys(digests)) {
  const t = process.hrtime.bigint();
  const h = createDigester(alg);
  for (let i = 0; i < sample.length; i += 65536) h.update(sample.subarray(i, i + 65536));
  h.digest();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `  ${alg.padEnd(7)} ${(128 / s).toFixed(0).padStart(5)} MiB/s  ${((s / 128) * 1000).toFixed(2)} ms/MiB`,
  );
}

// 2. End to end through the CLI.
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks -> s
};
const proc = spawn(
  process.execPath,
  [
    cli,
    '--port',
    '0',
    '--s3-bucket',
    process.env.S3_BUCKET,
    '--s3-endpoint',
    process.env.S3_ENDPOINT,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const base = await new Promise((resolve) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
});
const request = (method, url, headers, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: { 'Tus-Resumable': '1.0.0', ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
const data = randomBytes(sizeMiB * MiB);
const patchSize = patchMiB * MiB;
console.log(
  `\n${sizeMiB} MiB upload in ${patchMiB} MiB PATCHes through ${base} (server CPU from /proc):`,
);
for (let r = 0; r < runs; r++) {
  for (const alg of ['none', 'sha256', 'md5', 'sha1', 'crc32', 'crc32c']) {
    const created = await request('POST', base, { 'Upload-Length': String(data.length) });
    const url = new URL(created.headers.location, base).toString();
    const cpu0 = cpuOf(proc.pid);
    const t0 = process.hrtime.bigint();
    for (let at = 0; at < data.length; at += patchSize) {
      const body = data.subarray(at, Math.min(at + patchSize, data.length));
      const headers = {
        'Upload-Offset': String(at),
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(body.length),
      };
      if (alg !== 'none')
        headers['Upload-Checksum'] = `${alg} ${digests[alg](body).toString('base64')}`;
      const res = await request('PATCH', url, headers, body);
      if (res.statusCode !== 204) throw new Error(`PATCH ${alg}: ${res.statusCode}`);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuOf(proc.pid) - cpu0;
    console.log(
      `  ${alg.padEnd(7)} ${(sizeMiB / s).toFixed(0).padStart(4)} MiB/s wall  server CPU ${cpu.toFixed(2)} s (${((cpu / sizeMiB) * 1000).toFixed(1)} ms/MiB)`,
    );
    await request('DELETE', url, {});
  }
}
proc.kill('SIGTERM');
