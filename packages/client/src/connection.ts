/**
 * How one upload sends a request: its options' headers and hook (protocol/requests.ts), its fetch,
 * stall timeout and body streaming (http.ts), the abort signal of the moment (pause-gate.ts).
 */

import { isTusError } from './errors.js';
import {
  defaultStreamBodies,
  type HttpRequest,
  type HttpResponse,
  type RequestBody,
  send,
} from './http.js';
import type { UploadOptions } from './options.js';
import { parseCaps, type ServerCaps, unknownCaps } from './protocol/caps.js';
import {
  cachedCaps,
  capsCacheKey,
  DEFAULT_CAPS_MAX_AGE_MS,
  forgetCaps,
  rememberCaps,
} from './protocol/caps-cache.js';
import { prepareRequest } from './protocol/requests.js';

export class Connection {
  private readonly fetchImpl: typeof fetch;
  private readonly streamBodies: boolean;
  /** What the caps cache is kept per: the fetch as given (fetchImpl is a new binding). */
  private readonly capsScope: object;
  /** The caps cache entry this upload used (protocol/caps-cache.ts). */
  private capsKey: string | undefined;

  constructor(
    private readonly o: UploadOptions,
    /** The signal that aborts the request in flight (it changes on resume). */
    private readonly signal: () => AbortSignal,
  ) {
    const f = o.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('Upload: no fetch in this environment');
    this.fetchImpl = f.bind(globalThis);
    this.capsScope = f;
    this.streamBodies = o.streamBodies ?? defaultStreamBodies();
  }

  prepare(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: RequestBody,
  ): Promise<HttpRequest> {
    return prepareRequest(this.o, method, url, headers, body);
  }

  /** Sends; `onBodyProgress` sees the body bytes handed over so far. */
  exchange(
    req: HttpRequest,
    onBodyProgress?: (sent: number) => void,
    minIdleMs = 0,
  ): Promise<HttpResponse> {
    const stall = this.o.stallTimeoutMs ?? 30_000;
    return send(
      req,
      {
        fetch: this.fetchImpl,
        stallTimeoutMs: stall > 0 ? Math.max(stall, minIdleMs) : stall,
        streamBodies: this.streamBodies,
      },
      { signal: this.signal(), onBodyProgress },
    );
  }

  /** OPTIONS: what the server can do; a recent answer for the same URL and headers is reused. */
  async discover(url: string): Promise<ServerCaps> {
    const maxAge = this.o.capsMaxAgeMs ?? DEFAULT_CAPS_MAX_AGE_MS;
    const key = capsCacheKey(url, this.o.headers);
    const known = maxAge > 0 ? cachedCaps(this.capsScope, key, maxAge, Date.now()) : undefined;
    if (known) {
      this.capsKey = key;
      return known;
    }
    try {
      const req = await this.prepare('OPTIONS', url, {});
      const res = await this.exchange(req);
      if (res.status >= 200 && res.status < 300) {
        const caps = parseCaps(res.headers);
        if (maxAge > 0) {
          rememberCaps(this.capsScope, key, caps, Date.now());
          this.capsKey = key;
        }
        return caps;
      }
    } catch (e) {
      if (isTusError(e, 'aborted')) throw e;
      // OPTIONS is optional (some proxies refuse it): proceed without extensions.
    }
    return unknownCaps();
  }

  /** The upload failed: the server may have changed, so the next upload asks OPTIONS again. */
  forgetDiscovery(): void {
    if (this.capsKey !== undefined) forgetCaps(this.capsScope, this.capsKey);
  }
}
