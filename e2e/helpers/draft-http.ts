// Raw HTTP/1.1 for the IETF draft tests: node:http, so informational (1xx) responses are
// seen ('information' event), and a body can be cut after a given number of bytes.
import http from 'node:http';
import net from 'node:net';

export interface Interim {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The 1xx responses that arrived before the final response's head, in order. */
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
      // Taken now: a 1xx counts only if it came before the final head.
      const before = interim.slice();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          interim: before,
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

/**
 * A draft creation (interop 8, `Upload-Complete: ?1`) whose client sends `sent` of its
 * `length` bytes and then goes silent with the connection open, as a phone that lost its
 * network does. `answer()` is everything the server wrote back so far (the 104 first).
 */
export async function stalledDraftCreation(url: string, length: number, sent: Buffer) {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpload-Draft-Interop-Version: 8\r\n` +
      `Upload-Complete: ?1\r\nContent-Length: ${length}\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.write(sent, () => resolve()));
  return { socket, answer: () => answer };
}
