// Node request/response <-> Fetch API Request/Response for @tus/server's handleWeb.
//
// Why not @tus/server's own handle(): it converts the body with Readable.toWeb, whose
// default strategy in Node 20 counts chunks, not bytes (16,384 chunks of 64 KiB may queue),
// so a client faster than S3 fills the server's memory with up to a whole PATCH. The body
// stream here holds at most BODY_HIGH_WATER_MARK bytes and pauses the socket beyond it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';

const BODY_HIGH_WATER_MARK = 1024 * 1024;

export function webBodyFrom(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.pause();
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          done = true;
          controller.close();
        });
        const fail = (err?: Error) => {
          if (done) return;
          done = true;
          controller.error(err ?? new Error('client closed the connection mid-body'));
        };
        req.once('error', fail);
        req.once('close', () => fail());
      },
      pull() {
        req.resume();
      },
      cancel() {
        // The handler stopped reading (an error answer): drain so the response can go out.
        done = true;
        req.resume();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_HIGH_WATER_MARK }),
  );
}

export function toWebRequest(
  req: IncomingMessage,
  url: string,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const method = req.method ?? 'GET';
  const hasBody = body !== null && method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (body as BodyInit) : null,
    // Required by fetch for a streamed request body.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
}

export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  // A client cut off (or cut at a shutdown's deadline) gets no answer; piping into its
  // destroyed response would wait for a drain that never comes.
  if (res.destroyed) return;
  res.statusCode = response.status;
  for (const [key, value] of response.headers) res.setHeader(key, value);
  if (!response.body) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    Readable.fromWeb(response.body as unknown as NodeWebReadableStream)
      .on('error', reject)
      .pipe(res)
      .on('finish', resolve)
      .on('close', resolve);
  });
}
