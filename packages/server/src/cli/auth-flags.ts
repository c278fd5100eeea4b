// The CLI's authentication and per-tenant quota flags, and what they turn into: the
// authenticate hook (auth/jwt.ts) and the start-up line that says how requests are let in.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TENANT_CLAIM, jwtAuthenticator } from '../auth/jwt.js';
import type { Authenticate } from '../auth/principal.js';

export interface AuthCliOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  tenantClaim: string;
  /** false with --no-delete-finished. */
  deleteFinished: boolean;
}

const asUrl = (v: string): string => {
  try {
    return new URL(v).toString();
  } catch {
    throw new InvalidArgumentError('not a URL');
  }
};

export function addAuthFlags(program: Command): Command {
  return program
    .addOption(
      new Option('--jwt-secret <secret>', 'authenticate Bearer JWTs signed HS256 with this secret')
        .env('JWT_SECRET')
        .conflicts('jwksUrl'),
    )
    .addOption(
      new Option('--jwks-url <url>', 'authenticate Bearer JWTs (RS256/ES256) against this JWKS')
        .env('JWKS_URL')
        .argParser(asUrl),
    )
    .addOption(
      new Option('--tenant-claim <name>', 'JWT claim naming the tenant (absent: the owner)')
        .env('TENANT_CLAIM')
        .default(DEFAULT_TENANT_CLAIM),
    )
    .addOption(
      new Option('--no-delete-finished', 'refuse DELETE of finished uploads (default: allowed)'),
    );
}

/** The authenticate hook the flags ask for; undefined: the server runs open. */
export function authenticatorFromFlags(o: AuthCliOptions): Authenticate | undefined {
  if (!o.jwtSecret && !o.jwksUrl) return undefined;
  return jwtAuthenticator({ secret: o.jwtSecret, jwksUrl: o.jwksUrl, tenantClaim: o.tenantClaim });
}

/** The start-up line on authentication. */
export function describeAuth(o: AuthCliOptions): string {
  if (o.jwtSecret) return `auth: Bearer JWT (HS256), owner = sub, tenant = ${o.tenantClaim}`;
  if (o.jwksUrl) {
    return `auth: Bearer JWT (RS256/ES256) from ${o.jwksUrl}, owner = sub, tenant = ${o.tenantClaim}`;
  }
  return 'auth: none, the server is open: anyone with an upload URL may use it (--jwt-secret or --jwks-url)';
}
