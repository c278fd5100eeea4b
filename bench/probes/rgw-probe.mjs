// Two probes of the bench's RGW (bluestore, as `pnpm bench` starts it) behind the 8 MiB
// PATCH analysis in BENCHMARKS.md. Each streams bodies at the rate C's PATCH bodies arrive
// (~267 MiB/s, the RATE env in MiB/s) and stops its own RGW in bench/.work/probe-rgw.
//
//   node bench/probes/rgw-probe.mjs latency   # ms from a body's last byte to RGW's answer,
//                                             # by request kind and size
//   node bench/probes/rgw-probe.mjs early-cut # one 8 MiB "PATCH" whose part ends X MiB
//                                             # early, the X MiB staged as an object (XS env)
//
// RGW_CONF / OSD_CONF (';'-separated ceph.conf lines) try a setting, e.g.
//   RGW_CONF='rgw max chunk size = 1048576' node bench/probes/rgw-probe.mjs latency
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { startRgw, stopRgw } from '../../scripts/rgw.mjs';

const require = createRequire(new URL('../../packages/server/package.json', import.meta.url));
const S3 = require('@aws-sdk/client-s3');
const MiB = 1024 * 1024;
const RATE = (Number(process.env.RATE ?? 267) * MiB) / 1000; // bytes per ms
const REPS = Number(process.env.REPS ?? 12);
const src = Buffer.alloc(8 * MiB);
for (let i = 0; i < src.length; i += 4) src.writeUInt32LE((i * 2654435761) >>> 0, i);

/** A body of `size` bytes: `ready` of them at once, the rest arriving at RATE from now. */
function paced(size, ready = 0) {
  const t0 = performance.now();
  let sent = 0;
  const body = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (sent >= size) {
        body.lastByteAt ??= performance.now();
        this.push(null);
        return;
      }
      const due = Math.min(size, ready + Math.ceil((performance.now() - t0) * RATE));
      if (due <= sent) {
        setTimeout(() => this._read(), 0.5);
        return;
      }
      const n = Math.min(due - sent, 256 * 1024);
      this.push(src.subarray(0, n));
      sent += n;
    },
  });
  return body;
}

const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];

async function latency(s3, Bucket, UploadId) {
  const kinds = [
    ['part', 8],
    ['part', 5],
    ['part', 2],
    ['put', 3],
    ['put', 2],
    ['put', 1],
    ['put', 0.25],
  ];
  const after = {};
  let part = 1;
  for (let rep = 0; rep < REPS; rep++) {
    for (const [kind, mib] of kinds) {
      const size = Math.round(mib * MiB);
      const Body = paced(size);
      const common = { Bucket, Body, ContentLength: size };
      if (kind === 'part')
        await s3.send(
          new S3.UploadPartCommand({ ...common, Key: 'mp', UploadId, PartNumber: part++ }),
        );
      else await s3.send(new S3.PutObjectCommand({ ...common, Key: `o${rep}-${mib}` }));
      const key = `${kind} ${mib} MiB`;
      after[key] = [...(after[key] ?? []), performance.now() - Body.lastByteAt];
    }
  }
  for (const [k, v] of Object.entries(after))
    console.log(
      `${k}: answer ${median(v).toFixed(1)} ms after the last byte (median of ${v.length})`,
    );
}

async function earlyCut(s3, Bucket, UploadId) {
  const xs = (process.env.XS ?? '0,1,2,3').split(',').map(Number);
  const per = {};
  let part = 1;
  for (let rep = 0; rep < REPS; rep++) {
    for (const x of xs) {
      const X = Math.round(x * MiB);
      const t0 = performance.now();
      // The part: the X MiB staged by the previous PATCH (in memory), then 8 - X fresh.
      const sendPart = s3.send(
        new S3.UploadPartCommand({
          Bucket,
          Key: 'mp',
          UploadId,
          PartNumber: part++,
          ContentLength: 8 * MiB,
          Body: paced(8 * MiB, X),
        }),
      );
      // The PATCH's last X MiB, staged as an object once the part's bytes are all in.
      const stage = X
        ? new Promise((r) => setTimeout(r, (8 * MiB - X) / RATE)).then(() =>
            s3.send(
              new S3.PutObjectCommand({
                Bucket,
                Key: `seg${rep}-${x}`,
                ContentLength: X,
                Body: paced(X),
              }),
            ),
          )
        : undefined;
      await Promise.all([sendPart, stage]);
      per[x] = [...(per[x] ?? []), performance.now() - t0];
    }
  }
  for (const [x, v] of Object.entries(per)) {
    const ms = median(v);
    console.log(
      `X ${x} MiB: ${ms.toFixed(1)} ms per 8 MiB PATCH -> ${((8 * 1000) / ms).toFixed(0)} MiB/s`,
    );
  }
}

const probe = { latency, 'early-cut': earlyCut }[process.argv[2]];
if (!probe) {
  console.error('usage: node bench/probes/rgw-probe.mjs latency|early-cut');
  process.exit(1);
}
const dir = new URL('../.work/probe-rgw', import.meta.url).pathname;
const confLines = (v) =>
  (v ?? '')
    .split(';')
    .map((l) => l.trim())
    .filter(Boolean);
const rgw = await startRgw({
  dir,
  objectstore: 'bluestore',
  extraConf: { rgw: confLines(process.env.RGW_CONF), osd: confLines(process.env.OSD_CONF) },
});
try {
  const s3 = new S3.S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const Bucket = 'probe';
  await s3.send(new S3.CreateBucketCommand({ Bucket }));
  const { UploadId } = await s3.send(new S3.CreateMultipartUploadCommand({ Bucket, Key: 'mp' }));
  await probe(s3, Bucket, UploadId);
} finally {
  await stopRgw(dir);
}
