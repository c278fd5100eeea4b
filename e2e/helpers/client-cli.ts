// Runs the built tus-upload CLI (packages/client/dist/cli.js) as a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const clientCli = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../packages/client/dist/cli.js',
);

export interface CliRun {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Exit code, or the signal name when killed. */
  exited: Promise<number | NodeJS.Signals>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const proc = spawn(process.execPath, [clientCli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    proc.once('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Last non-empty line of a text. */
export function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
