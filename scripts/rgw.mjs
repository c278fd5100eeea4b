#!/usr/bin/env node
// Single-node Ceph RADOS Gateway (S3) on 127.0.0.1, everything inside one directory.
// See /work/shared/notes/ceph-rgw.md for the facts behind each setting.
//
//   import { startRgw, stopRgw } from './scripts/rgw.mjs';
//   const rgw = await startRgw({ dir: '.tmp/rgw', objectstore: 'memstore' });
//   ... rgw.endpoint, rgw.accessKeyId ...; await rgw.stop();
//
// CLI:  node scripts/rgw.mjs start DIR [--bluestore] [--memstore-bytes N]
//       node scripts/rgw.mjs stop DIR
//
// Only ever signals PIDs read from its own PID files in DIR (and only if the process's
// command line names DIR's ceph.conf).
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePorts,
  livePidFromFile,
  refuseLive,
  requireBinaries,
  run,
  runDaemon,
  runIfMain,
  runOk,
  sleep,
  stopByPidFile,
  tail,
  which,
} from './daemon-util.mjs';

const REGION = 'us-east-1';
const BINARIES = {
  monmaptool: 'ceph-mon',
  'ceph-mon': 'ceph-mon',
  'ceph-osd': 'ceph-osd',
  radosgw: 'radosgw',
  'radosgw-admin': 'radosgw',
  ceph: 'ceph-common',
};
// Stop order matters: radosgw first, then osd, then mon (all at once makes radosgw hang 120 s).
const DAEMONS = ['client.rgw', 'osd.0', 'mon.a'];

const layout = (dir) => ({
  conf: path.join(dir, 'ceph.conf'),
  run: path.join(dir, 'run'),
  log: path.join(dir, 'log'),
  mon: path.join(dir, 'mon'),
  osd: path.join(dir, 'osd'),
  monmap: path.join(dir, 'monmap'),
  env: path.join(dir, 'env.json'),
  pid: (name) => path.join(dir, 'run', `${name}.pid`),
  logOf: (name) => path.join(dir, 'log', `${name}.log`),
  outOf: (name) => path.join(dir, 'log', `${name}.out`),
});

function cephConf({ dir, fsid, monPort, rgwPort, objectstore, memstoreBytes, extraConf }) {
  const L = layout(dir);
  const osdStore =
    objectstore === 'bluestore'
      ? [
          'osd objectstore = bluestore',
          'bluestore block create = true',
          'bluestore block size = 21474836480',
          'bluestore fsck on mkfs = false',
          'bluestore fsck on mount = false',
        ]
      : ['osd objectstore = memstore', `memstore device bytes = ${memstoreBytes}`];
  return `${[
    '[global]',
    `fsid = ${fsid}`,
    'mon initial members = a',
    `mon host = v2:127.0.0.1:${monPort}`,
    'public addr = 127.0.0.1',
    'cluster addr = 127.0.0.1',
    'ms bind msgr1 = false',
    'ms bind msgr2 = true',
    'ms bind ipv6 = false',
    'auth cluster required = none',
    'auth service required = none',
    'auth client required = none',
    'auth supported = none',
    'ms mon client mode = crc',
    'ms client mode = crc',
    'ms mon service mode = crc',
    'ms service mode = crc',
    'ms mon cluster mode = crc',
    'ms cluster mode = crc',
    'osd pool default size = 1',
    'osd pool default min size = 1',
    'osd pool default pg num = 8',
    'osd pool default pgp num = 8',
    'osd pool default pg autoscale mode = off',
    'osd crush chooseleaf type = 0',
    'mon allow pool size one = true',
    'mon warn on pool no redundancy = false',
    'mon max pg per osd = 1000',
    'mon data avail warn = 1',
    'mon data avail crit = 0',
    'paxos propose interval = 0.01',
    'paxos min wait = 0.001',
    `run dir = ${L.run}`,
    `admin socket = ${L.run}/$name.asok`,
    `pid file = ${L.run}/$name.pid`,
    `log file = ${L.log}/$name.log`,
    'log to stderr = false',
    'err to stderr = true',
    `mon data = ${L.mon}/$cluster-$id`,
    `osd data = ${L.osd}/$cluster-$id`,
    `keyring = ${dir}/keyring`,
    '',
    '[osd]',
    ...osdStore,
    ...(extraConf.osd ?? []),
    'osd memory target = 1073741824',
    '',
    '[client.rgw]',
    `rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1`,
    `rgw data = ${dir}/rgw`,
    'rgw gc obj min wait = 10',
    'rgw gc processor period = 10',
    'rgw enable usage log = false',
    ...(extraConf.rgw ?? []),
    '',
  ].join('\n')}`;
}

// ---- minimal SigV4 (GET / = ListBuckets), so this script needs no npm packages ----
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (k, s) => createHmac('sha256', k).update(s).digest();

async function signedListBuckets({ endpoint, accessKeyId, secretAccessKey, region }) {
  const url = new URL('/', endpoint);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256hex('');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = [
    'GET',
    '/',
    '',
    `host:${url.host}`,
    `x-amz-content-sha256:${payloadHash}`,
    `x-amz-date:${amzDate}`,
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const kSigning = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', kSigning).update(toSign).digest('hex');
  const res = await fetch(url, {
    headers: {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(2_000),
  });
  const body = await res.text();
  return { status: res.status, body };
}

async function httpStatus(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Throws a clear message naming the first daemon of `names` that is not alive. */
async function assertAlive(dir, names, waitingFor) {
  const L = layout(dir);
  for (const name of names) {
    if (livePidFromFile(L.pid(name), L.conf) === null) {
      throw new Error(
        `${binaryOf(name)} (${name}) died while waiting for ${waitingFor}; ` +
          `tail of ${L.logOf(name)}: ${await tail(L.logOf(name))}`,
      );
    }
  }
}

const binaryOf = (name) =>
  name.startsWith('mon.') ? 'ceph-mon' : name.startsWith('osd.') ? 'ceph-osd' : 'radosgw';

async function waitFor(what, timeoutMs, probe, onTimeout) {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`${what} within ${timeoutMs / 1000}s; ${await onTimeout()}`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 250);
  }
}

async function startOnce({ dir, objectstore, memstoreBytes, extraConf }) {
  const L = layout(dir);
  const [monPort, rgwPort] = await freePorts(2);
  const fsid = randomUUID();
  for (const p of [L.run, L.log, L.mon, L.osd, L.monmap, L.env, path.join(dir, 'rgw')]) {
    rmSync(p, { recursive: true, force: true });
  }
  for (const p of [L.run, L.log, L.mon, L.osd, path.join(dir, 'rgw')])
    mkdirSync(p, { recursive: true });
  writeFileSync(
    L.conf,
    cephConf({ dir, fsid, monPort, rgwPort, objectstore, memstoreBytes, extraConf }),
  );
  const c = ['-c', L.conf];
  const cli = ['--connect-timeout', '30', ...c];
  const daemonLog = (name) => openSync(L.outOf(name), 'a');

  // mon
  await runOk(which('monmaptool'), [
    '--create',
    '--clobber',
    '--fsid',
    fsid,
    '--addv',
    'a',
    `[v2:127.0.0.1:${monPort}]`,
    L.monmap,
  ]);
  mkdirSync(path.join(L.mon, 'ceph-a'), { recursive: true });
  await runOk(which('ceph-mon'), [...c, '--mkfs', '-i', 'a', '--monmap', L.monmap]);
  const start = async (name, bin, args, timeoutMs = 30_000) => {
    const fd = daemonLog(name);
    try {
      return await runDaemon(which(bin), [...c, ...args], {
        logFd: fd,
        pidFile: L.pid(name),
        marker: L.conf,
        name: `${bin} (${name})`,
        logFile: L.logOf(name),
        timeoutMs,
      });
    } finally {
      closeSync(fd);
    }
  };
  await start('mon.a', 'ceph-mon', ['-i', 'a']);

  // osd (`ceph osd new` waits for the mon to form quorum)
  const osdUuid = randomUUID();
  const created = await run(which('ceph'), [...cli, 'osd', 'new', osdUuid], { timeoutMs: 40_000 });
  if (created.code !== 0) {
    await assertAlive(dir, ['mon.a'], 'quorum');
    throw new Error(
      `ceph-mon (mon.a) did not answer \`ceph osd new\` (exit ${created.code}: ${created.stderr.trim().split('\n').slice(-2).join(' | ')}); ` +
        `tail of ${L.logOf('mon.a')}: ${await tail(L.logOf('mon.a'))}`,
    );
  }
  const osdId = created.stdout.trim();
  if (osdId !== '0')
    throw new Error(`expected osd id 0 from a fresh mon, got ${JSON.stringify(osdId)}`);
  mkdirSync(path.join(L.osd, 'ceph-0'), { recursive: true });
  const mkfs = await run(which('ceph-osd'), [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], {
    timeoutMs: 120_000,
  });
  if (mkfs.code !== 0) {
    throw new Error(
      `ceph-osd --mkfs (osd.0) exited ${mkfs.code}; tail of ${L.logOf('osd.0')}: ${await tail(L.logOf('osd.0'))}`,
    );
  }
  await start('osd.0', 'ceph-osd', ['-i', '0'], 60_000);
  await waitFor(
    'ceph-osd (osd.0) did not come up',
    60_000,
    async () => {
      await assertAlive(dir, ['mon.a', 'osd.0'], 'the OSD to be up');
      const r = await run(which('ceph'), [...cli, 'osd', 'stat', '-f', 'json'], {
        timeoutMs: 10_000,
      });
      try {
        return JSON.parse(r.stdout).num_up_osds === 1;
      } catch {
        return false;
      }
    },
    async () => `tail of ${L.logOf('osd.0')}: ${await tail(L.logOf('osd.0'))}`,
  );

  // radosgw
  await start('client.rgw', 'radosgw', ['-n', 'client.rgw'], 60_000);
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  await waitFor(
    `radosgw (client.rgw) did not answer HTTP on ${endpoint}`,
    60_000,
    async () => {
      await assertAlive(dir, DAEMONS, 'radosgw to answer HTTP');
      return (await httpStatus(`${endpoint}/`)) === 200;
    },
    async () => `tail of ${L.logOf('client.rgw')}: ${await tail(L.logOf('client.rgw'))}`,
  );

  // user + signed request
  const accessKeyId = `TEST${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  await runOk(
    which('radosgw-admin'),
    [
      ...c,
      'user',
      'create',
      '--uid=test',
      '--display-name=test',
      `--access-key=${accessKeyId}`,
      `--secret-key=${secretAccessKey}`,
    ],
    { timeoutMs: 60_000 },
  );
  let last = '';
  await waitFor(
    'radosgw did not accept a SigV4-signed request',
    30_000,
    async () => {
      try {
        const r = await signedListBuckets({
          endpoint,
          accessKeyId,
          secretAccessKey,
          region: REGION,
        });
        last = `HTTP ${r.status} ${r.body.slice(0, 200)}`;
        return r.status === 200;
      } catch (e) {
        last = String(e);
        return false;
      }
    },
    async () => `last answer: ${last}`,
  );

  const env = {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    dir,
    objectstore,
    monPort,
    rgwPort,
    pids: Object.fromEntries(DAEMONS.map((n) => [n, livePidFromFile(L.pid(n), L.conf)])),
  };
  writeFileSync(L.env, `${JSON.stringify(env, null, 2)}\n`);
  return env;
}

/**
 * Starts mon, osd and radosgw with all state in `dir`. Resolves when a SigV4-signed S3
 * request succeeds. Throws one clear line if it can't (and stops whatever it started).
 */
export async function startRgw({
  dir,
  objectstore = 'memstore',
  memstoreBytes = 2 * 1024 ** 3,
  // Experiments only (bench --rgw-conf / --osd-conf): extra ceph.conf lines for the
  // [client.rgw] and [osd] sections, e.g. { rgw: ['rgw max chunk size = 1048576'] }.
  extraConf = {},
} = {}) {
  if (!dir) throw new Error('startRgw: dir is required');
  if (objectstore !== 'memstore' && objectstore !== 'bluestore') {
    throw new Error(`startRgw: objectstore must be 'memstore' or 'bluestore', got ${objectstore}`);
  }
  requireBinaries(BINARIES);
  dir = path.resolve(dir);
  const L = layout(dir);
  mkdirSync(dir, { recursive: true });
  refuseLive(
    DAEMONS.map((n) => L.pid(n)),
    L.conf,
    'startRgw',
  );
  for (let attempt = 1; ; attempt++) {
    try {
      const env = await startOnce({ dir, objectstore, memstoreBytes, extraConf });
      return { ...env, stop: () => stopRgw(dir) };
    } catch (e) {
      await stopRgw(dir).catch(() => {});
      // A port picked as free may have been taken before the daemon bound it: retry.
      if (
        attempt < 3 &&
        /Address already in use|bind.*failed|EADDRINUSE/i.test(String(e.message))
      ) {
        continue;
      }
      throw new Error(`RGW start failed in ${dir}: ${e.message}`);
    }
  }
}

/** Stops radosgw, then osd, then mon of `dir`, one at a time, by PID file. */
export async function stopRgw(dir) {
  dir = path.resolve(dir);
  const L = layout(dir);
  const done = [];
  for (const name of DAEMONS) {
    const r = await stopByPidFile(L.pid(name), L.conf, name === 'client.rgw' ? 15_000 : 20_000);
    if (r) done.push({ name, ...r });
  }
  return done;
}

// ---- CLI ----
async function main(argv) {
  const [cmd, dir, ...rest] = argv;
  if ((cmd !== 'start' && cmd !== 'stop') || !dir) {
    console.error(
      'usage: node scripts/rgw.mjs start DIR [--bluestore] [--memstore-bytes N]\n       node scripts/rgw.mjs stop DIR',
    );
    return 2;
  }
  if (cmd === 'stop') {
    const done = await stopRgw(dir);
    for (const d of done)
      console.error(`stopped ${d.name} pid ${d.pid} (${d.how})${d.dead ? '' : ' — STILL ALIVE'}`);
    return done.every((d) => d.dead) ? 0 : 1;
  }
  const objectstore = rest.includes('--bluestore') ? 'bluestore' : 'memstore';
  const i = rest.indexOf('--memstore-bytes');
  const memstoreBytes = i >= 0 ? Number(rest[i + 1]) : undefined;
  const t0 = Date.now();
  await startRgw({ dir, objectstore, memstoreBytes });
  console.error(`rgw ready in ${Date.now() - t0} ms`);
  process.stdout.write(readFileSync(layout(path.resolve(dir)).env, 'utf8'));
  return 0;
}

runIfMain(import.meta.url, main);
