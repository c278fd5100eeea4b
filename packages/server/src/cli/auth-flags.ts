// The CLI's authentication and per-tenant quota flags, and what they turn into: the
// authenticate hook (auth/jwt.ts) and the start-up line that says how requests are let in.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TENANT_CLAIM, jwtAuthenticator } from '../auth/jwt.js';
import type { Authenticate } from '../auth/principal.js';
import type { QuotaLimits } from '../auth/quotas.js';
import { parseSize } from './config.js';

export interface AuthCliOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  tenantClaim: string;
  /** false with --no-delete-finished. */
  deleteFinished: boolean;
  quotaMaxUploadSize?: number;
  quotaMaxUnfinishedUploads?: number;
  quotaMaxUnfinishedBytes?: number;
}

const asSize = (v: string): number => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const asPositive = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer');
  return n;
};
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
    )
    .addOption(
      new Option('--quota-max-upload-size <size>', "largest upload of a tenant's, e.g. 1GiB (413)")
        .env('QUOTA_MAX_UPLOAD_SIZE')
        .argParser(asSize),
    )
    .addOption(
      new Option(
        '--quota-max-unfinished-uploads <n>',
        'unfinished uploads a tenant holds at once (429)',
      )
        .env('QUOTA_MAX_UNFINISHED_UPLOADS')
        .argParser(asPositive),
    )
    .addOption(
      new Option(
        '--quota-max-unfinished-bytes <size>',
        "bytes a tenant's unfinished uploads may declare (429)",
      )
        .env('QUOTA_MAX_UNFINISHED_BYTES')
        .argParser(asSize),
    );
}

/** The authenticate hook the flags ask for; undefined: the server runs open. */
export function authenticatorFromFlags(o: AuthCliOptions): Authenticate | undefined {
  if (!o.jwtSecret && !o.jwksUrl) return undefined;
  return jwtAuthenticator({ secret: o.jwtSecret, jwksUrl: o.jwksUrl, tenantClaim: o.tenantClaim });
}

/** The per-tenant quotas the flags set, or undefined for none; they need a tenant. */
export function quotasFromFlags(o: AuthCliOptions): QuotaLimits | undefined {
  const limits: QuotaLimits = {
    maxUploadSize: o.quotaMaxUploadSize,
    maxUnfinishedUploads: o.quotaMaxUnfinishedUploads,
    maxUnfinishedBytes: o.quotaMaxUnfinishedBytes,
  };
  if (Object.values(limits).every((v) => v === undefined)) return undefined;
  if (!o.jwtSecret && !o.jwksUrl) {
    throw new Error('--quota-* flags need --jwt-secret or --jwks-url: quotas count per tenant');
  }
  return limits;
}

/** The start-up line on authentication. */
export function describeAuth(o: AuthCliOptions): string {
  if (o.jwtSecret) return `auth: Bearer JWT (HS256), owner = sub, tenant = ${o.tenantClaim}`;
  if (o.jwksUrl) {
    return `auth: Bearer JWT (RS256/ES256) from ${o.jwksUrl}, owner = sub, tenant = ${o.tenantClaim}`;
  }
  return 'auth: none, the server is open: anyone with an upload URL may use it (--jwt-secret or --jwks-url)';
}
