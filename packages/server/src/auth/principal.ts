// Who a request acts for (the authenticate hook's answer) and whether that principal may
// see an upload. Pure: the front authenticates (front/handler.ts), the store checks.
import { ERRORS, TusError } from '../errors.js';

/** What `authenticate` answers: the owner, and the tenant its quotas count against. */
export interface Principal {
  owner: string;
  /** Absent: the owner is its own tenant. */
  tenant?: string;
}

/**
 * Authenticates one request before any S3 work. Throw a TusError 401 (missing or invalid
 * credential; the front adds `WWW-Authenticate: Bearer`) or 403 to refuse it.
 */
export type Authenticate = (request: Request) => Promise<Principal> | Principal;

/** What an upload's info records of its creator (s3/info.ts). */
export interface Ownership {
  owner?: string;
  tenant?: string;
}

/** The tenant a principal's quotas count against. */
export function tenantOf(principal: Principal): string {
  return principal.tenant ?? principal.owner;
}

/** What a creation by `principal` records; nothing for an open server. */
export function ownershipOf(principal: Principal | undefined): Ownership {
  return principal ? { owner: principal.owner, tenant: tenantOf(principal) } : {};
}

/**
 * Whether `principal` may use the upload: an upload created open (no owner) is anyone's;
 * a request with no principal (open server, the expiration sweep) is not checked.
 */
export function mayUse(upload: Ownership, principal: Principal | undefined): boolean {
  if (principal === undefined || upload.owner === undefined) return true;
  return (
    upload.owner === principal.owner && (upload.tenant ?? upload.owner) === tenantOf(principal)
  );
}

/**
 * Refuses another owner's upload exactly as a missing one (ERRORS.FILE_NOT_FOUND: same
 * status, headers and body), so a guessed or leaked id tells nothing about its existence.
 */
export function assertMayUse(upload: Ownership, principal: Principal | undefined): void {
  if (!mayUse(upload, principal)) throw ERRORS.FILE_NOT_FOUND;
}

/** What the authenticate hook answered, checked: a principal, or a tus refusal. */
export function checkedPrincipal(value: unknown): Principal {
  const p = value as Partial<Principal> | null | undefined;
  if (typeof p?.owner !== 'string' || p.owner === '') {
    throw new Error('authenticate returned no owner');
  }
  if (p.tenant !== undefined && (typeof p.tenant !== 'string' || p.tenant === '')) {
    throw new Error('authenticate returned an invalid tenant');
  }
  return p.tenant === undefined ? { owner: p.owner } : { owner: p.owner, tenant: p.tenant };
}

/** The 401 of a missing or invalid credential. */
export function unauthenticated(reason = 'missing or invalid credential'): TusError {
  return new TusError(401, reason);
}
