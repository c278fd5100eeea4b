// What a store implements, one interface per tus extension, and the extension lists
// derived from it. @tus/server trusts whatever strings a store puts in `extensions`, so a
// store could claim `checksum` with nothing behind it; here a store advertises an
// extension only when it has the methods (or fields) that implement it, as tusd derives
// Tus-Extension from the interfaces its store composer was given.
import type { Readable } from 'node:stream';
import { DataStore, type Upload } from '@tus/utils';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './extensions/checksum.js';

// tus extension names, spelled once: @tus/server compares plain strings, so a typo
// silently disables a feature.
export const Extension = {
  Creation: 'creation',
  CreationWithUpload: 'creation-with-upload',
  CreationDeferLength: 'creation-defer-length',
  Termination: 'termination',
  Expiration: 'expiration',
  Checksum: 'checksum',
  Concatenation: 'concatenation',
  /** A final may be created before its partials are finished (tus 1.0 concatenation). */
  ConcatenationUnfinished: 'concatenation-unfinished',
  /** A creation that declares its digest may finish by proof of possession (src/instant/). */
  InstantUpload: 'instant-upload',
} as const;

export type ExtensionName = (typeof Extension)[keyof typeof Extension];

/**
 * @tus/server 2.4.5 (PostHandler) lets a POST with Upload-Concat through only when the
 * store's `extensions` contain this misspelling: a store that implements concatenation
 * lists it next to the correct name for @tus/server; OPTIONS never shows it.
 */
const TUS_SERVER_CONCATENATION_SPELLING = 'concatentation';

/** creation: POST makes an upload. */
export interface CreationStore {
  create(upload: Upload): Promise<Upload>;
}

/** creation-with-upload: the creation request's body is written as the first bytes. */
export interface CreationWithUploadStore extends CreationStore {
  write(body: Readable, id: string, offset: number): Promise<number>;
}

/** creation-defer-length: an upload created without a length gets it in a later PATCH. */
export interface CreationDeferLengthStore extends CreationStore {
  declareUploadLength(id: string, length: number): Promise<void>;
}

/** termination: DELETE removes an upload. */
export interface TerminationStore {
  remove(id: string): Promise<void>;
}

/** expiration: unfinished uploads expire after a set time, and a sweep removes them. */
export interface ExpirationStore {
  /** How long an unfinished upload lives (ms). */
  getExpiration(): number;
  /** Removes the expired uploads; how many went. */
  deleteExpired(): Promise<number>;
}

/**
 * checksum: write() verifies the body against the request's Upload-Checksum before it
 * keeps a byte of it (front/request-context.ts carries the parsed header to the store).
 */
export interface ChecksumStore {
  /** The algorithms write() can verify, in the order OPTIONS lists them. */
  readonly checksumAlgorithms: readonly ChecksumAlgorithm[];
  write(body: Readable, id: string, offset: number): Promise<number>;
}

/** concatenation: create() of an `Upload-Concat: final` request builds it from its partials. */
export interface ConcatenationStore extends CreationStore {
  /**
   * Sizes of partial uploads, in order. Throws TusError: 404 for an upload that does not
   * exist, 400 for one that is not a partial, has a deferred length or belongs to another
   * final. (Whether unfinished partials are accepted is the store's creation to decide.)
   */
  sizeOfPartials(ids: readonly string[]): Promise<number[]>;
}

/** concatenation-unfinished: a final may be created from partials not finished yet. */
export interface UnfinishedConcatenationStore extends ConcatenationStore {
  readonly concatenatesUnfinished: true;
}

/**
 * instant-upload: a creation with `Upload-Instant: ?1` gets a challenge, and write() answers
 * a PATCH with Upload-Instant-Proof (front/request-context.ts carries it) under the upload's
 * lock like any PATCH: the size when the proof holds and a server-side copy made the
 * upload, else 0 (src/instant/ holds the protocol). Only a store that verifies whole-file
 * digests has it: the index it copies from must hold verified digests only.
 */
export interface InstantUploadStore extends CreationWithUploadStore, ReprDigestStore {
  readonly instantUpload: {
    /** A proof's answer is released no earlier than this many ms after it arrived. */
    readonly floorMs: number;
  };
}

/**
 * Verifies a whole-file Repr-Digest (RFC 9530) before an upload completes. Not a tus
 * extension, so nothing in Tus-Extension: the header itself is the protocol (server README,
 * "Whole-file digest"); a store without it ignores the header.
 */
export interface ReprDigestStore {
  readonly verifiesReprDigest: true;
}

export function verifiesReprDigest(store: object): store is ReprDigestStore {
  return (
    implementsMethod(store, 'write') &&
    (store as Partial<ReprDigestStore>).verifiesReprDigest === true
  );
}

/** DataStore's methods that implement an extension. */
type ExtensionMethod =
  | 'create'
  | 'write'
  | 'declareUploadLength'
  | 'remove'
  | 'getExpiration'
  | 'deleteExpired';

/**
 * `store` has its own method `name`: not DataStore's default, which does nothing (its
 * remove() removes nothing, its deleteExpired() sweeps nothing) and so implements nothing.
 */
function implementsMethod(store: object, name: ExtensionMethod): boolean {
  const method = (store as Partial<Record<ExtensionMethod, unknown>>)[name];
  return typeof method === 'function' && method !== DataStore.prototype[name];
}

export function isCreationStore(store: object): store is CreationStore {
  return implementsMethod(store, 'create');
}

export function isCreationWithUploadStore(store: object): store is CreationWithUploadStore {
  return isCreationStore(store) && implementsMethod(store, 'write');
}

export function isCreationDeferLengthStore(store: object): store is CreationDeferLengthStore {
  return isCreationStore(store) && implementsMethod(store, 'declareUploadLength');
}

export function isTerminationStore(store: object): store is TerminationStore {
  return implementsMethod(store, 'remove');
}

export function isExpirationStore(store: object): store is ExpirationStore {
  return implementsMethod(store, 'getExpiration') && implementsMethod(store, 'deleteExpired');
}

export function isChecksumStore(store: object): store is ChecksumStore {
  const algorithms = (store as Partial<ChecksumStore>).checksumAlgorithms;
  return (
    implementsMethod(store, 'write') &&
    Array.isArray(algorithms) &&
    algorithms.length > 0 &&
    algorithms.every((a) => (CHECKSUM_ALGORITHMS as readonly string[]).includes(a))
  );
}

export function isConcatenationStore(store: object): store is ConcatenationStore {
  return (
    isCreationStore(store) &&
    typeof (store as Partial<ConcatenationStore>).sizeOfPartials === 'function'
  );
}

export function isUnfinishedConcatenationStore(
  store: object,
): store is UnfinishedConcatenationStore {
  return (
    isConcatenationStore(store) &&
    (store as Partial<UnfinishedConcatenationStore>).concatenatesUnfinished === true
  );
}

export function isInstantUploadStore(store: object): store is InstantUploadStore {
  const settings = (store as Partial<InstantUploadStore>).instantUpload;
  return (
    isCreationWithUploadStore(store) &&
    verifiesReprDigest(store) &&
    typeof settings === 'object' &&
    settings !== null &&
    Number.isFinite(settings.floorMs) &&
    settings.floorMs >= 0
  );
}

/** In the order they are advertised. */
const CAPABILITIES: readonly (readonly [ExtensionName, (store: object) => boolean])[] = [
  [Extension.Creation, isCreationStore],
  [Extension.CreationWithUpload, isCreationWithUploadStore],
  [Extension.CreationDeferLength, isCreationDeferLengthStore],
  [Extension.Termination, isTerminationStore],
  [Extension.Expiration, isExpirationStore],
  [Extension.Checksum, isChecksumStore],
  [Extension.Concatenation, isConcatenationStore],
  [Extension.ConcatenationUnfinished, isUnfinishedConcatenationStore],
  [Extension.InstantUpload, isInstantUploadStore],
];

export interface StoreExtensions {
  /** The store's `extensions`, as @tus/server reads them (with its concatenation spelling). */
  tusServer: string[];
  /** Tus-Extension on OPTIONS, spelled per the spec. */
  advertised: ExtensionName[];
}

/** The extensions `store` implements, for @tus/server and for OPTIONS. */
export function storeExtensions(store: object): StoreExtensions {
  const advertised = CAPABILITIES.filter(([, has]) => has(store)).map(([name]) => name);
  const tusServer: string[] = [...advertised];
  if (advertised.includes(Extension.Concatenation)) {
    tusServer.push(TUS_SERVER_CONCATENATION_SPELLING);
  }
  return { tusServer, advertised };
}

/**
 * Whether a POST with Upload-Concat reaches the store: it implements concatenation, and
 * its `extensions` let @tus/server pass the request on (else @tus/server answers 501).
 */
export function concatenationReaches(store: DataStore): store is DataStore & ConcatenationStore {
  return isConcatenationStore(store) && store.hasExtension(TUS_SERVER_CONCATENATION_SPELLING);
}
