// Bearer JWTs as the CLI's authenticate hook (jose): HS256 with a shared secret, or
// RS256/ES256 against a JWKS URL (fetched once and cached by jose, refetched on an
// unknown key id). Owner = `sub`; tenant = the tenant claim, or the owner without it.
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { TusError } from '../errors.js';
import type { Authenticate, Principal } from './principal.js';
import { unauthenticated } from './principal.js';

export interface JwtOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS URL for RS256/ES256 keys. */
  jwksUrl?: string;
  /** Claim naming the tenant (default 'tenant'). */
  tenantClaim?: string;
  /** Seconds of clock skew tolerated on exp/nbf (default 0). */
  clockTolerance?: number;
}

export const DEFAULT_TENANT_CLAIM = 'tenant';

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | null): string | undefined {
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)[ ]*$/i.exec(header ?? '');
  return match?.[1];
}

/** The principal a verified token's claims name; undefined when `sub` is missing. */
export function principalFromClaims(
  claims: JWTPayload,
  tenantClaim = DEFAULT_TENANT_CLAIM,
): Principal | undefined {
  const owner = claims.sub;
  if (typeof owner !== 'string' || owner === '') return undefined;
  const tenant = claims[tenantClaim];
  return typeof tenant === 'string' && tenant !== '' ? { owner, tenant } : { owner, tenant: owner };
}

/** The authenticate hook for `options`; throws when neither key source is given. */
export function jwtAuthenticator(options: JwtOptions): Authenticate {
  const { secret, jwksUrl, tenantClaim, clockTolerance = 0 } = options;
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (secret !== undefined && secret !== '') {
    key = new TextEncoder().encode(secret);
    algorithms = ['HS256'];
  } else if (jwksUrl !== undefined && jwksUrl !== '') {
    key = createRemoteJWKSet(new URL(jwksUrl));
    algorithms = ['RS256', 'ES256'];
  } else {
    throw new Error('JWT authentication needs a secret or a JWKS URL');
  }
  return async (request) => {
    const token = bearerToken(request.headers.get('authorization'));
    if (token === undefined) throw unauthenticated('missing bearer token');
    let claims: JWTPayload;
    try {
      // Typed as two overloads; the key is one or the other.
      ({ payload: claims } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        clockTolerance,
      }));
    } catch (err) {
      // A key set that cannot be fetched says nothing about the token: try again later.
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) {
        throw new TusError(503, 'token keys unavailable; try again', 5);
      }
      throw unauthenticated('invalid or expired token');
    }
    const principal = principalFromClaims(claims, tenantClaim);
    if (!principal) throw unauthenticated('token has no subject');
    return principal;
  };
}
