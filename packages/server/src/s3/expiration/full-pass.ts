// The rarer full pass over everything under the prefix, for what the incremental sweep
// cannot see: staged objects of uploads that have no info (a write that outlived its
// upload's removal) and infos of unfinished uploads that neither a multipart upload nor an
// open marker names (a marker write that failed, or uploads from before markers existed).
// Paged: each page is dealt with before the next is listed, and what it remembers between
// keys is bounded, so it finishes whatever the number of uploads.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StoreContext } from '../context.js';
import { idFromInfoKey, idFromObjectKey, idFromStagingKey } from '../keys.js';
import { deleteKeys } from '../staging/listing.js';
import { isOld } from './decide.js';

/** What one key of the listing says, given the keys before it (pure; see PrefixWalk). */
export type KeyVerdict =
  | { kind: 'orphan-staged'; key: string }
  | { kind: 'unfinished-info'; id: string }
  | undefined;

/**
 * Walks the keys under a prefix in lexical order (as S3 lists them). Keys of upload X sort
 * as: X, then keys of ids starting with "X-" ('-' sorts before '.'), then X.info, then X's
 * staged keys (X.pend..., X.seg..., X.unv...), which only keys starting with "X." can
 * separate from X.info. So an info "has its object" when X is the innermost object seen
 * whose name prefixes the current key, and a staged key "has its info" when X.info is the
 * last info seen. The stack of objects is at most as deep as an id is long.
 */
export class PrefixWalk {
  private readonly objects: string[] = [];
  private lastInfo: string | undefined;

  constructor(
    private readonly prefix: string,
    private readonly expiration: number,
    private readonly now: number,
  ) {}

  next(key: string, modified: Date | undefined): KeyVerdict {
    const { prefix, objects } = this;
    const rest = key.slice(prefix.length);
    while (objects.length > 0 && !rest.startsWith(objects[objects.length - 1] as string)) {
      objects.pop();
    }
    const object = idFromObjectKey(prefix, key);
    if (object) {
      objects.push(object);
      return undefined;
    }
    const info = idFromInfoKey(prefix, key);
    if (info) {
      this.lastInfo = info;
      const hasObject = objects[objects.length - 1] === info;
      // An upload whose object exists is finished (or a finished partial: marked).
      if (hasObject || !isOld(modified, this.expiration, this.now)) return undefined;
      return { kind: 'unfinished-info', id: info };
    }
    const staged = idFromStagingKey(prefix, key);
    if (staged && staged !== this.lastInfo && isOld(modified, this.expiration, this.now)) {
      return { kind: 'orphan-staged', key };
    }
    return undefined;
  }
}

export interface FullPassDeps {
  ctx: StoreContext;
  expiration: number;
  /** Deals with an unfinished upload the incremental sweep could not see. */
  sweepInfo: (id: string) => Promise<number>;
  /** Checked between pages: the pass stops early when it says so. */
  stopped?: () => boolean;
}

/** One full pass; returns how many uploads went. */
export async function fullPass(deps: FullPassDeps, now: number): Promise<number> {
  const { client, bucket, prefix } = deps.ctx;
  const walk = new PrefixWalk(prefix, deps.expiration, now);
  let removed = 0;
  let orphans = 0;
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const staged: string[] = [];
    for (const { Key: key, LastModified: modified } of res.Contents ?? []) {
      const v = key ? walk.next(key, modified) : undefined;
      if (v?.kind === 'orphan-staged') staged.push(v.key);
      else if (v?.kind === 'unfinished-info') {
        const n = await deps.sweepInfo(v.id);
        removed += n;
      }
    }
    await deleteKeys(client, bucket, staged);
    orphans += staged.length;
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token && !deps.stopped?.());
  if (orphans > 0) deps.ctx.log.info({ count: orphans }, 'orphaned staged objects deleted');
  return removed;
}
