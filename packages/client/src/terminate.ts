/** tus termination: DELETE an upload, on its own (no Upload object needed). */
import { httpError, toTusError } from './errors.js';
import { send } from './http.js';
import type { UploadOptions } from './options.js';
import { decide } from './policy.js';
import { prepareRequest } from './protocol/requests.js';
import { RetryBudget, retryPolicy, sleep } from './retry.js';

/** DELETE an upload (tus termination), retrying 423/5xx/network errors a few times. */
export async function terminateUpload(
  url: string,
  o: Pick<
    UploadOptions,
    'headers' | 'onBeforeRequest' | 'fetch' | 'stallTimeoutMs' | 'retry' | 'random'
  > = {},
): Promise<void> {
  const budget = new RetryBudget(retryPolicy(o.retry ?? { maxRetries: 3 }), o.random);
  const f = (o.fetch ?? globalThis.fetch).bind(globalThis);
  for (;;) {
    const req = await prepareRequest(o, 'DELETE', url, {});
    try {
      const res = await send(req, {
        fetch: f,
        stallTimeoutMs: o.stallTimeoutMs ?? 30_000,
        streamBodies: false,
      });
      if (res.status === 204 || res.status === 200 || res.status === 404 || res.status === 410)
        return;
      throw httpError('DELETE', url, res.status, res.body, 'termination failed');
    } catch (e) {
      const err = toTusError(e);
      const delay = decide('delete', err).action === 'retry' ? budget.next() : null;
      if (delay === null) throw err;
      await sleep(delay);
    }
  }
}
