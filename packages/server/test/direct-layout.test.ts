import { directLayout, type PartialFacts } from '../src/s3/concat/direct-layout.js';

const MiB = 1024 * 1024;
const P = 8 * MiB;
const partial = (id: string, size: number | undefined, extra: Partial<PartialFacts> = {}) => ({
  id,
  size,
  partSize: P,
  offset: 0,
  adoptedBy: undefined,
  ...extra,
});

describe('directLayout', () => {
  it('numbers each partial from the parts of those before it', () => {
    expect(directLayout([partial('a', 2 * P), partial('b', 3 * P), partial('c', P + 5)])).toEqual({
      partSize: P,
      size: 6 * P + 5,
      firstParts: [1, 3, 6],
    });
  });
  it('takes a short last partial, and a single partial', () => {
    expect(directLayout([partial('a', P), partial('b', 10)])).toEqual({
      partSize: P,
      size: P + 10,
      firstParts: [1, 2],
    });
    expect(directLayout([partial('a', 10)])).toEqual({ partSize: P, size: 10, firstParts: [1] });
  });
  it('says why not', () => {
    const why = (ps: PartialFacts[]) => directLayout(ps) as string;
    expect(why([])).toContain('at least one');
    expect(why([partial('a', P + 1), partial('b', P)])).toContain('not a multiple');
    expect(why([partial('a', P), partial('b', undefined)])).toContain('deferred');
    expect(why([partial('a', 0), partial('b', P)])).toContain('empty');
    expect(why([partial('a', P, { offset: 3 }), partial('b', P)])).toContain('already has 3');
    expect(why([partial('a', P), partial('b', P, { partSize: 2 * P })])).toContain('part size');
    expect(why([partial('a', P, { adoptedBy: 'f' })])).toContain('belongs to final upload f');
    expect(why([partial('a', 10_000 * P), partial('b', 1)])).toContain('more than 10000 parts');
  });
});
