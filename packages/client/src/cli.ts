#!/usr/bin/env node
import { oneLine } from './cli/format.js';
import { main } from './cli/program.js';
/**
 * tus-upload: upload a file with resume across runs.
 *   tus-upload <file> --endpoint URL [options]   upload (resumes a stored upload)
 *   tus-upload list [--store PATH]               unfinished uploads in the store
 *   tus-upload abort <url> [--store PATH]        terminate one (DELETE) and forget it
 * Progress goes to stderr (a bar on a TTY, plain lines otherwise); the last stdout line
 * is the upload URL. Exit 0 on success, 1 with a one-line reason on failure, 130/143
 * when interrupted (rerun the same command to resume).
 */
import { TusError } from './errors.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const c = (e as { code?: string; exitCode?: number }).code;
    if (typeof c === 'string' && c.startsWith('commander.')) {
      process.exitCode = (e as { exitCode?: number }).exitCode ?? 2;
      return;
    }
    const msg = e instanceof TusError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`tus-upload: ${oneLine(msg)}\n`);
    process.exitCode = 1;
  },
);
