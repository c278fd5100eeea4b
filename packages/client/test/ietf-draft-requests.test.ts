// The IETF draft's request shapes in the client (protocol/ietf-draft.ts), pure.
import {
  contentDisposition,
  draftAppendedOffset,
  draftAppendHeaders,
  draftCreationHeaders,
} from '../src/protocol/ietf-draft.js';
import { prepareRequest } from '../src/protocol/requests.js';

const res = (headers: Record<string, string>) => ({
  status: 204,
  headers: new Headers(headers),
  body: '',
  url: '',
});

describe('IETF draft requests', () => {
  it('sends the interop version instead of Tus-Resumable', async () => {
    const draft = await prepareRequest({ protocol: 'ietf-draft' }, 'HEAD', 'http://h/u', {});
    expect(draft.headers).toEqual({ 'Upload-Draft-Interop-Version': '8' });
    const tus = await prepareRequest({}, 'HEAD', 'http://h/u', {});
    expect(tus.headers).toEqual({ 'Tus-Resumable': '1.0.0' });
  });
  it('creates with no content, Upload-Complete ?0, the length and the representation fields', () => {
    expect(draftCreationHeaders(10, { filename: 'ü.txt', filetype: 'text/plain' })).toEqual({
      'Upload-Complete': '?0',
      'Upload-Length': '10',
      'Content-Type': 'text/plain',
      'Content-Disposition': `inline; filename="_.txt"; filename*=UTF-8''%C3%BC.txt`,
      'Upload-Metadata': 'filename w7wudHh0,filetype dGV4dC9wbGFpbg==',
    });
    expect(draftCreationHeaders(null, {})).toEqual({ 'Upload-Complete': '?0' });
    expect(contentDisposition(`a"b's.txt`)).toBe(
      `inline; filename="a_b's.txt"; filename*=UTF-8''a%22b%27s.txt`,
    );
  });
  it('appends application/partial-upload, the last one completing', () => {
    expect(draftAppendHeaders(5, false)).toEqual({
      'Upload-Offset': '5',
      'Upload-Complete': '?0',
      'Content-Type': 'application/partial-upload',
    });
    expect(draftAppendHeaders(5, true)['Upload-Complete']).toBe('?1');
  });
  it('takes the answered offset, or all the content when none is answered', () => {
    expect(draftAppendedOffset('u', res({ 'Upload-Offset': '7' }), 5, 4)).toBe(7);
    expect(draftAppendedOffset('u', res({}), 5, 4)).toBe(9);
    expect(() => draftAppendedOffset('u', res({ 'Upload-Offset': '10' }), 5, 4)).toThrow(
      /invalid Upload-Offset/,
    );
  });
});
