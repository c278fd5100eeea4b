import {
  createdUrl,
  creationHeaders,
  finalHeaders,
  headState,
  parseOffset,
  patchedOffset,
  patchHeaders,
  prepareRequest,
  TUS_VERSION,
} from '../src/protocol/requests.js';

function res(headers: Record<string, string>, url = '') {
  return { status: 200, headers: new Headers(headers), body: '', url };
}

describe('requests: what each tus request carries and what its answer means', () => {
  test('creation: length or deferred, metadata only when any, partial concat', () => {
    expect(creationHeaders(10, {}, false)).toEqual({ 'Upload-Length': '10' });
    const h = creationHeaders(null, { filename: 'a' }, true);
    expect(h['Upload-Defer-Length']).toBe('1');
    expect(h['Upload-Length']).toBeUndefined();
    expect(h['Upload-Metadata']).toMatch(/^filename /);
    expect(h['Upload-Concat']).toBe('partial');
  });

  test('final and patch headers', () => {
    expect(finalHeaders(['http://x/1', 'http://x/2'], {})).toEqual({
      'Upload-Concat': 'final;http://x/1 http://x/2',
    });
    expect(patchHeaders(5, null)).toEqual({
      'Upload-Offset': '5',
      'Content-Type': 'application/offset+octet-stream',
    });
    expect(patchHeaders(5, 9)['Upload-Length']).toBe('9');
  });

  test('prepareRequest: options headers, Tus-Resumable, then the hook may change them', async () => {
    const req = await prepareRequest(
      {
        headers: { A: '1', 'Tus-Resumable': 'x' },
        onBeforeRequest: (r) => {
          r.headers.B = '2';
        },
      },
      'HEAD',
      'http://x/1',
      { C: '3' },
    );
    expect(req).toEqual({
      method: 'HEAD',
      url: 'http://x/1',
      headers: { A: '1', 'Tus-Resumable': TUS_VERSION, C: '3', B: '2' },
      body: undefined,
    });
  });

  test('answers: Location resolved against the answering URL; offsets validated', () => {
    expect(createdUrl('http://h/files', res({ Location: '/files/1' }, 'http://r/files'))).toBe(
      'http://r/files/1',
    );
    expect(() => createdUrl('http://h/files', res({}))).toThrow(/without a Location/);
    expect(headState('u', res({ 'Upload-Offset': '3', 'Upload-Length': '9' }), 9)).toEqual({
      offset: 3,
      length: 9,
    });
    expect(() => headState('u', res({ 'Upload-Offset': '3', 'Upload-Length': '8' }), 9)).toThrow(
      /Upload-Length 8/,
    );
    expect(() => headState('u', res({}), null)).toThrow(/no valid Upload-Offset/);
    expect(patchedOffset('u', res({ 'Upload-Offset': '7' }), 5, 4)).toBe(7);
    expect(() => patchedOffset('u', res({ 'Upload-Offset': '10' }), 5, 4)).toThrow(/invalid/);
    expect(parseOffset(' 12 ')).toBe(12);
    expect(parseOffset('-1')).toBeNull();
    expect(parseOffset('9007199254740993')).toBeNull();
  });
});
