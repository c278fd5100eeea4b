import { RecentMap } from '../src/s3/state/recent-map.js';

describe('RecentMap', () => {
  it('forgets the least recently set entry beyond its limit', () => {
    const m = new RecentMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3); // a is now the newest
    m.set('c', 4);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(3);
    expect(m.get('c')).toBe(4);
  });

  it('deletes', () => {
    const m = new RecentMap<string, number>(2);
    m.set('a', 1);
    m.delete('a');
    expect(m.get('a')).toBeUndefined();
  });
});
