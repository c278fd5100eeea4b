// The uploads the resume store remembers but no row on this page is running: after a
// reload, these are what was interrupted. Each shows its name, size and the offset the
// server has (HEAD), and continues when the same file is chosen again.
import { formatBytes, percent } from './format.js';

/** The server's offset of one upload URL; null when it is gone or unreachable. */
async function serverOffset(url) {
  try {
    const res = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    if (!res.ok) return null;
    const n = Number(res.headers.get('Upload-Offset'));
    return Number.isSafeInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** Bytes the server holds of a stored upload (a parallel one: the sum of its partials). */
async function storedOffset(entry) {
  if (!entry.partials) return serverOffset(entry.uploadUrl);
  let sum = 0;
  for (const p of entry.partials) {
    const n = p.uploadUrl ? await serverOffset(p.uploadUrl) : 0;
    if (n === null) return null;
    sum += n;
  }
  return sum;
}

/** URLs an entry owns: its own, its partials', its final's. */
export function urlsOf(entry) {
  const urls = [entry.uploadUrl];
  for (const p of entry.partials ?? []) if (p.uploadUrl) urls.push(p.uploadUrl);
  if (entry.finalUrl) urls.push(entry.finalUrl);
  return urls;
}

/**
 * @param {{ store: object, section: HTMLElement, list: HTMLElement,
 *   active: Set<string>, onChange: () => void, current: () => boolean }} o
 * `current()` false: a later render started meanwhile, so this one's result is stale.
 */
export async function renderUnfinished(o) {
  const entries = (await o.store.list()).filter((e) => !urlsOf(e).some((u) => o.active.has(u)));
  entries.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  const items = await Promise.all(entries.map((e) => item(e, o)));
  if (!o.current()) return;
  o.list.replaceChildren(...items);
  o.section.hidden = items.length === 0;
}

async function item(entry, o) {
  const li = document.createElement('li');
  const name = entry.metadata?.filename ?? '(no name)';
  li.dataset.fingerprint = entry.fingerprint;
  const offset = await storedOffset(entry);
  li.dataset.offset = offset === null ? '' : String(offset);
  const size = entry.size ?? 0;
  const where =
    offset === null
      ? 'no longer on the server: choosing it starts over'
      : `${formatBytes(offset)} on the server (${percent(offset, size)}%)`;
  const kind = entry.partials ? ` · parallel, ${entry.partials.length} partials` : '';
  const strong = document.createElement('strong');
  strong.textContent = name;
  li.append(strong, ` — ${formatBytes(size)} · ${where}${kind} `);
  const forget = document.createElement('button');
  forget.type = 'button';
  forget.className = 'secondary';
  forget.textContent = 'Forget';
  forget.setAttribute('aria-label', `Forget ${name} (it will not resume)`);
  forget.addEventListener('click', async () => {
    await o.store.remove(entry.fingerprint);
    o.onChange();
  });
  li.append(forget);
  return li;
}
