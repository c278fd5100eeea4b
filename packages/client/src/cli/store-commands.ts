/** tus-upload list / abort: what the resume store holds, and terminating one of its uploads. */
import { JsonFileStore } from '../stores/json-file.js';
import { terminateUpload } from '../terminate.js';
import { headersOf } from './flags.js';

export interface ListFlags {
  store: string;
  header: string[];
  offline?: boolean;
}

export interface AbortFlags {
  store: string;
  header: string[];
}

export async function listCommand(f: ListFlags): Promise<number> {
  const store = new JsonFileStore(f.store);
  const entries = await store.list();
  if (entries.length === 0) {
    process.stdout.write(`no unfinished uploads in ${f.store}\n`);
    return 0;
  }
  const headers = { ...headersOf(f.header), 'Tus-Resumable': '1.0.0' };
  const offsetOf = async (url: string): Promise<string> => {
    if (f.offline) return '';
    try {
      const res = await fetch(url, { method: 'HEAD', headers, signal: AbortSignal.timeout(5000) });
      const off = res.headers.get('Upload-Offset');
      return res.ok && off !== null ? ` offset=${off}` : ` (HTTP ${res.status})`;
    } catch {
      return ' (unreachable)';
    }
  };
  for (const e of entries) {
    const name = e.metadata.filename ? ` ${JSON.stringify(e.metadata.filename)}` : '';
    if (e.partials) {
      process.stdout.write(
        `parallel size=${e.size}${name} partials=${e.partials.length} created=${e.createdAt}\n`,
      );
      if (e.finalUrl) process.stdout.write(`  final ${e.finalUrl}\n`);
      for (const p of e.partials) {
        const state = p.uploadUrl ? await offsetOf(p.uploadUrl) : ' (not created)';
        process.stdout.write(`  ${p.uploadUrl ?? '-'} range=${p.start}-${p.end}${state}\n`);
      }
      continue;
    }
    const state = await offsetOf(e.uploadUrl);
    process.stdout.write(
      `${e.uploadUrl} size=${e.size ?? 'deferred'}${state}${name} created=${e.createdAt}\n`,
    );
  }
  return 0;
}

export async function abortCommand(url: string, f: AbortFlags): Promise<number> {
  const store = new JsonFileStore(f.store);
  // A partial's URL stands for its whole parallel upload: terminate every partial.
  const entry = (await store.list()).find((e) => e.partials?.some((p) => p.uploadUrl === url));
  const urls = entry?.partials
    ? [
        ...entry.partials.flatMap((p) => (p.uploadUrl ? [p.uploadUrl] : [])),
        ...(entry.finalUrl ? [entry.finalUrl] : []),
      ]
    : [url];
  for (const u of urls) {
    await terminateUpload(u, { headers: headersOf(f.header) });
    process.stdout.write(`terminated ${u}\n`);
  }
  await store.removeUrl(url);
  return 0;
}
