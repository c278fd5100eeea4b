// A TCP proxy on 127.0.0.1 for fault injection between the client and a tus server:
// counts bytes, limits bandwidth, cuts connections every N bytes, or stalls once (stops
// reading and never answers) to imitate a server that accepted a request and hung.
import { createConnection, createServer, type Socket } from 'node:net';

export interface ProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Destroy the connection carrying the data each time this many more client->server bytes passed. */
  cutEveryBytes?: number;
  /** Client->server bandwidth limit (all connections together). */
  bytesPerSecond?: number;
  /** After this many client->server bytes, stop reading that connection and never answer it (once). */
  stallAfterBytes?: number;
}

export interface FaultProxy {
  port: number;
  /** Rewrites a URL's origin to the proxy. */
  origin: string;
  /** Client->server bytes forwarded so far (headers included). */
  readonly bytesUp: number;
  readonly cuts: number;
  readonly connections: number;
  /** When the stall began (ms since epoch), once it did. */
  readonly stalledAt: number | null;
  /** Change behaviour at run time (e.g. stop cutting). */
  set(o: Partial<Omit<ProxyOptions, 'targetPort' | 'targetHost'>>): void;
  close(): Promise<void>;
}

export async function startProxy(opts: ProxyOptions): Promise<FaultProxy> {
  const o = { ...opts };
  let bytesUp = 0;
  let cuts = 0;
  let connections = 0;
  let nextCut = o.cutEveryBytes ?? Number.POSITIVE_INFINITY;
  let stalledAt: number | null = null;
  let rateStart = 0;
  let rateBytes = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    connections++;
    const upstream = createConnection({ port: o.targetPort, host: o.targetHost ?? '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    let ratePaused = false;
    let drainPaused = false;
    let stalled = false;
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    const maybeResume = () => {
      if (!ratePaused && !drainPaused && !stalled) client.resume();
    };
    client.on('data', (d: Buffer) => {
      if (stalled) return;
      if (
        o.stallAfterBytes !== undefined &&
        stalledAt === null &&
        bytesUp + d.length >= o.stallAfterBytes
      ) {
        // Stop reading (the client's send buffer fills up) and never answer.
        stalled = true;
        stalledAt = Date.now();
        client.pause();
        return;
      }
      bytesUp += d.length;
      if (bytesUp >= nextCut) {
        cuts++;
        while (nextCut <= bytesUp) nextCut += o.cutEveryBytes ?? Number.POSITIVE_INFINITY;
        // Forward part of it so the server sees a truncated body, then cut.
        upstream.write(d.subarray(0, Math.floor(d.length / 2)), () => kill());
        return;
      }
      if (!upstream.write(d)) {
        drainPaused = true;
        client.pause();
      }
      if (o.bytesPerSecond) {
        if (rateStart === 0) rateStart = Date.now();
        rateBytes += d.length;
        const due = rateStart + (rateBytes / o.bytesPerSecond) * 1000;
        const wait = due - Date.now();
        if (wait > 5) {
          ratePaused = true;
          client.pause();
          setTimeout(() => {
            ratePaused = false;
            maybeResume();
          }, wait);
        }
      }
    });
    upstream.on('drain', () => {
      drainPaused = false;
      maybeResume();
    });
    upstream.on('data', (d: Buffer) => {
      if (!stalled) client.write(d);
    });
    client.on('end', () => {
      if (!stalled) upstream.end();
    });
    upstream.on('end', () => {
      if (!stalled) client.end();
    });
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => {
      sockets.delete(client);
      if (!stalled) upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!stalled) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    get bytesUp() {
      return bytesUp;
    },
    get cuts() {
      return cuts;
    },
    get connections() {
      return connections;
    },
    get stalledAt() {
      return stalledAt;
    },
    set(n) {
      Object.assign(o, n);
      rateStart = 0;
      rateBytes = 0;
      if (n.cutEveryBytes !== undefined) nextCut = bytesUp + n.cutEveryBytes;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
