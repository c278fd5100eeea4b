import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { DigestAhead } from '../src/checksum/ahead.js';
import {
  type ChecksumCaps,
  checksumHeader,
  chooseChecksum,
  parseAlgorithmList,
} from '../src/checksum/algorithms.js';
import { ChecksumChoice } from '../src/checksum/choice.js';
import { checksumChunk } from '../src/checksum/digest.js';
import { createHasher, digestBytes, type Hasher, hasWebAssembly } from '../src/checksum/hasher.js';
import { jsHasher } from '../src/checksum/js-hasher.js';
import { nodeHasher } from '../src/checksum/node-hasher.js';
import { wasmHasher } from '../src/checksum/wasm-hasher.js';
import { isTusError, TusError } from '../src/errors.js';
import { checksumCaps, parseCaps } from '../src/protocol/caps.js';
import { blobSource } from '../src/sources/blob.js';
import { nodeFileSource } from '../src/sources/node-file.js';
import type { RangeDigester, UploadSource } from '../src/sources/types.js';

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

const ALGORITHMS = ['sha256', 'sha1', 'md5', 'crc32'] as const;
type Make = (alg: (typeof ALGORITHMS)[number]) => Hasher | Promise<Hasher>;
const MAKERS: Array<[string, Make]> = [
  ['hash-wasm', wasmHasher],
  ['pure JS (no WebAssembly)', jsHasher],
  ['node:crypto / zlib', nodeHasher],
];

/** Without WebAssembly there is no CRC-32 (no maintained pure-JS one): it is refused. */
const supports = (name: string, alg: (typeof ALGORITHMS)[number]) =>
  !(name.startsWith('pure JS') && alg === 'crc32');

test('without WebAssembly crc32 is refused as unsupported, not hand-computed', () => {
  expect(() => jsHasher('crc32')).toThrow(/crc32 needs WebAssembly/);
  try {
    jsHasher('crc32');
  } catch (e) {
    expect(isTusError(e, 'unsupported')).toBe(true);
  }
});

describe.each(MAKERS)('%s digests', (name, make) => {
  test('known vectors', async () => {
    const abc = enc('abc');
    const d = async (alg: (typeof ALGORITHMS)[number], x: Uint8Array) => {
      const h = await make(alg);
      h.update(x);
      return Buffer.from(h.digest()).toString('hex');
    };
    expect(await d('md5', enc(''))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(await d('md5', abc)).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await d('sha1', abc)).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(await d('sha256', abc)).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    if (supports(name, 'crc32')) expect(await d('crc32', enc('123456789'))).toBe('cbf43926');
  });

  test.each(ALGORITHMS)(
    '%s equals node:crypto / zlib over odd piece boundaries and sizes',
    async (alg) => {
      if (!supports(name, alg)) return;
      for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 4097, 100_003]) {
        const data = randomBytes(n);
        const h = await make(alg);
        for (let i = 0; i < n; i += 37) h.update(data.subarray(i, Math.min(n, i + 37)));
        const want =
          alg === 'crc32'
            ? Buffer.from(new Uint8Array(new Uint32Array([crc32(data)]).buffer).reverse())
            : createHash(alg).update(data).digest();
        expect(Buffer.from(h.digest()).toString('hex')).toBe(want.toString('hex'));
      }
    },
  );
});

describe('digestBytes', () => {
  test('agrees with node:crypto, also when calls overlap on the shared instance', async () => {
    const inputs = [randomBytes(300_000), randomBytes(17), randomBytes(0)];
    for (const alg of ALGORITHMS) {
      const got = await Promise.all(inputs.map((x) => digestBytes(alg, x)));
      got.forEach((d, i) => {
        const h = nodeHasher(alg);
        h.update(inputs[i]!);
        expect(b64(d)).toBe(b64(h.digest()));
      });
    }
  });

  test('without WebAssembly: the pure-JS path gives the same digests', async () => {
    const saved = globalThis.WebAssembly;
    const data = randomBytes(70_000);
    const want = await Promise.all(ALGORITHMS.map((a) => digestBytes(a, data)));
    // biome-ignore lint/suspicious/noExplicitAny: simulating Hermes, which has no WebAssembly
    delete (globalThis as any).WebAssembly;
    try {
      expect(hasWebAssembly()).toBe(false);
      const hashed = ALGORITHMS.filter((a) => a !== 'crc32');
      const got = await Promise.all(hashed.map((a) => digestBytes(a, data)));
      expect(got.map(b64)).toEqual(want.filter((_, i) => ALGORITHMS[i] !== 'crc32').map(b64));
      await expect(digestBytes('crc32', data)).rejects.toThrow(/crc32 needs WebAssembly/);
      // 'auto' against a server offering only crc32 goes without a checksum; crc32 asked
      // for by name fails on the chunk, kind 'unsupported'.
      const src = blobSource(new Blob([data]));
      const chunk = await src.read(0, 1000);
      const caps = parseCaps(
        new Headers({ 'Tus-Extension': 'checksum', 'Tus-Checksum-Algorithm': 'crc32' }),
      );
      const auto = new ChecksumChoice(src, 'auto', () => {});
      auto.choose(caps);
      expect(auto.algorithm).toBe('crc32');
      expect(await auto.forChunk(chunk, 0, 1000, data.length)).toBeNull();
      expect(auto.algorithm).toBeNull();
      const named = new ChecksumChoice(src, 'crc32', () => {});
      named.choose(caps);
      await expect(named.forChunk(chunk, 0, 1000, data.length)).rejects.toMatchObject({
        kind: 'unsupported',
      });
    } finally {
      globalThis.WebAssembly = saved;
    }
  });
});

describe('Upload-Checksum header', () => {
  test('"<alg> <base64 digest>"', async () => {
    const h = await createHasher('sha256');
    h.update(enc('abc'));
    expect(checksumHeader('sha256', h.digest())).toBe(
      'sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=',
    );
    const c = await createHasher('crc32');
    c.update(enc('123456789'));
    expect(checksumHeader('crc32', c.digest())).toBe('crc32 y/Q5Jg==');
  });

  test('of a Blob chunk, a byte chunk and a stream chunk: the same digest, the body still sendable', async () => {
    const data = randomBytes(5000);
    const want = `md5 ${createHash('md5').update(data.subarray(1000, 3000)).digest('base64')}`;
    const src = blobSource(new Blob([data]));
    const blobChunk = await src.read(1000, 3000);
    const a = await checksumChunk(src, blobChunk, 1000, 'md5');
    expect(a.header).toBe(want);
    expect(a.body).toBe(blobChunk.body);
    const bytes = new Uint8Array(data.subarray(1000, 3000));
    const b = await checksumChunk(src, { body: bytes, size: 2000, last: false }, 1000, 'md5');
    expect(b.header).toBe(want);
    const stream = new Blob([bytes]).stream();
    const c = await checksumChunk(
      { ...src, digester: undefined },
      { body: stream, size: 2000, last: false },
      1000,
      'md5',
    );
    expect(c.header).toBe(want);
    expect(Buffer.from(c.body as Uint8Array)).toEqual(Buffer.from(bytes));
  });
});

describe('choosing the algorithm', () => {
  const caps = (o: Partial<ChecksumCaps>): ChecksumCaps => ({
    known: true,
    extension: true,
    algorithms: ['sha1', 'md5', 'crc32', 'sha256'],
    ...o,
  });

  test("'auto': sha256 when advertised, the best shared one otherwise, none without the extension", () => {
    expect(chooseChecksum('auto', caps({}))).toBe('sha256');
    expect(chooseChecksum('auto', caps({ algorithms: ['md5', 'sha1'] }))).toBe('sha1');
    expect(chooseChecksum('auto', caps({ algorithms: ['crc32c'] }))).toBeNull();
    expect(chooseChecksum('auto', caps({ algorithms: null }))).toBe('sha256');
    expect(chooseChecksum('auto', caps({ extension: false }))).toBeNull();
    expect(chooseChecksum('auto', caps({ known: false, extension: false }))).toBeNull();
  });

  test('false: none, whatever the server offers', () => {
    expect(chooseChecksum(false, caps({}))).toBeNull();
  });

  test('explicit: used when offered or unknown; an error when the server says it lacks it', () => {
    expect(chooseChecksum('crc32', caps({}))).toBe('crc32');
    expect(chooseChecksum('md5', caps({ known: false, extension: false }))).toBe('md5');
    expect(() => chooseChecksum('md5', caps({ algorithms: ['sha256'] }))).toThrow(
      /supports only: sha256/,
    );
    let err: unknown;
    try {
      chooseChecksum('sha1', caps({ extension: false }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TusError);
    expect((err as TusError).kind).toBe('unsupported');
  });

  test('OPTIONS headers parsed', () => {
    const h = new Headers({
      'Tus-Extension': 'creation, checksum,concatenation',
      'Tus-Checksum-Algorithm': 'SHA1, md5,sha256',
      'Tus-S3-Part-Size': '8388608',
      'Tus-Max-Size': '100',
    });
    const c = parseCaps(h);
    expect([...c.extensions]).toEqual(['creation', 'checksum', 'concatenation']);
    expect(c.partSize).toBe(8388608);
    expect(c.maxSize).toBe(100);
    expect(checksumCaps(c)).toEqual({
      known: true,
      extension: true,
      algorithms: ['sha1', 'md5', 'sha256'],
    });
    expect(parseAlgorithmList(null)).toBeNull();
    expect(parseCaps(new Headers({ 'Tus-S3-Part-Size': 'x' })).partSize).toBeNull();
  });
});

describe('hashing ahead (DigestAhead) over a source digester', () => {
  const data = randomBytes(10_000);
  const want = (s: number, e: number) =>
    createHash('sha256').update(data.subarray(s, e)).digest('base64');

  /** A source whose digester counts the bytes it reads. */
  function counting() {
    const stats = { read: 0, digesters: 0 };
    const source = {
      digester(start: number): RangeDigester {
        stats.digesters++;
        const h = createHash('sha256');
        let pos = start;
        return {
          get position() {
            return pos;
          },
          async advance(to: number) {
            stats.read += Math.max(0, to - pos);
            if (to > pos) h.update(data.subarray(pos, to));
            pos = Math.max(pos, to);
          },
          digest: () => new Uint8Array(h.digest()),
        };
      },
    } as unknown as UploadSource;
    return { source, stats };
  }

  test('a prefetched range is used as is, and extended when the next chunk is longer', async () => {
    const { source, stats } = counting();
    const a = new DigestAhead(source);
    a.prefetch(1000, 3000, 'sha256');
    expect(b64(await a.digest(1000, 3000, 'sha256'))).toBe(want(1000, 3000));
    expect(stats).toEqual({ read: 2000, digesters: 1 });
    a.prefetch(3000, 5000, 'sha256');
    expect(b64(await a.digest(3000, 7000, 'sha256'))).toBe(want(3000, 7000));
    expect(stats).toEqual({ read: 6000, digesters: 2 }); // nothing hashed twice
  });

  test('shorter or elsewhere: hashed afresh, still right', async () => {
    const { source, stats } = counting();
    const a = new DigestAhead(source);
    a.prefetch(0, 4000, 'sha256');
    expect(b64(await a.digest(0, 2000, 'sha256'))).toBe(want(0, 2000));
    a.prefetch(2000, 4000, 'sha256');
    expect(b64(await a.digest(1000, 2000, 'sha256'))).toBe(want(1000, 2000));
    expect(stats.digesters).toBe(4);
  });

  test('Node file passes asked at once run one after the other, in the order asked', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'client-digester-'));
    try {
      const p = path.join(dir, 'f.bin');
      await writeFile(p, data);
      // Small pieces: interleaved passes would take turns piece by piece.
      const src = await nodeFileSource(p, { pieceSize: 100 });
      try {
        const ranges = [0, 2500, 5000, 7500].map((start) => [start, start + 2500] as const);
        const digesters = ranges.map(([start]) => src.digester!(start, 'sha256'));
        const done: number[] = [];
        const passes = ranges.map(([, end], i) =>
          digesters[i]!.advance(end).then(() => {
            // When a pass ends, the one asked after it has not read a byte yet.
            const next = digesters[i + 1];
            if (next) expect(next.position).toBe(ranges[i + 1]![0]);
            done.push(i);
            return b64(digesters[i]!.digest());
          }),
        );
        const digests = await Promise.all(passes);
        expect(done).toEqual([0, 1, 2, 3]);
        expect(digests).toEqual(ranges.map(([start, end]) => want(start, end)));
      } finally {
        await src.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the Node file source digester equals node:crypto over the range', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'client-digester-'));
    try {
      const p = path.join(dir, 'f.bin');
      await writeFile(p, data);
      const src = await nodeFileSource(p, { pieceSize: 333 });
      try {
        const d = src.digester!(123, 'sha256');
        await d.advance(5000);
        await d.advance(20_000); // past the end: stops at the end
        expect(d.position).toBe(10_000);
        expect(b64(d.digest())).toBe(want(123, 10_000));
        const c = await checksumChunk(src, await src.read(500, 2500), 500, 'sha256');
        expect(c.header).toBe(`sha256 ${want(500, 2500)}`);
      } finally {
        await src.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
