// Checks made before @tus/server sees a request, where its answer differs from the status
// the tus spec names. Pure: headers in, refusal (or nothing) out.

export const TUS_VERSION = '1.0.0';
export const TUS_MEDIA_TYPE = 'application/offset+octet-stream';

export interface Refusal {
  status: number;
  message: string;
  headers: Record<string, string>;
}

type HeaderBag = Record<string, string | string[] | undefined>;

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function refusalFor(method: string | undefined, headers: HeaderBag): Refusal | undefined {
  if (method === 'OPTIONS' || method === 'GET') return undefined;
  const version = one(headers['tus-resumable']);
  // Missing Tus-Resumable is answered 412 by @tus/server already.
  if (version === undefined) return undefined;
  if (version !== TUS_VERSION) {
    // @tus/server says 400 here; the spec says 412 with the versions we speak.
    return {
      status: 412,
      message: `Tus-Resumable ${version} is not supported; this server speaks ${TUS_VERSION}`,
      headers: { 'Tus-Version': TUS_VERSION },
    };
  }
  if (method === 'PATCH') {
    const type = one(headers['content-type']);
    if (type !== TUS_MEDIA_TYPE) {
      // @tus/server says 403 (missing) or 400 (wrong); the spec says 415.
      return {
        status: 415,
        message: `PATCH requires Content-Type: ${TUS_MEDIA_TYPE}${type ? `, not ${type}` : ''}`,
        headers: {},
      };
    }
  }
  return undefined;
}
