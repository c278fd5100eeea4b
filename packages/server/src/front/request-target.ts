// What selects an upload, and which request targets and Host values the front accepts
// (pure). @tus/server takes the id from the last "/" of the whole URL, query string
// included, so "/files/A?/B" would name B while an app's route guard on /files/:id saw A:
// the front hands it the path alone. A Host it cannot put in a URL (or in a Location) is
// the client's error, answered 400 before anything is built from it.

/** Longest Host (or forwarded host) accepted: a DNS name is at most 253 characters. */
export const MAX_HOST_LENGTH = 255;

/** Longest request-target path accepted; an upload URL is a mount path and a 32-hex id. */
export const MAX_PATH_LENGTH = 2048;

/** Reads one request header, whatever holds the headers (node's, Fetch's). */
export type HeaderGet = (name: string) => string | null | undefined;

/** The request-target without its query and fragment: "/files/A?/B" -> "/files/A". */
export function pathOfTarget(target: string): string {
  const cut = target.search(/[?#]/);
  return cut === -1 ? target : target.slice(0, cut);
}

/** `url` with its query and fragment dropped, for a Fetch API request. */
export function withoutQuery(url: string): string {
  const u = new URL(url);
  if (u.search === '' && u.hash === '') return url;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * Why this path cannot be served (one line), or undefined. It must be what URL parsing
 * makes of it: an app's router matches the raw path, @tus/server the parsed one, and
 * "/files/A/../B" or "/files/A\B" would be A's (or no) route to the first and B to the
 * second. Every segment must decode: a malformed percent-escape in the id would otherwise
 * make @tus/server answer 404, as if a well-formed id had simply not been found.
 */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'the request-target must be a path';
  if (path.length > MAX_PATH_LENGTH) return `the URL path is longer than ${MAX_PATH_LENGTH}`;
  let parsed: string;
  try {
    parsed = new URL(path, 'http://localhost').pathname;
  } catch {
    parsed = '';
  }
  if (parsed !== path) {
    return 'the URL path is not in normal form (dot segments, backslashes or unescaped characters)';
  }
  for (const segment of path.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return 'the URL path has a malformed percent-escape';
    }
  }
  return undefined;
}

// reg-name restricted to what DNS names and IPv4 addresses use (plus "_" and "~"), or an
// IP literal; then an optional port.
const HOST = /^(?:[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** Why `host` is no usable authority, or undefined. */
export function hostProblem(host: string): string | undefined {
  if (host.length > MAX_HOST_LENGTH) return `longer than ${MAX_HOST_LENGTH} characters`;
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return 'not a host[:port]';
  try {
    // The grammar above lets through IP literals that are not addresses ("[1:::2]").
    new URL(`http://${host}/`);
  } catch {
    return 'not a host[:port]';
  }
  return undefined;
}

const FORWARDED_HOST = /host="?([^";]+)/;

/**
 * Why the request's host headers cannot be used, or undefined. A missing Host is left
 * alone (node refuses it for HTTP/1.1; a Fetch API request has none); with
 * `respectForwarded` the forwarded hosts @tus/server would put in Location count too.
 */
export function hostHeadersProblem(get: HeaderGet, respectForwarded: boolean): string | undefined {
  const named: Array<[string, string | null | undefined]> = [['Host', get('host')]];
  if (respectForwarded) {
    named.push(['X-Forwarded-Host', get('x-forwarded-host')]);
    const forwarded = get('forwarded');
    if (forwarded) named.push(['Forwarded host', FORWARDED_HOST.exec(forwarded)?.[1] ?? null]);
  }
  for (const [name, value] of named) {
    if (value === null || value === undefined) continue;
    const problem = hostProblem(value);
    if (problem) return `bad ${name} header: ${problem}`;
  }
  return undefined;
}

/** The last path segment, decoded: the upload a request names (for logs), or undefined. */
export function uploadIdOfPath(path: string): string | undefined {
  const last = path.replace(/\/+$/, '').split('/').pop();
  if (!last) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return undefined;
  }
}
