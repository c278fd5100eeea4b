// Child processes of the benchmark: start, measure through /proc, stop — only by the PID
// of a child this process spawned itself.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {}

/** utime + stime of a live process, in seconds. */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(f[11]) + Number(f[12])) / clkTck;
}

/** Peak resident set (VmHWM) of a live process, in bytes. */
export function peakRssOf(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Like peakRssOf, but null once the process is gone (a server that crashed). */
export function peakRssOrNull(pid) {
  try {
    return peakRssOf(pid);
  } catch {
    return null;
  }
}

/**
 * Null while the child runs; once it has exited, why: its exit code or signal and the
 * first error line its log has after "listening on" (a crash's uncaught error).
 */
export function exitReason(child, logFile) {
  if (child.exitCode === null && child.signalCode === null) return null;
  let error = '';
  try {
    const text = readFileSync(logFile, 'utf8');
    const after = text.slice(Math.max(0, text.indexOf('listening on')));
    error = /^\s*([\w.]*Error\b.*)$/m.exec(after)?.[1]?.trim() ?? '';
  } catch {}
  return `exited (${child.exitCode ?? child.signalCode})${error ? `: ${error}` : ''}`;
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat). */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / clkTck;
}

/** Every child spawned here and still running: what a Ctrl-C or a failure must stop. */
const live = new Set();

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Waits for `child` to exit; after `ms`, resolves false. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`: only this child, by its PID. */
export async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exited(child, graceMs)) return;
  child.kill('SIGKILL');
  await exited(child, 5_000);
}

/** Stops every child still running (Ctrl-C, failure). */
export async function stopAllChildren() {
  await Promise.all([...live].map((c) => stopChild(c, 5_000)));
}

/**
 * Starts a server child (`node ...args`) and waits for the stdout line
 * "listening on http://HOST:PORT/PATH". Its output goes to `logFile`.
 */
export async function startServer({ args, env, logFile, timeoutMs = 30_000 }) {
  const log = createWriteStream(logFile);
  const child = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stderr.pipe(log, { end: false });
  let seen = '';
  try {
    const url = await new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no "listening on" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.stdout.on('data', (d) => {
        log.write(d);
        seen += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(seen);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(t);
        reject(new Error(`exited (${code ?? sig}) before listening`));
      });
    });
    return { child, pid: child.pid, url, log };
  } catch (e) {
    await stopChild(child, 2_000);
    log.end();
    await sleep(50);
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
    throw new Error(`server ${args.join(' ')}: ${e.message}; log: ${tail}`);
  }
}

/** Runs a client child to its end; returns the JSON of its last stdout line. */
export async function runClientChild({ script, jobFile, env, logFile, timeoutMs, nodeArgs = [] }) {
  const log = createWriteStream(logFile);
  const child = track(
    spawn(process.execPath, [...nodeArgs, script, jobFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d.toString();
    log.write(d);
  });
  child.stderr.pipe(log, { end: false });
  // 'close' comes after the child's stdout is drained, unlike 'exit'.
  const finished = await new Promise((resolve) => {
    if (child.stdout.closed && child.exitCode !== null) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
  if (!finished) {
    await stopChild(child, 2_000);
    log.end();
    throw new Error(
      `client ${script} did not finish within ${timeoutMs / 1000} s (log ${logFile})`,
    );
  }
  log.end();
  const last = out.trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`client ${script} exited ${child.exitCode} without a result (log ${logFile})`);
  }
  if (!result.ok) throw new Error(`client ${script} failed: ${result.error} (log ${logFile})`);
  return result;
}
