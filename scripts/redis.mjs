#!/usr/bin/env node
// A throw-away redis-server (Debian package) on 127.0.0.1, no persistence, PID file in dir.
//
//   import { startRedis, stopRedis } from './scripts/redis.mjs';
//   const redis = await startRedis({ dir: '.tmp/redis' });  // { url, port, dir, stop }
//
// CLI:  node scripts/redis.mjs start DIR   |   node scripts/redis.mjs stop DIR
//
// Only ever signals the PID from DIR/redis.pid (and only if that process's command line
// names this port file's port and is redis-server).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  freePorts,
  livePidFromFile,
  refuseLive,
  requireBinaries,
  runIfMain,
  runOk,
  sleep,
  stopByPidFile,
  tail,
  which,
} from './daemon-util.mjs';

const MARKER = 'redis-server';

const files = (dir) => ({
  pid: path.join(dir, 'redis.pid'),
  log: path.join(dir, 'redis.log'),
  env: path.join(dir, 'redis.json'),
});

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Starts redis-server on a free 127.0.0.1 port; resolves when it answers PING. */
export async function startRedis({ dir } = {}) {
  if (!dir) throw new Error('startRedis: dir is required');
  requireBinaries({ 'redis-server': 'redis-server' });
  dir = path.resolve(dir);
  mkdirSync(dir, { recursive: true });
  const F = files(dir);
  refuseLive([F.pid], MARKER, 'startRedis');
  for (let attempt = 1; ; attempt++) {
    rmSync(F.pid, { force: true });
    const [port] = await freePorts(1);
    // Config on the command line (redis-server accepts "--name value" options).
    await runOk(which('redis-server'), [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      F.pid,
      '--logfile',
      F.log,
      '--dir',
      dir,
    ]);
    const deadline = Date.now() + 10_000;
    let pid = null;
    while (Date.now() < deadline) {
      pid = livePidFromFile(F.pid, MARKER);
      if (pid !== null && (await ping(port))) {
        const url = `redis://127.0.0.1:${port}`;
        writeFileSync(F.env, `${JSON.stringify({ url, port, dir, pid }, null, 2)}\n`);
        return { url, port, dir, pid, stop: () => stopRedis(dir) };
      }
      if (pid === null && Date.now() > deadline - 9_000) {
        // redis-server daemonized but no live PID after 1 s: it exited.
        break;
      }
      await sleep(20);
    }
    const log = await tail(F.log);
    await stopRedis(dir);
    if (attempt < 3 && /Address already in use/i.test(log)) continue;
    throw new Error(`redis-server did not come up on 127.0.0.1:${port}; tail of ${F.log}: ${log}`);
  }
}

/** Stops the redis-server whose PID is in DIR/redis.pid (SIGTERM, then SIGKILL). */
export async function stopRedis(dir) {
  return stopByPidFile(files(path.resolve(dir)).pid, MARKER, 10_000);
}

async function main([cmd, dir]) {
  if ((cmd !== 'start' && cmd !== 'stop') || !dir) {
    console.error('usage: node scripts/redis.mjs start|stop DIR');
    return 2;
  }
  if (cmd === 'stop') {
    const r = await stopRedis(dir);
    if (r) console.error(`stopped redis-server pid ${r.pid} (${r.how})`);
    return !r || r.dead ? 0 : 1;
  }
  await startRedis({ dir });
  process.stdout.write(readFileSync(files(path.resolve(dir)).env, 'utf8'));
  return 0;
}

runIfMain(import.meta.url, main);
