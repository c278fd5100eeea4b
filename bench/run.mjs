#!/usr/bin/env node
// pnpm bench: this project against its peers, side by side, on one RGW, in one run.
//
//   pnpm bench                 full run (3 reps, 1 GiB files; scale in rep 0 only), writes
//                              bench/results/<date>.json, bench/results/<date>.png and the
//                              results part of BENCHMARKS.md
//   pnpm bench --quick         1 rep, smaller files, results in bench/.work/results/ only
//   options: --reps N  --cases A,C,D  --workloads one-patch,small  --profile (node --cpu-prof
//            on every server and client child, profiles in bench/.work/prof/)  --no-build  --write
//            --server-node-args=--trace-gc (extra node flags for the server children)
//            --rgw-conf 'rgw max chunk size = 1048576;...'  --osd-conf '...' (extra ceph.conf
//            lines for RGW / the OSD; experiments, never an official run)
//
// Starts its own bluestore Ceph RGW in bench/.work/rgw, makes the random files in
// bench/.work, runs each (workload, case, rep) with the server and the client as separate
// child processes (their peak RSS and CPU seconds are their own), verifies every object,
// and stops everything it started (by PID), also on failure and Ctrl-C.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRgw, stopRgw } from '../scripts/rgw.mjs';
import { CASES } from './lib/cases.mjs';
import { randomFile } from './lib/files.mjs';
import {
  cpuSecondsOf,
  exitReason,
  machineBusySeconds,
  peakRssOf,
  peakRssOrNull,
  runClientChild,
  sleep,
  startServer,
  stopAllChildren,
  stopChild,
} from './lib/proc.mjs';
import { writeReports } from './lib/report.mjs';
import { countRequests, logSize } from './lib/rgwlog.mjs';
import {
  createBucket,
  emptyBucket,
  s3Client,
  verifyHashes,
  verifySizes,
  warmBackend,
} from './lib/s3.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const BENCH = path.join(ROOT, 'bench');
const WORK = path.join(BENCH, '.work');
// Our packages run from a copy of their dist/ taken at start (bench/.work/snapshot), so a
// rebuild by someone else during the run cannot change the code under test half-way.
const SNAP = path.join(WORK, 'snapshot');
const OUR_SERVER = path.join(SNAP, 'server/dist/cli.js');
const OUR_CLIENT_CLI = path.join(SNAP, 'client/dist/cli.js');
const OUR_CLIENT_MODULE = path.join(SNAP, 'client/dist/node.js');
const STOCK_SERVER = path.join(BENCH, 'peers/stock-server.mjs');

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    cases: { type: 'string' },
    workloads: { type: 'string' },
    profile: { type: 'boolean', default: false },
    // Measure servers as they start, without the warm-up upload (see runOne).
    cold: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    // Extra node flags for the server children only (experiments: --trace-gc, ...).
    'server-node-args': { type: 'string' },
    'rgw-conf': { type: 'string' },
    'osd-conf': { type: 'string' },
  },
});

const SIZES = {
  ...(opt.quick
    ? {
        reps: 1,
        big: 256 * MiB,
        mid: 32 * MiB,
        smallCount: 100,
        manyCount: 10,
        scaleCount: 50,
        scale: 8 * MiB,
      }
    : {
        reps: 3,
        big: 1 * GiB,
        mid: 128 * MiB,
        smallCount: 500,
        manyCount: 20,
        scaleCount: 200,
        scale: 32 * MiB,
      }),
  // Rounds of the big file written and deleted before rep 0 (warmBackend), either way.
  backendWarmRounds: 2,
};
if (opt.reps) SIZES.reps = Math.max(1, Number(opt.reps));
const SMALL = 256 * KiB;

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const fmtSize = (n) =>
  n >= GiB ? `${n / GiB} GiB` : n >= MiB ? `${n / MiB} MiB` : `${Math.round(n / KiB)} KiB`;

// ---- tools -------------------------------------------------------------------------------

function which(bin) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    try {
      accessSync(path.join(d, bin), constants.X_OK);
      return path.join(d, bin);
    } catch {}
  }
  return null;
}

/** Installs the Debian packages the run needs when they are missing (as root). */
function ensureTools() {
  const need = [];
  if (!which('rsvg-convert')) need.push('librsvg2-bin', 'fonts-dejavu-core');
  if (!which('radosgw') || !which('ceph-osd') || !which('ceph-mon'))
    need.push('ceph-mon', 'ceph-osd', 'radosgw');
  if (need.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing packages ${need.join(' ')}: run as root or apt-get install -y --no-install-recommends ${need.join(' ')}`,
    );
  }
  log(`installing ${need.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...need]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.status})`);
  }
}

function build() {
  log('building packages (pnpm build; --no-build to skip)');
  const env = { ...process.env, COREPACK_INTEGRITY_KEYS: '0' };
  let r = spawnSync('pnpm', ['build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.error) r = spawnSync('corepack', ['pnpm', 'build'], { cwd: ROOT, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('pnpm build failed (run with --no-build to use dist as is)');
}

/** Copies packages/{server,client}/dist; returns a SHA-256 over the copied files. */
function snapshotPackages() {
  rmSync(SNAP, { recursive: true, force: true });
  const hash = createHash('sha256');
  for (const pkg of ['server', 'client']) {
    const src = path.join(ROOT, 'packages', pkg);
    const dst = path.join(SNAP, pkg);
    cpSync(path.join(src, 'dist'), path.join(dst, 'dist'), { recursive: true });
    cpSync(path.join(src, 'package.json'), path.join(dst, 'package.json'));
    symlinkSync(path.join(src, 'node_modules'), path.join(dst, 'node_modules'));
    const files = readdirSync(path.join(dst, 'dist'), { recursive: true }).sort();
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      hash.update(f).update(readFileSync(path.join(dst, 'dist', f)));
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** Which issue-4 options our client has: its CLI documents --parallel and --checksum. */
function clientCaps() {
  let help = '';
  for (const args of [['--help'], ['upload', '--help']]) {
    const r = spawnSync(process.execPath, [OUR_CLIENT_CLI, ...args], { encoding: 'utf8' });
    help += `${r.stdout}${r.stderr}`;
  }
  return {
    parallel: /--parallel\b/.test(help),
    checksum: /--checksum\b/.test(help),
    instant: /--dedupe\b/.test(help),
  };
}

function versionOf(pkg) {
  for (const base of [path.join(BENCH, 'node_modules'), path.join(ROOT, 'node_modules')]) {
    try {
      return JSON.parse(readFileSync(path.join(base, pkg, 'package.json'), 'utf8')).version;
    } catch {}
  }
  return null;
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---- plan --------------------------------------------------------------------------------

const CLIENT_SCRIPTS = {
  aws: path.join(BENCH, 'clients/aws.mjs'),
  tusjs: path.join(BENCH, 'clients/tusjs.mjs'),
  ours: path.join(BENCH, 'clients/ours.mjs'),
};

function workloads(files) {
  const { big, mid, smalls, scale } = files;
  return [
    {
      id: 'one-patch',
      title: `${fmtSize(big.size)}, one PATCH`,
      files: [big],
      concurrency: 1,
      chunkSize: null,
      cases: ['A', 'B', 'C', 'Cmd5', 'D', 'Ddg', 'Dp4', 'Dp4s'],
    },
    {
      id: 'patch-8m',
      title: `${fmtSize(big.size)} in 8 MiB PATCHes`,
      files: [big],
      concurrency: 1,
      chunkSize: 8 * MiB,
      // A has no PATCHes: its upload would repeat the one above, whose A run of the same
      // rep is the reference here.
      ref: 'one-patch',
      cases: ['A1', 'B', 'C', 'Cdg', 'D'],
    },
    {
      id: 'one-patch-mid',
      title: `${fmtSize(mid.size)}, one PATCH`,
      files: [mid],
      concurrency: 1,
      chunkSize: null,
      cases: ['A', 'B', 'C', 'D'],
    },
    {
      id: 'small',
      title: `${smalls.length} × 256 KiB, 8 at a time`,
      files: smalls,
      concurrency: 8,
      chunkSize: null,
      unit: 'files/s',
      cases: ['A', 'B', 'C', 'D'],
    },
    {
      // Issue 22: instant upload time vs the normal upload of the same file (seconds).
      id: 'instant',
      title: `${fmtSize(mid.size)} with --dedupe: new content vs content the tenant stored`,
      files: [mid],
      concurrency: 1,
      chunkSize: null,
      unit: 's',
      cases: ['Ddu', 'Ddi'],
    },
    {
      id: 'many',
      title: `${SIZES.manyCount} × ${fmtSize(mid.size)} at once`,
      files: Array.from({ length: SIZES.manyCount }, () => mid),
      concurrency: SIZES.manyCount,
      chunkSize: null,
      cases: ['A', 'C', 'D'],
    },
    {
      // Issue 25: many uploads at once, our server at its default partMemory. Each record
      // keeps every upload's duration; a case that cannot finish is reported as failed.
      id: 'scale',
      title: `${SIZES.scaleCount} × ${fmtSize(scale.size)} at once`,
      files: Array.from({ length: SIZES.scaleCount }, () => scale),
      concurrency: SIZES.scaleCount,
      chunkSize: null,
      perUpload: true,
      mayFail: true,
      // The longest workload: a run of every workload has it in rep 0 only (plan).
      firstRepOnly: true,
      // A case that hangs is given up at 16 MiB/s, not at the others' 2 MiB/s (which would
      // be most of an hour here): reported as failed, and the run goes on.
      timeoutMs: Math.max(180_000, ((SIZES.scaleCount * scale.size) / (16 * MiB)) * 1000),
      cases: ['A', 'B', 'C', 'D'],
    },
  ];
}

/**
 * Rep r runs the cases of a workload rotated by r, so no case always goes first. A
 * `firstRepOnly` workload runs in rep 0 only, unless --workloads names it.
 */
function plan(wls, reps, caseFilter, caps, wlFilter) {
  const out = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const wl of wls) {
      if (rep > 0 && wl.firstRepOnly && !wlFilter?.has(wl.id)) continue;
      const cases = wl.cases.filter(
        (c) => (!caseFilter || caseFilter.has(c)) && (!CASES[c].needs || caps[CASES[c].needs]),
      );
      const k = rep % cases.length;
      for (const c of [...cases.slice(k), ...cases.slice(0, k)]) out.push({ wl, c: CASES[c], rep });
    }
  }
  return out;
}

// ---- one run -----------------------------------------------------------------------------

// A server in production has served requests before: the first use of each S3 command
// costs a fresh Node process ~65 ms of lazy loading and compiling in the SDK (measured:
// four CreateMultipartUploads at once took 78 ms each on a new process, 9-14 ms once any
// request had gone before), and a parallel upload meets five of them in a row before its
// first byte moves. So every server child (B, C, D alike) first takes one upload of the
// same case, smaller, with the same client; the measurement starts after it. The clients
// and A stay cold: each is a new process per run. `--cold` skips the warm-up.
const WARM_SIZE = 64 * MiB;

/** The job a client child reads: what to upload, where, and the case's options. */
function writeJob(name, { files, concurrency, wl, c, server, ctx, keyPrefix }) {
  const jobFile = path.join(WORK, 'jobs', `${name}.json`);
  writeFileSync(
    jobFile,
    JSON.stringify({
      files: files.map((f) => ({ path: f.path, size: f.size, name: f.name })),
      concurrency,
      chunkSize: wl.chunkSize,
      endpoint: server?.url,
      s3: { ...ctx.s3Config, bucket: c.bucket },
      keyPrefix,
      parallel: c.parallel,
      checksum: c.checksum,
      dedupe: c.dedupe,
      queueSize: c.queueSize,
      clientModule: OUR_CLIENT_MODULE,
    }),
  );
  return jobFile;
}

async function warmUp(server, wl, c, id, ctx) {
  // The warm-up file is new to the server: a dedupe case uploads it normally.
  if (c.dedupe) c = { ...c, dedupe: 'uploaded' };
  const small = wl.id === 'small';
  const files = small ? wl.files.slice(0, wl.concurrency) : [ctx.files.warm];
  const jobFile = writeJob(`${id}.warm`, {
    files,
    concurrency: small ? wl.concurrency : 1,
    wl,
    c,
    server,
    ctx,
    keyPrefix: `${id}-warm-`,
  });
  await runClientChild({
    script: CLIENT_SCRIPTS[c.client],
    jobFile,
    env: ctx.env,
    logFile: path.join(WORK, 'logs', `${id}.warm.client.log`),
    timeoutMs: 120_000,
  });
}

/** Uploads the workload's files once (normally), so the measured run finds them stored. */
async function prime(server, wl, c, id, ctx) {
  const jobFile = writeJob(`${id}.prime`, {
    files: wl.files,
    concurrency: wl.concurrency,
    wl,
    c: { ...c, dedupe: 'uploaded' },
    server,
    ctx,
    keyPrefix: `${id}-prime-`,
  });
  await runClientChild({
    script: CLIENT_SCRIPTS[c.client],
    jobFile,
    env: ctx.env,
    logFile: path.join(WORK, 'logs', `${id}.prime.client.log`),
    timeoutMs: 180_000,
  });
}

const keyOfUrl = (url) => decodeURIComponent(new URL(url).pathname.split('/').pop());

/** node --cpu-prof into bench/.work/prof/<name>.cpuprofile. */
function cpuProfArgs(name) {
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${path.join(WORK, 'prof')}`,
    `--cpu-prof-name=${name}.cpuprofile`,
  ];
}

async function runOne({ wl, c, rep }, ctx) {
  const { rgw, s3, env } = ctx;
  const id = `${wl.id}-${c.id}-r${rep}`;
  const logs = path.join(WORK, 'logs');
  let server = null;
  if (c.server) {
    const prof = opt.profile ? cpuProfArgs(id) : [];
    if (opt['server-node-args']) prof.push(...opt['server-node-args'].split(' ').filter(Boolean));
    server = await startServer({
      args: [
        ...prof,
        c.server === 'ours' ? OUR_SERVER : STOCK_SERVER,
        '--port',
        '0',
        '--s3-bucket',
        c.bucket,
        '--s3-endpoint',
        rgw.endpoint,
        '--s3-region',
        rgw.region,
        '--part-size',
        c.server === 'ours' ? '8MiB' : String(8 * MiB),
        ...(c.serverArgs ?? []),
      ],
      env,
      logFile: path.join(logs, `${id}.server.log`),
    });
  }
  if (server && !opt.cold) await warmUp(server, wl, c, id, ctx);
  if (c.prime) await prime(server, wl, c, id, ctx);
  const bytes = wl.files.reduce((s, f) => s + f.size, 0);
  const jobFile = writeJob(id, {
    files: wl.files,
    concurrency: wl.concurrency,
    wl,
    c,
    server,
    ctx,
    keyPrefix: `${id}-`,
  });
  const rgwPids = Object.values(rgw.pids).filter(Boolean);
  const rgwCpu = () => rgwPids.reduce((s, pid) => s + cpuSecondsOf(pid), 0);
  let result;
  let serverStats = null;
  let wall1 = 0;
  const load1 = os.loadavg()[0];
  const rgwLog = path.join(WORK, 'rgw/log/client.rgw.log');
  const logOffset = logSize(rgwLog);
  const wall0 = Date.now();
  const busy0 = machineBusySeconds();
  const rgw0 = rgwCpu();
  const srv0 = server ? cpuSecondsOf(server.pid) : 0;
  const srvRss0 = server ? peakRssOf(server.pid) : 0;
  try {
    result = await runClientChild({
      script: CLIENT_SCRIPTS[c.client],
      jobFile,
      env,
      logFile: path.join(logs, `${id}.client.log`),
      timeoutMs: wl.timeoutMs ?? Math.max(180_000, (bytes / (2 * MiB)) * 1000),
      nodeArgs: opt.profile ? cpuProfArgs(`${id}-client`) : [],
    });
    wall1 = Date.now();
    if (server) {
      serverStats = {
        peakRssBytes: peakRssOf(server.pid),
        cpuSec: cpuSecondsOf(server.pid) - srv0,
        startupCpuSec: srv0,
        readyPeakRssBytes: srvRss0,
      };
    }
  } catch (e) {
    // A failed run still says how much memory its server had taken by then, and, when the
    // server is the one that died, why (the client only sees refused connections).
    if (server) {
      e.serverStats = { peakRssBytes: peakRssOrNull(server.pid) };
      const died = exitReason(server.child, path.join(logs, `${id}.server.log`));
      if (died) e.message = `server ${died}; client: ${e.message}`;
    }
    e.elapsedSec = (Date.now() - wall0) / 1000;
    throw e;
  } finally {
    if (server) {
      await stopChild(server.child);
      server.log.end();
    }
  }
  const busy = machineBusySeconds() - busy0;
  const rgwSec = rgwCpu() - rgw0;
  const elapsedSec = result.elapsedMs / 1000;
  const ours = (serverStats?.cpuSec ?? 0) + result.cpuTotalSec + rgwSec;

  // S3 requests the run made (server, or client for A), from the RGW access log.
  await sleep(200);
  const s3Requests = countRequests(rgwLog, logOffset, c.bucket, wall0, wall1);

  // Verify: every object's size; SHA-256 of every object on the first rep of each case.
  const shaOf = new Map(wl.files.map((f) => [f.path, f.sha256]));
  const objects = result.uploads.map((u) => ({
    key: u.key ?? keyOfUrl(u.url),
    size: u.size,
    sha256: shaOf.get(u.file),
  }));
  if (objects.length !== wl.files.length) {
    throw new Error(`${id}: ${objects.length} uploads reported, ${wl.files.length} expected`);
  }
  await verifySizes(s3, c.bucket, objects);
  // SHA-256 (a GET of each object): on the first rep, every object of a run, except the
  // 20 × 128 MiB run, where 5 of the 20 are read (the size of all 20 is checked each rep).
  const hashed =
    rep === 0 ? (objects.length === 1 || wl.id === 'small' ? objects : objects.slice(0, 5)) : [];
  if (hashed.length > 0) await verifyHashes(s3, c.bucket, hashed);
  await emptyBucket(s3, c.bucket);

  return {
    workload: wl.id,
    case: c.id,
    rep,
    bytes,
    files: wl.files.length,
    elapsedSec,
    mibPerSec: bytes / MiB / elapsedSec,
    filesPerSec: wl.files.length / elapsedSec,
    server: serverStats && {
      ...serverStats,
      cpuSecPerGiB: serverStats.cpuSec / (bytes / GiB),
    },
    client: {
      peakRssBytes: result.peakRssBytes,
      cpuSec: result.cpuSec,
      cpuSecPerGiB: result.cpuSec / (bytes / GiB),
    },
    rgwCpuSec: rgwSec,
    otherLoadCores: Math.max(0, busy - ours) / elapsedSec,
    loadavg1: load1,
    retries: result.retries,
    // Body bytes the client sent (our client only): an instant upload sends none.
    bytesSent: result.uploads.every((u) => typeof u.bytesSent === 'number')
      ? result.uploads.reduce((n, u) => n + u.bytesSent, 0)
      : null,
    s3Requests,
    verified: { sizes: objects.length, sha256: hashed.length },
    ...(wl.perUpload ? { perUpload: perUploadTimes(result.uploads) } : {}),
  };
}

/** Every upload's start, end and duration (s), and the slowest over the fastest duration. */
function perUploadTimes(uploads) {
  const sec = (ms) => Math.round(ms) / 1000;
  const durations = uploads.map((u) => u.endMs - u.startMs);
  const fastest = Math.min(...durations);
  const slowest = Math.max(...durations);
  return {
    fastestSec: sec(fastest),
    slowestSec: sec(slowest),
    slowestOverFastest: slowest / fastest,
    startSec: uploads.map((u) => sec(u.startMs)),
    endSec: uploads.map((u) => sec(u.endMs)),
  };
}

/** A run of a `mayFail` workload that threw: recorded as failed, with the reason. */
async function failedRun({ wl, c, rep }, ctx, error) {
  await emptyBucket(ctx.s3, c.bucket).catch(() => {});
  return {
    workload: wl.id,
    case: c.id,
    rep,
    failed: error.message.split('\n')[0],
    failedAfterSec: error.elapsedSec ?? null,
    server: error.serverStats ?? null,
    files: wl.files.length,
    bytes: wl.files.reduce((s, f) => s + f.size, 0),
  };
}

const INSTANT_ARGS = CASES.Ddi.serverArgs;

/** Whether our server started with `args` lists `extension` in its OPTIONS answer. */
async function serverOffers(env, rgw, args, extension) {
  const srv = await startServer({
    args: [
      OUR_SERVER,
      '--port',
      '0',
      '--s3-bucket',
      'bench-d',
      '--s3-endpoint',
      rgw.endpoint,
      ...args,
    ],
    env,
    logFile: path.join(WORK, 'logs', 'options-instant.server.log'),
  }).catch(() => null);
  if (!srv) return false;
  try {
    const res = await fetch(srv.url, { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0' } });
    return (res.headers.get('tus-extension') ?? '').split(',').some((x) => x.trim() === extension);
  } finally {
    await stopChild(srv.child);
    srv.log.end();
  }
}

// ---- main --------------------------------------------------------------------------------

let rgwStarted = false;
let signalled = false;
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    await stopAllChildren();
    if (rgwStarted) {
      log('stopping RGW');
      await stopRgw(path.join(WORK, 'rgw')).catch((e) => log(`RGW stop: ${e.message}`));
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    signalled = true;
    log(`${sig}: stopping what this run started`);
    cleanup().finally(() => process.exit(130));
  });
}

async function main() {
  const t0 = Date.now();
  const caseFilter = opt.cases ? new Set(opt.cases.split(',')) : null;
  const wlFilter = opt.workloads ? new Set(opt.workloads.split(',')) : null;
  const confLines = (v) =>
    (v ?? '')
      .split(';')
      .map((l) => l.trim())
      .filter(Boolean);
  const extraConf = { rgw: confLines(opt['rgw-conf']), osd: confLines(opt['osd-conf']) };
  const tunedRgw = extraConf.rgw.length + extraConf.osd.length > 0;
  // A tuned RGW is an experiment: its results never replace the official ones.
  const official =
    ((!opt.quick && !caseFilter && !wlFilter && !opt.reps) || opt.write) && !tunedRgw;
  ensureTools();
  if (!opt['no-build']) build();
  const distHash = snapshotPackages();
  const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'packages']);
  const caps = clientCaps();
  if (!caps.parallel || !caps.checksum) {
    log(
      `our client has no ${[!caps.parallel && '--parallel', !caps.checksum && '--checksum'].filter(Boolean).join(' / ')} yet (issue 4): those D rows are reported as not available`,
    );
  }
  for (const d of ['jobs', 'logs', 'prof', 'files'])
    mkdirSync(path.join(WORK, d), { recursive: true });

  // A previous run killed hard may have left its RGW: stop it (only daemons of this dir).
  await stopRgw(path.join(WORK, 'rgw')).catch(() => {});
  log('starting RGW (bluestore) in bench/.work/rgw');
  rgwStarted = true;
  if (tunedRgw) log(`RGW with extra ceph.conf lines: ${JSON.stringify(extraConf)}`);
  const rgw = await startRgw({ dir: path.join(WORK, 'rgw'), objectstore: 'bluestore', extraConf });
  const s3Config = {
    endpoint: rgw.endpoint,
    region: rgw.region,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
  };
  const s3 = s3Client(rgw);
  for (const b of ['bench-a', 'bench-b', 'bench-c', 'bench-d']) await createBucket(s3, b);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };

  log('making random files in bench/.work/files');
  const dir = path.join(WORK, 'files');
  const files = {
    warm: await randomFile(dir, `warm-${WARM_SIZE}.bin`, WARM_SIZE),
    big: await randomFile(dir, `big-${SIZES.big}.bin`, SIZES.big),
    mid: await randomFile(dir, `mid-${SIZES.mid}.bin`, SIZES.mid),
    scale: await randomFile(dir, `scale-${SIZES.scale}.bin`, SIZES.scale),
    smalls: [],
  };
  for (let i = 0; i < SIZES.smallCount; i++) {
    files.smalls.push(await randomFile(dir, `small-${i}.bin`, SMALL));
  }

  const warmStart = performance.now();
  await warmBackend(s3, 'bench-warm', files.big.path, SIZES.backendWarmRounds);
  const backendWarm = {
    rounds: SIZES.backendWarmRounds,
    bytes: SIZES.big,
    seconds: (performance.now() - warmStart) / 1000,
  };
  log(
    `backend warmed: ${backendWarm.rounds} × ${fmtSize(SIZES.big)} written and deleted in ${backendWarm.seconds.toFixed(1)} s`,
  );

  // Our server must advertise what the D variants rely on, or the client would fall back.
  {
    const srv = await startServer({
      args: [OUR_SERVER, '--port', '0', '--s3-bucket', 'bench-d', '--s3-endpoint', rgw.endpoint],
      env,
      logFile: path.join(WORK, 'logs', 'options.server.log'),
    });
    const res = await fetch(srv.url, { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0' } });
    const ext = (res.headers.get('tus-extension') ?? '').split(',').map((s) => s.trim());
    await stopChild(srv.child);
    srv.log.end();
    caps.serverExtensions = ext;
    if (caps.parallel && !ext.includes('concatenation')) caps.parallel = false;
    if (caps.checksum && !ext.includes('checksum')) caps.checksum = false;
    caps.checksum = caps.checksum && caps.parallel;
    caps.instant = caps.instant && (await serverOffers(env, rgw, INSTANT_ARGS, 'instant-upload'));
  }

  const wls = workloads(files).filter((w) => !wlFilter || wlFilter.has(w.id));
  const runs = plan(wls, SIZES.reps, caseFilter, caps, wlFilter);
  log(`${runs.length} runs: ${SIZES.reps} rep(s) × ${wls.map((w) => w.id).join(', ')}`);
  const loadStart = os.loadavg();
  const records = [];
  for (const [i, r] of runs.entries()) {
    const ctx = { rgw, s3, env, s3Config, files };
    const rec = await runOne(r, ctx).catch((e) => {
      if (!r.wl.mayFail || signalled) throw e;
      return failedRun(r, ctx, e);
    });
    records.push(rec);
    if (rec.failed) {
      log(`[${i + 1}/${runs.length}] ${r.wl.id} ${r.c.id} r${r.rep}: FAILED: ${rec.failed}`);
      continue;
    }
    const tp =
      r.wl.unit === 'files/s'
        ? `${rec.filesPerSec.toFixed(1)} files/s`
        : r.wl.unit === 's'
          ? `${rec.elapsedSec.toFixed(3)} s, ${rec.bytesSent} bytes sent`
          : `${rec.mibPerSec.toFixed(1)} MiB/s`;
    const srv = rec.server
      ? `server ${(rec.server.peakRssBytes / MiB).toFixed(0)} MiB, ${rec.server.cpuSecPerGiB.toFixed(2)} CPU s/GiB`
      : 'no server';
    log(
      `[${i + 1}/${runs.length}] ${r.wl.id} ${r.c.id} r${r.rep}: ${tp}${rec.perUpload ? ` (slowest/fastest upload ${rec.perUpload.slowestOverFastest.toFixed(2)})` : ''}; ${srv}; client ${(rec.client.peakRssBytes / MiB).toFixed(0)} MiB; other load ${rec.otherLoadCores.toFixed(2)} cores${rec.verified.sha256 ? '; sha256 ok' : ''}`,
    );
  }
  const loadEnd = os.loadavg();

  const meta = {
    date: new Date().toISOString(),
    quick: opt.quick,
    warmServers: !opt.cold,
    backendWarm,
    official,
    durationSec: Math.round((Date.now() - t0) / 1000),
    sizes: { ...SIZES, small: SMALL },
    machine: {
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? null,
      memGiB: Math.round((os.totalmem() / GiB) * 10) / 10,
      kernel: os.release(),
      node: process.version,
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
    },
    versions: {
      '@tus-s3/server': versionOf('@tus-s3/server'),
      '@tus-s3/client': versionOf('@tus-s3/client'),
      '@aws-sdk/client-s3': versionOf('@aws-sdk/client-s3'),
      '@aws-sdk/lib-storage': versionOf('@aws-sdk/lib-storage'),
      '@tus/server': versionOf('@tus/server'),
      '@tus/s3-store': versionOf('@tus/s3-store'),
      'tus-js-client': versionOf('tus-js-client'),
      express: versionOf('express'),
      ceph: sh('radosgw', ['--version'])?.split(' ')[2] ?? null,
      commit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
      packagesDirty: Boolean(dirty),
      distSha256: distHash,
    },
    clientCaps: caps,
    rgwExtraConf: tunedRgw ? extraConf : null,
    command: `pnpm bench${opt.quick ? ' --quick' : ''}${process.argv
      .slice(2)
      .filter((a) => a !== '--quick')
      .map((a) => ` ${a}`)
      .join('')}`,
  };
  const out = await writeReports({
    meta,
    records,
    workloads: wls.map(({ id, title, unit, cases, ref, perUpload, firstRepOnly }) => ({
      id,
      title,
      unit,
      cases,
      ref,
      perUpload,
      firstRepOnly: firstRepOnly && !wlFilter?.has(id),
    })),
    cases: CASES,
    official,
    root: ROOT,
    workDir: WORK,
  });
  log(`done in ${meta.durationSec} s: ${out.join(', ')}`);
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (e) => {
    if (signalled) return;
    log(`FAILED: ${e.message}`);
    await cleanup();
    process.exit(1);
  });
