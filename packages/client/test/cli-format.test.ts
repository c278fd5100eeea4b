import {
  formatBytes,
  formatDuration,
  guessType,
  parseHeader,
  parseMetadataArg,
  RateMeter,
  renderBar,
  renderLine,
} from '../src/cli/format.js';

test('formatBytes / formatDuration', () => {
  expect(formatBytes(512)).toBe('512 B');
  expect(formatBytes(1536)).toBe('1.5 KiB');
  expect(formatBytes(100 * 1024 * 1024)).toBe('100.0 MiB');
  expect(formatDuration(3)).toBe('0:03');
  expect(formatDuration(3725)).toBe('1:02:05');
  expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--:--');
});

test('parseHeader / parseMetadataArg', () => {
  expect(parseHeader('Authorization: Bearer a:b')).toEqual(['Authorization', 'Bearer a:b']);
  expect(() => parseHeader('no colon')).toThrow(RangeError);
  expect(() => parseHeader(': v')).toThrow(RangeError);
  expect(parseMetadataArg('name=a=b ü')).toEqual(['name', 'a=b ü']);
  expect(() => parseMetadataArg('=x')).toThrow(RangeError);
});

test('RateMeter smooths samples', () => {
  const m = new RateMeter(1000);
  m.sample(0, 0);
  expect(m.sample(1000, 1000)).toBe(1000);
  const r = m.sample(1000 + 3000, 2000);
  expect(r).toBeGreaterThan(1000);
  expect(r).toBeLessThan(3000);
});

test('progress rendering shows bytes, rate and ETA', () => {
  const v = { sent: 50, acked: 40, total: 100, rate: 10 };
  expect(renderBar(v, 10)).toBe('[====>     ]  40.0%  40 B / 100 B  10 B/s  ETA 0:06');
  expect(renderLine(v)).toBe(
    'progress 40.0% acknowledged=40 sent=50 total=100 rate=10 B/s eta=0:06',
  );
  expect(renderLine({ ...v, total: null })).toContain('total=?');
});

test('guessType', () => {
  expect(guessType('a/b.PNG')).toBe('image/png');
  expect(guessType('noext')).toBe('application/octet-stream');
});
