// Requests as an owner of a server started with --jwt-secret: HS256 tokens made with jose,
// sent as `Authorization: Bearer`.
import { SignJWT } from 'jose';
import { tus } from './server.js';

/** The secret the auth tests start their servers with (HS256 wants 32 bytes or more). */
export const TEST_JWT_SECRET = 'e2e-secret-of-at-least-32-bytes-long!';

/** A token for owner `sub`; `tenant` and `exp` (seconds since the epoch) when given. */
export async function bearerToken(
  sub: string,
  {
    tenant,
    exp,
    secret = TEST_JWT_SECRET,
  }: { tenant?: string; exp?: number; secret?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(tenant ? { tenant } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt();
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A tus request as `bearer` (no Authorization without one). */
export function as(
  bearer: string | undefined,
  url: string,
  method: string,
  headers: Record<string, string | undefined> = {},
  body?: Buffer,
): Promise<Response> {
  return tus(
    url,
    method,
    { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...headers },
    body,
  );
}

/** A PATCH of `bytes` at `offset` as `bearer`. */
export function patchAs(
  bearer: string | undefined,
  url: string,
  offset: number,
  bytes: Buffer,
  headers: Record<string, string | undefined> = {},
): Promise<Response> {
  return as(
    bearer,
    url,
    'PATCH',
    {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      ...headers,
    },
    bytes,
  );
}

/** HEAD's Upload-Offset as `bearer`; anything but 200 throws. */
export async function offsetAs(bearer: string | undefined, url: string): Promise<number> {
  const res = await as(bearer, url, 'HEAD');
  if (res.status !== 200) throw new Error(`HEAD: ${res.status}`);
  return Number(res.headers.get('upload-offset'));
}
