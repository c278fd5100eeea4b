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
} as const;

export type ExtensionName = (typeof Extension)[keyof typeof Extension];
