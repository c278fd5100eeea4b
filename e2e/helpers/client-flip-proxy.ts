// A TCP proxy on 127.0.0.1 that corrupts one byte of one request body on its way to the
// server, the way a faulty NIC, middlebox or memory would: the HTTP framing stays valid
// (it follows Content-Length and chunked encoding), only a body byte changes (XOR 0xff).
// It flips byte `at` of the body of the `nth` request (0-based) whose method is `method`
// and whose body is longer than `at`; once.
import { createConnection, createServer, type Socket } from 'node:net';

export interface FlipOptions {
  targetPort: number;
  method?: string;
  nth?: number;
  /** Index of the flipped byte inside that request's body. */
  at: number;
}

export interface Flipped {
  method: string;
  path: string;
  /** The request's Upload-Offset header (PATCH), so the absolute file offset is known. */
  uploadOffset: number | null;
  at: number;
  original: number;
}

export interface FlipProxy {
  origin: string;
  /** Set once the byte was flipped. */
  readonly flipped: Flipped | null;
  /** Requests seen per method. */
  readonly seen: Record<string, number>;
  close(): Promise<void>;
}

type State = 'head' | 'fixed' | 'size' | 'data' | 'crlf' | 'trailer';

export async function startFlipProxy(o: FlipOptions): Promise<FlipProxy> {
  const method = o.method ?? 'PATCH';
  let candidates = 0;
  let flipped: Flipped | null = null;
  const seen: Record<string, number> = {};
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection({ port: o.targetPort, host: '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    // Request framing, client -> server.
    let state: State = 'head';
    let line = '';
    let remaining = 0;
    let bodyIndex = 0;
    let target = false;
    let req = { method: '', path: '', uploadOffset: null as number | null, length: -1 };

    const startRequest = (head: string) => {
      const lines = head.split('\r\n');
      const [m = '', p = ''] = (lines[0] ?? '').split(' ');
      const h = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) h.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      seen[m] = (seen[m] ?? 0) + 1;
      const off = h.get('upload-offset');
      const len = h.get('content-length');
      req = {
        method: m,
        path: p,
        uploadOffset: off === undefined ? null : Number(off),
        length: len === undefined ? -1 : Number(len),
      };
      bodyIndex = 0;
      // With chunked encoding the length is unknown up front: any request of the method
      // may be the one; `nth` counts those whose body turns out long enough.
      target = flipped === null && m === method;
      if (/chunked/i.test(h.get('transfer-encoding') ?? '')) {
        state = 'size';
      } else if (req.length > 0) {
        state = 'fixed';
        remaining = req.length;
      } else {
        endRequest();
      }
    };
    const endRequest = () => {
      if (target && flipped === null && bodyIndex > o.at) candidates++;
      state = 'head';
      target = false;
    };
    /** Body bytes buf[from, to) pass; flip ours if it is in range. */
    const body = (buf: Buffer, from: number, to: number) => {
      if (target && flipped === null && candidates === (o.nth ?? 0)) {
        const i = o.at - bodyIndex;
        if (i >= 0 && i < to - from) {
          const original = buf[from + i]!;
          buf[from + i] = original ^ 0xff;
          flipped = { ...req, at: o.at, original };
        }
      }
      bodyIndex += to - from;
    };

    client.on('data', (d: Buffer) => {
      const buf = Buffer.from(d); // our own copy, changed in place
      let i = 0;
      while (i < buf.length) {
        if (state === 'head' || state === 'size' || state === 'crlf' || state === 'trailer') {
          const nl = buf.indexOf(10, i);
          const end = nl < 0 ? buf.length : nl + 1;
          line += buf.toString('latin1', i, end);
          i = end;
          if (nl < 0) break;
          if (state === 'head') {
            if (line.endsWith('\r\n\r\n')) {
              const head = line;
              line = '';
              startRequest(head.slice(0, -4));
            }
            continue;
          }
          const l = line.trimEnd();
          line = '';
          if (state === 'crlf') state = 'size';
          else if (state === 'trailer') {
            if (l === '') endRequest();
          } else {
            const size = Number.parseInt(l.split(';')[0]!, 16);
            if (size === 0) state = 'trailer';
            else {
              state = 'data';
              remaining = size;
            }
          }
          continue;
        }
        // 'fixed' or 'data'
        const n = Math.min(remaining, buf.length - i);
        body(buf, i, i + n);
        i += n;
        remaining -= n;
        if (remaining === 0) {
          if (state === 'data') state = 'crlf';
          else endRequest();
        }
      }
      if (!upstream.write(buf)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    get flipped() {
      return flipped;
    },
    seen,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
