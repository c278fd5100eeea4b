// A TCP proxy on 127.0.0.1 between the server and the real RGW that cuts an UploadPart's
// connection at a chosen moment: before its body leaves (as its request line arrives) or
// after RGW has every byte (when its final answer arrives, which is then lost). Everything
// else passes untouched, so S3 itself is never imitated.
import { createConnection, createServer, type Socket } from 'node:net';

export type PartCut = 'before-body' | 'after-body';

export interface S3FaultProxy {
  /** The endpoint to give the server instead of RGW's. */
  endpoint: string;
  /** Cut the next `count` UploadPart requests at `when`. */
  cutParts(when: PartCut, count?: number): void;
  /** Cuts made so far. */
  readonly cuts: number;
  /**
   * Holds the next request whose path matches `path` (nothing of it reaches RGW, no answer
   * comes) and resolves with its path once it arrived: the server is then stuck right
   * before that write.
   */
  holdNext(path: RegExp): Promise<string>;
  close(): Promise<void>;
}

const REQUEST_LINE = /(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP\/1\.1\r\n/g;

export async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const { hostname, port } = new URL(target);
  let plan: { when: PartCut; left: number } | undefined;
  let cuts = 0;
  let hold: { path: RegExp; arrived: (path: string) => void } | undefined;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client);
    sockets.add(upstream);
    // The path of the request this connection carries now (the last request line seen).
    let current = '';
    let held = false;
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    const isPart = () => /[?&]partNumber=/.test(current) && /[?&]uploadId=/.test(current);
    client.on('data', (d: Buffer) => {
      // Request lines are ASCII; a body of random bytes will not contain one by chance.
      let started = false;
      for (const m of d.toString('latin1').matchAll(REQUEST_LINE)) {
        current = m[2] ?? '';
        started = true;
      }
      if (started && hold?.path.test(current)) {
        held = true;
        hold.arrived(current);
        hold = undefined;
      }
      if (held) return;
      if (started && plan?.when === 'before-body' && plan.left > 0 && isPart()) {
        // Nothing of this request reaches RGW; the server is still writing its body.
        plan.left--;
        cuts++;
        kill();
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (
        plan &&
        plan.left > 0 &&
        isPart() &&
        d.subarray(0, 9).toString('latin1') === 'HTTP/1.1 '
      ) {
        // A "100 Continue" (the server sent Expect) is not the answer: wait for that.
        const interim = d.subarray(9, 12).toString('latin1') === '100';
        if (plan.when === 'after-body' && !interim) {
          plan.left--;
          cuts++;
          kill();
          return;
        }
      }
      client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', kill);
      s.on('close', () => {
        sockets.delete(s);
        kill();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    cutParts(when, count = 1) {
      plan = { when, left: count };
    },
    get cuts() {
      return cuts;
    },
    holdNext(path) {
      return new Promise<string>((arrived) => {
        hold = { path, arrived };
      });
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
