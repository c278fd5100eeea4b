// tus extension names, spelled once. @tus/server compares plain strings (and itself
// checks for 'concatentation'), so a typo silently disables a feature: every name the
// project advertises comes from here.
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
} as const;

export type ExtensionName = (typeof Extension)[keyof typeof Extension];

/**
 * @tus/server 2.4.5 (PostHandler) lets a POST with Upload-Concat through only when the
 * store's `extensions` contain this misspelling. A store that implements concatenation
 * lists it next to the correct name; OPTIONS shows only the correct one
 * (see advertisedExtensions).
 */
export const TUS_SERVER_CONCATENATION_SPELLING = 'concatentation';

/** The Tus-Extension list for OPTIONS: what the store implements, spelled per the spec. */
export function advertisedExtensions(storeExtensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of storeExtensions) {
    const proper = name === TUS_SERVER_CONCATENATION_SPELLING ? Extension.Concatenation : name;
    if (!out.includes(proper)) out.push(proper);
  }
  return out;
}
