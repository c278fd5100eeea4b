// Shared helpers for scripts/rgw.mjs and scripts/redis.mjs: free ports, PID files,
// process liveness via /proc, stopping by PID file, readable failures.
// Plain Node ESM, built-ins only.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Absolute path of an executable found in PATH (plus the sbin dirs), or null. */
export function which(bin) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const p = path.join(d, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/**
 * Throws one clear line naming every missing binary and the Debian package to install.
 * `binToPkg`: { binary: package }.
 */
export function requireBinaries(binToPkg) {
  const missing = Object.keys(binToPkg).filter((b) => !which(b));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((b) => binToPkg[b]))];
    throw new Error(
      `missing executable(s): ${missing.join(', ')} — install with: ` +
        `apt-get install -y --no-install-recommends ${pkgs.join(' ')} ` +
        '(or run `bash scripts/test.sh` as root, which installs them)',
    );
  }
}

/** `count` distinct free TCP ports on 127.0.0.1 (all held open at once, then released). */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Process state letter from /proc/PID/stat ('R', 'S', 'Z', ...) or null if gone. */
export function procState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ..." — comm may contain spaces/parens; state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/** Alive = exists and is not a zombie/dead. */
export function isAlive(pid) {
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X' && s !== 'x';
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function readPid(file) {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * PID from `file` if that process is alive and its command line mentions `marker`
 * (our config path / dir), so a recycled PID is never mistaken for our daemon.
 */
export function livePidFromFile(file, marker) {
  const pid = readPid(file);
  if (pid === null || !isAlive(pid)) return null;
  if (marker && !cmdline(pid).includes(marker)) return null;
  return pid;
}

/** Throws if any of the PID files point at live daemons (of this dir). */
export function refuseLive(pidFiles, marker, what) {
  const live = [];
  for (const f of pidFiles) {
    const pid = livePidFromFile(f, marker);
    if (pid !== null) live.push(`${path.basename(f)}=${pid}`);
  }
  if (live.length) {
    throw new Error(
      `${what}: ${dirOf(pidFiles[0])} is in use by live daemons (${live.join(', ')}); ` +
        'stop them first or use another directory',
    );
  }
}

/**
 * SIGTERM the process named by `file` (only if alive and matching `marker`), wait for it
 * to die (zombie counts as dead), SIGKILL after `timeoutMs`. Removes the PID file.
 * Returns a description of what was done.
 */
export async function stopByPidFile(file, marker, timeoutMs = 20_000) {
  const pid = livePidFromFile(file, marker);
  if (pid === null) {
    rmSync(file, { force: true });
    return null;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {}
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  let how = 'SIGTERM';
  if (isAlive(pid)) {
    how = 'SIGKILL';
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    const killDeadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
  rmSync(file, { force: true });
  return { pid, how, dead: !isAlive(pid) };
}

/**
 * The useful end of a log file as one line: Ceph error-level lines (" -1 ", FAILED
 * asserts) if any, else the last `n` non-empty lines; stack-frame lines are skipped.
 */
export async function tail(file, n = 5) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return existsSync(file) ? '(unreadable log)' : '(no log file)';
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^-?\d+: /.test(l) && !/^-?\d+> /.test(l));
  const errors = [...new Set(lines.filter((l) => / -1 |FAILED|Error|error:/.test(l)))];
  const pick = errors.length ? errors.slice(-3) : lines.slice(-n);
  return pick.join(' | ') || '(empty log)';
}

/**
 * Runs a command to completion. Resolves { code, stdout, stderr }; never rejects for a
 * non-zero exit (caller decides). stdio of the child is piped, so daemons that fork must
 * be started with runDaemon instead.
 */
export function run(cmd, args, { timeoutMs = 60_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const msg = `${r.stderr}\n${r.stdout}`
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-4)
      .join(' | ');
    throw new Error(`\`${path.basename(cmd)} ${args.join(' ')}\` exited ${r.code}: ${msg}`);
  }
  return r;
}

/**
 * Starts a self-daemonizing program (it forks and writes its own PID file) with stdio sent
 * to `logFd`, waits for the launcher to exit, then waits for `pidFile` to name a live process.
 */
export async function runDaemon(cmd, args, { logFd, pidFile, marker, name, logFile, timeoutMs }) {
  const code = await new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], detached: true });
    child.on('error', reject);
    child.on('exit', (c, s) => resolve(c ?? (s ? 128 : 1)));
  });
  if (code !== 0) {
    throw new Error(
      `${name} failed to start (exit ${code}); tail of ${logFile}: ${await tail(logFile)}`,
    );
  }
  const deadline = Date.now() + (timeoutMs ?? 10_000);
  for (;;) {
    const pid = livePidFromFile(pidFile, marker);
    if (pid !== null) return pid;
    if (Date.now() > deadline) {
      throw new Error(
        `${name} did not come up (no live PID in ${pidFile}); tail of ${logFile}: ${await tail(logFile)}`,
      );
    }
    await sleep(20);
  }
}

// PID files live in DIR/run/ (ceph) or DIR/ (redis): name DIR in messages.
const dirOf = (pidFile) => {
  const d = path.dirname(pidFile);
  return path.basename(d) === 'run' ? path.dirname(d) : d;
};

/**
 * Runs `main(argv)` when the module is the process's entry point (not when imported by
 * Jest's setup); its result is the exit code, a throw is one line on stderr and exit 1.
 */
export function runIfMain(moduleUrl, main) {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
