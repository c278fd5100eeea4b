import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { FileStore } from '@tus/file-store';
import { DataStore, type Upload } from '@tus/utils';
import {
  concatenationReaches,
  Extension,
  isChecksumStore,
  isExpirationStore,
  isInstantUploadStore,
  storeExtensions,
} from '../src/capabilities.js';
import { S3MultipartStore } from '../src/s3/store.js';

const MISSPELLING = 'concatentation';

// Never contacted: deriving extensions is a look at the store object only.
const client = new S3Client({
  endpoint: 'http://127.0.0.1:1',
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});
const s3Store = (expiration?: number) => new S3MultipartStore({ client, bucket: 'b', expiration });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tus-caps-'));
});
afterAll(async () => {
  // FileStore's constructor creates its directory without waiting (its own TODO): let
  // those calls land before the directory goes.
  await delay(200);
  rmSync(dir, { recursive: true, force: true });
});

/** A store that claims every extension in its `extensions` and implements what `has` says. */
class Claiming extends DataStore {
  constructor(has: Partial<Record<'create' | 'write' | 'sizeOfPartials', true>> = {}) {
    super();
    this.extensions = Object.values(Extension);
    const self = this as unknown as Record<string, unknown>;
    if (has.create) self.create = async (upload: Upload) => upload;
    if (has.write) self.write = async () => 0;
    if (has.sizeOfPartials) self.sizeOfPartials = async () => [];
  }
}

describe('storeExtensions', () => {
  it('a store without a capability cannot advertise it, whatever its `extensions` claim', () => {
    // DataStore's own methods do nothing: a store that only claims gets nothing.
    expect(storeExtensions(new Claiming())).toEqual({ tusServer: [], advertised: [] });
    const claimsChecksum = new Claiming({ create: true, write: true });
    expect(claimsChecksum.hasExtension(Extension.Checksum)).toBe(true);
    expect(isChecksumStore(claimsChecksum)).toBe(false);
    expect(storeExtensions(claimsChecksum).advertised).toEqual([
      Extension.Creation,
      Extension.CreationWithUpload,
    ]);
    // A list of algorithms it cannot name is no checksum either.
    Object.assign(claimsChecksum, { checksumAlgorithms: ['sha512'] });
    expect(storeExtensions(claimsChecksum).advertised).not.toContain(Extension.Checksum);
    Object.assign(claimsChecksum, { checksumAlgorithms: ['sha1'] });
    expect(storeExtensions(claimsChecksum).advertised).toContain(Extension.Checksum);
  });

  it('instant-upload needs creation-with-upload, a verified digest and its settings', () => {
    const instant = (store: Claiming, floorMs: unknown = 250) =>
      Object.assign(store, { verifiesReprDigest: true, instantUpload: { floorMs } });
    const full = () => new Claiming({ create: true, write: true });
    expect(isInstantUploadStore(instant(full()))).toBe(true);
    expect(storeExtensions(instant(full())).advertised).toEqual([
      Extension.Creation,
      Extension.CreationWithUpload,
      Extension.InstantUpload,
    ]);
    // Without write() nothing can answer the proof; without digests nothing to copy from.
    expect(isInstantUploadStore(instant(new Claiming({ create: true })))).toBe(false);
    expect(isInstantUploadStore(Object.assign(full(), { instantUpload: { floorMs: 0 } }))).toBe(
      false,
    );
    expect(isInstantUploadStore(instant(full(), -1))).toBe(false);
    expect(isInstantUploadStore(instant(full(), 'soon'))).toBe(false);
    expect(isInstantUploadStore(new Claiming({ create: true, write: true }))).toBe(false);
    // The S3 store: only when it is turned on; the file store never.
    expect(storeExtensions(s3Store()).advertised).not.toContain(Extension.InstantUpload);
    const on = new S3MultipartStore({ client, bucket: 'b', instantUpload: true });
    expect(storeExtensions(on).advertised).toContain(Extension.InstantUpload);
    expect(on.instantUpload).toEqual({ floorMs: 250 });
    const floored = new S3MultipartStore({ client, bucket: 'b', instantUpload: { floorMs: 40 } });
    expect(floored.instantUpload).toEqual({ floorMs: 40 });
    expect(
      () => new S3MultipartStore({ client, bucket: 'b', instantUpload: { floorMs: -1 } }),
    ).toThrow(/floorMs/);
    expect(storeExtensions(new FileStore({ directory: dir })).advertised).not.toContain(
      Extension.InstantUpload,
    );
  });

  it('concatenation-unfinished needs concatenation, which needs creation', () => {
    const unfinishedOnly = Object.assign(new Claiming({ create: true }), {
      concatenatesUnfinished: true,
    });
    expect(storeExtensions(unfinishedOnly).advertised).toEqual([Extension.Creation]);
    const noCreation = new Claiming({ sizeOfPartials: true });
    expect(storeExtensions(noCreation).advertised).toEqual([]);
  });

  it("@tus/server's misspelling goes with concatenation to @tus/server only, never to OPTIONS", () => {
    const concatenating = new Claiming({ create: true, sizeOfPartials: true });
    expect(storeExtensions(concatenating)).toEqual({
      tusServer: [Extension.Creation, Extension.Concatenation, MISSPELLING],
      advertised: [Extension.Creation, Extension.Concatenation],
    });
    expect(storeExtensions(new Claiming({ create: true })).tusServer).not.toContain(MISSPELLING);
    for (const store of [s3Store(), s3Store(60_000)]) {
      const { tusServer, advertised } = storeExtensions(store);
      expect(tusServer).toContain(MISSPELLING);
      expect(advertised).not.toContain(MISSPELLING as never);
      expect(advertised.filter((e) => e === Extension.Concatenation)).toHaveLength(1);
    }
  });

  it('a POST with Upload-Concat reaches only a concatenating store @tus/server lets it to', () => {
    const concatenating = new Claiming({ create: true, sizeOfPartials: true });
    expect(concatenationReaches(concatenating)).toBe(false); // claims lack the misspelling
    concatenating.extensions = storeExtensions(concatenating).tusServer;
    expect(concatenationReaches(concatenating)).toBe(true);
    expect(concatenationReaches(new Claiming({ create: true }))).toBe(false);
    expect(concatenationReaches(s3Store())).toBe(true);
  });

  it('the S3 store advertises what it did before, expiration only when uploads expire', () => {
    const always = [
      Extension.Creation,
      Extension.CreationWithUpload,
      Extension.CreationDeferLength,
      Extension.Termination,
    ];
    const concat = [Extension.Checksum, Extension.Concatenation, Extension.ConcatenationUnfinished];
    const plain = s3Store();
    expect(isExpirationStore(plain)).toBe(false);
    expect(plain.getExpiration()).toBe(0);
    expect(plain.extensions).toEqual([...always, ...concat, MISSPELLING]);
    expect(storeExtensions(plain).advertised).toEqual([...always, ...concat]);
    const expiring = s3Store(60_000);
    expect(expiring.getExpiration()).toBe(60_000);
    expect(expiring.extensions).toEqual([...always, Extension.Expiration, ...concat, MISSPELLING]);
    expect(storeExtensions(expiring).advertised).toEqual([
      ...always,
      Extension.Expiration,
      ...concat,
    ]);
  });

  it('the file store advertises what its own list says: no checksum, no concatenation', () => {
    const today = [
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'termination',
      'expiration',
    ];
    for (const expirationPeriodInMilliseconds of [0, 60_000]) {
      const store = new FileStore({ directory: dir, expirationPeriodInMilliseconds });
      expect(store.extensions).toEqual(today);
      expect(storeExtensions(store)).toEqual({ tusServer: today, advertised: today });
    }
  });
});
