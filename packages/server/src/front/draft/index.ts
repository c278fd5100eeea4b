// The IETF resumable-upload draft beside tus 1.0 on the same endpoint: a request naming an
// interop version (and no Tus-Resumable) is served here, one module per message, through
// tus requests to the same store (internal.ts).
import { append } from './append.js';
import { cancel } from './cancel.js';
import { create } from './create.js';
import type { DraftDeps } from './internal.js';
import { offset } from './offset.js';
import { options } from './options.js';
import { plainRefusal } from './problem.js';
import { draftVersionOf, INTEROP_HEADER } from './version.js';

export type { DraftDeps, InterimWriter } from './internal.js';
export { isDraftRequest } from './version.js';

export async function serveDraft(deps: DraftDeps, request: Request): Promise<Response> {
  const version = draftVersionOf(request.headers.get(INTEROP_HEADER) ?? '');
  if ('refused' in version) return plainRefusal(400, version.refused);
  switch (request.method) {
    case 'POST':
      return create(deps, version, request);
    case 'PATCH':
      return append(deps, version, request);
    case 'HEAD':
      return offset(deps, version, request);
    case 'DELETE':
      return cancel(deps, version, request);
    case 'OPTIONS':
      return options(deps, version, request);
    default:
      return plainRefusal(405, `${request.method} is not a draft upload request`);
  }
}
