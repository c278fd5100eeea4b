/**
 * Node resume store in one JSON file. Every change is a locked read-modify-write:
 * an exclusive lock file (`<path>.lock`, created with O_EXCL, stale after `staleLockMs`)
 * serialises processes, and the new content is written to a temp file then renamed over
 * the old one, so readers never see a torn file.
 */
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredUpload, UploadStore } from './types.js';

interface FileShape {
  version: 1;
  uploads: Record<string, StoredUpload>;
}

export interface JsonFileStoreOptions {
  /** A lock older than this is considered abandoned (default 10 s). */
  staleLockMs?: number;
  /** Give up acquiring the lock after this long (default 30 s). */
  lockTimeoutMs?: number;
}

let tmpCounter = 0;

export class JsonFileStore implements UploadStore {
  private readonly staleLockMs: number;
  private readonly lockTimeoutMs: number;

  constructor(
    readonly path: string,
    o: JsonFileStoreOptions = {},
  ) {
    this.staleLockMs = o.staleLockMs ?? 10_000;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 30_000;
  }

  async get(fp: string): Promise<StoredUpload | undefined> {
    return (await this.read()).uploads[fp];
  }

  async list(): Promise<StoredUpload[]> {
    return Object.values((await this.read()).uploads);
  }

  async set(entry: StoredUpload): Promise<void> {
    await this.update((d) => {
      d.uploads[entry.fingerprint] = entry;
    });
  }

  async remove(fp: string): Promise<void> {
    await this.update((d) => {
      delete d.uploads[fp];
    });
  }

  /** Removes every entry pointing at `uploadUrl`, as its URL or one of its partials' (CLI `abort`). */
  async removeUrl(uploadUrl: string): Promise<void> {
    await this.update((d) => {
      for (const [k, v] of Object.entries(d.uploads)) {
        if (v.uploadUrl === uploadUrl || v.partials?.some((p) => p.uploadUrl === uploadUrl)) {
          delete d.uploads[k];
        }
      }
    });
  }

  private async read(): Promise<FileShape> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, uploads: {} };
      throw e;
    }
    try {
      const d = JSON.parse(text) as FileShape;
      if (d && typeof d.uploads === 'object' && d.uploads) return d;
    } catch {
      // fall through: unreadable content is treated as empty (and replaced on next write)
    }
    return { version: 1, uploads: {} };
  }

  private async update(change: (d: FileShape) => void): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const release = await this.lock();
    try {
      const d = await this.read();
      change(d);
      const tmp = `${this.path}.${process.pid}.${++tmpCounter}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(d, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        const fh = await open(lockPath, 'wx');
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return () => unlink(lockPath).catch(() => {});
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      try {
        const st = await stat(lockPath);
        if (Date.now() - st.mtimeMs > this.staleLockMs) {
          await rm(lockPath, { force: true });
          continue;
        }
      } catch {
        continue; // vanished between open and stat: try again now
      }
      if (Date.now() > deadline) throw new Error(`could not lock ${lockPath}`);
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    }
  }
}
