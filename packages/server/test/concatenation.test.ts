import type { TusError } from '../src/errors.js';
import {
  parseUploadConcat,
  uploadConcatHeader,
  uploadIdFromUrl,
} from '../src/extensions/concatenation.js';

const req = 'http://h.example/files';
const status = async (fn: () => unknown): Promise<number | undefined> => {
  try {
    await fn();
  } catch (e) {
    return (e as TusError).status_code;
  }
  return undefined;
};

describe('parseUploadConcat', () => {
  it('reads partial', () => {
    expect(parseUploadConcat('partial', req, '/files')).toEqual({ role: 'partial' });
  });
  it('reads final with absolute and relative URLs, in order', () => {
    expect(
      parseUploadConcat('final;http://other/files/a  /files/b%2Dc files/d/', req, '/files'),
    ).toEqual({ role: 'final', partials: ['a', 'b-c', 'd'] });
  });
  it('works under a nested mount path', () => {
    expect(parseUploadConcat('final;/api/up/x /api/up/y', req, '/api/up/')).toEqual({
      role: 'final',
      partials: ['x', 'y'],
    });
  });
  it.each([
    ['nonsense'],
    ['final;'],
    ['final; '],
    ['final;/elsewhere/a'],
    ['final;/files/'],
    ['final;/files/a/b'],
    ['final;/files/a /files/a'],
    ['final;/files/%E0%A4%A'],
  ])('400 for %p', async (value) => {
    expect(await status(() => parseUploadConcat(value, req, '/files'))).toBe(400);
  });
});

describe('uploadIdFromUrl', () => {
  it('resolves relative to the request URL', () => {
    expect(uploadIdFromUrl('abc', 'http://h/files/', '/files')).toBe('abc');
  });
});

describe('uploadConcatHeader', () => {
  it('renders partial and final (path URLs under the mount)', () => {
    expect(uploadConcatHeader({ role: 'partial' }, '/files')).toBe('partial');
    expect(uploadConcatHeader({ role: 'final', partials: ['a', 'b'] }, '/files/')).toBe(
      'final;/files/a /files/b',
    );
  });
  it('round-trips through the parser', () => {
    const v = uploadConcatHeader({ role: 'final', partials: ['x_1', 'y-2'] }, '/u');
    expect(parseUploadConcat(v, 'http://h/u', '/u')).toEqual({
      role: 'final',
      partials: ['x_1', 'y-2'],
    });
  });
});
