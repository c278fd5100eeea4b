// Upload cancellation: a DELETE on the upload, served as tus termination (the multipart
// upload aborted, staging and info deleted, under the upload's lock).
import { type DraftDeps, failureOf, tusRequest } from './internal.js';
import { forbiddenFieldOf } from './offset.js';
import { plainRefusal } from './problem.js';
import type { DraftVersion } from './version.js';

export async function cancel(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
): Promise<Response> {
  const forbidden = forbiddenFieldOf(version, request.headers, [
    'upload-offset',
    'upload-complete',
  ]);
  if (forbidden) return plainRefusal(400, `a cancellation takes no ${forbidden}`);
  const answer = await deps.tus(tusRequest(request, 'DELETE', request.url, {}));
  if (!answer.ok) return failureOf(answer, 'DELETE');
  await answer.body?.cancel();
  return new Response(null, { status: 204 });
}
