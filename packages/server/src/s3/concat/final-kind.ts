// Which kind of final a POST over these partials makes (pure). Finished partials only: built by
// copy within the POST (s3/concat/final.ts). Otherwise concatenation-unfinished: partials all
// empty and lined up on one part size write straight into the final, nothing ever copied
// (s3/concat/direct-final.ts); any other mix, in any state, makes a final that waits for its last
// partial and is then built by copy (s3/concat/waiting-final.ts). A declared Repr-Digest is
// verified by reading the partials' objects back before the final completes, and a direct
// final has none (its partials write into its multipart upload, whose parts S3 cannot read
// back before completion): such a final waits, at the cost of the copy and one read.
import { type DirectLayout, directLayout, type PartialFacts } from './direct-layout.js';

export type FinalKind =
  | { kind: 'copy' }
  | { kind: 'direct'; layout: DirectLayout }
  /** `why`: what kept it from being direct (for the logs). */
  | { kind: 'waiting'; why: string };

export function finalKind(
  partials: ReadonlyArray<PartialFacts & { finished: boolean }>,
  digestDeclared = false,
): FinalKind {
  if (partials.every((p) => p.finished)) return { kind: 'copy' };
  if (digestDeclared) return { kind: 'waiting', why: 'a declared digest is read back' };
  if (partials.some((p) => p.finished)) return { kind: 'waiting', why: 'some partials finished' };
  const layout = directLayout(partials);
  return typeof layout === 'string' ? { kind: 'waiting', why: layout } : { kind: 'direct', layout };
}
