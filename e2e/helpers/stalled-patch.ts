// A raw PATCH that stops sending mid-body and keeps its connection open.
import net from 'node:net';

/**
 * A PATCH whose client sends `sent` of its `length` bytes and then goes silent with the
 * connection open, as a phone that lost its network does.
 */
export async function stalledPatch(
  url: string,
  offset: number,
  length: number,
  sent: Buffer,
  extra: Record<string, string> = {},
) {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `PATCH ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nTus-Resumable: 1.0.0\r\n` +
      `Content-Type: application/offset+octet-stream\r\nUpload-Offset: ${offset}\r\n` +
      `Content-Length: ${length}\r\n` +
      Object.entries(extra)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
  );
  await new Promise<void>((resolve) => socket.write(sent, () => resolve()));
  return { socket, answer: () => answer };
}
