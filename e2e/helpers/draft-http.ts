// Raw HTTP/1.1 for the IETF draft tests: node:http, so informational (1xx) responses are
// seen ('information' event), and a body can be cut after a given number of bytes.
import http from 'node:http';

export interface Interim {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  interim: Interim[];
}

export interface RawOptions {
  body?: Buffer;
  /** Send only this many body bytes, then destroy the connection once a 104 came. */
  cutAfter?: number;
}

export function raw(
  method: string,
  url: string,
  headers: Record<string, string>,
  opts: RawOptions = {},
): Promise<RawAnswer | { cut: true; interim: Interim[] }> {
  return new Promise((resolve, reject) => {
    const interim: Interim[] = [];
    const req = http.request(url, { method, headers, agent: false });
    req.on('information', (info) => {
      interim.push({ status: info.statusCode, headers: info.headers });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          interim,
        }),
      );
    });
    const { body, cutAfter } = opts;
    if (cutAfter === undefined || !body) {
      req.on('error', reject);
      req.end(body);
      return;
    }
    // A client cut off mid-body: the bytes up to cutAfter, then the connection dropped
    // (after the 104 told where to resume, and a moment for the bytes to arrive).
    req.on('error', () => {});
    req.write(body.subarray(0, cutAfter));
    const cut = () =>
      setTimeout(() => {
        req.destroy();
        resolve({ cut: true, interim });
      }, 500);
    if (interim.length > 0) cut();
    else req.once('information', cut);
  });
}

export function answered(a: RawAnswer | { cut: true }): RawAnswer {
  if ('cut' in a) throw new Error('the request was cut');
  return a;
}
