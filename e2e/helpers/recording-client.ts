// An S3 client for tests that records every request it sends (command, headers, body
// MD5 and length, start and end time) while talking to the real RGW.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3Options } from '@tus-s3/server';
import { testS3Env } from './s3.js';
import type { Backend } from './server.js';

export interface Sent {
  command: string;
  headers: Record<string, string>;
  md5OfBody?: string;
  bodyLength?: number;
  startedAt: number;
  endedAt?: number;
  input: Record<string, unknown>;
}

export function recordingClient(): { client: S3Client; log: Sent[] } {
  const env = testS3Env();
  const client = createS3Client({
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
  const log: Sent[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const req = args.request as { headers: Record<string, string>; body?: unknown };
      const body = req.body;
      const entry: Sent = {
        command: String(context.commandName),
        headers: { ...req.headers },
        startedAt: performance.now(),
        input: args.input as Record<string, unknown>,
      };
      if (body instanceof Uint8Array) {
        entry.md5OfBody = createHash('md5').update(body).digest('base64');
        entry.bodyLength = body.length;
      } else if (body instanceof Readable) {
        tapStream(body, entry);
      }
      log.push(entry);
      try {
        return await next(args);
      } finally {
        entry.endedAt = performance.now();
      }
    },
    { step: 'finalizeRequest', name: 'recordForTest', priority: 'low' },
  );
  return { client, log };
}

/**
 * Hashes a stream body as the SDK sends it. The listener joins when the SDK pipes the body
 * into its request, so it sees exactly the chunks the request gets, and the pipe (which
 * s3/parts/streamed.ts watches) stays the same.
 */
function tapStream(body: Readable, entry: Sent): void {
  const hash = createHash('md5');
  let length = 0;
  const pipe = body.pipe;
  body.pipe = function (this: Readable, ...args: Parameters<Readable['pipe']>) {
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    body.once('end', () => {
      entry.md5OfBody = hash.digest('base64');
      entry.bodyLength = length;
    });
    return pipe.apply(this, args);
  } as Readable['pipe'];
}

/** An S3 backend's server options with a recording client in place of its own. */
export function recordedS3(backend: Backend): { s3: S3Options; log: Sent[] } {
  const s3 = backend.options.s3;
  if (!s3) throw new Error('s3 backend expected');
  const { client, log } = recordingClient();
  return { s3: { ...s3, client }, log };
}
