/**
 * What servers said to OPTIONS, kept for a while so that many uploads to one endpoint ask
 * once: each OPTIONS is a full request the server must serve, as costly as a small file's
 * POST. Kept per fetch implementation (another fetch may reach another server under the
 * same URL, as tests' fakes do) and per endpoint and headers (a server may answer per
 * tenant). Only a real answer is kept; an upload that fails forgets it (upload.ts), so a
 * server that changed is asked again. Pure: the clock is given.
 */
import type { ServerCaps } from './caps.js';

/** How long an answer is used when `capsMaxAgeMs` is not set. */
export const DEFAULT_CAPS_MAX_AGE_MS = 60_000;

interface Entry {
  caps: ServerCaps;
  at: number;
}

/** Most answers kept per fetch implementation; the oldest goes first. */
const MAX_ENTRIES = 64;

const byFetch = new WeakMap<object, Map<string, Entry>>();

export function capsCacheKey(url: string, headers: Record<string, string> | undefined): string {
  const sorted = Object.entries(headers ?? {})
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([url, sorted]);
}

export function cachedCaps(
  fetchImpl: object,
  key: string,
  maxAgeMs: number,
  now: number,
): ServerCaps | undefined {
  const entry = byFetch.get(fetchImpl)?.get(key);
  if (!entry) return undefined;
  if (now - entry.at >= maxAgeMs || now < entry.at) {
    byFetch.get(fetchImpl)?.delete(key);
    return undefined;
  }
  return entry.caps;
}

export function rememberCaps(fetchImpl: object, key: string, caps: ServerCaps, now: number): void {
  if (!caps.known) return;
  let entries = byFetch.get(fetchImpl);
  if (!entries) {
    entries = new Map();
    byFetch.set(fetchImpl, entries);
  }
  entries.delete(key);
  entries.set(key, { caps, at: now });
  while (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest === undefined) break;
    entries.delete(oldest);
  }
}

export function forgetCaps(fetchImpl: object, key: string): void {
  byFetch.get(fetchImpl)?.delete(key);
}
