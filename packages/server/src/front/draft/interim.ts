// A 1xx on node's HTTP/1.1 response before the final one. Node has writeContinue,
// writeProcessing and writeEarlyHints but no public call for another 1xx; each of those
// writes its head with ServerResponse's _writeRaw, which queues it behind an earlier
// pipelined response, so the 104 is written the same way. HTTP/1.0 clients get none (RFC
// 9110 15.2), nor does anything after the final head started.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InterimWriter } from './internal.js';

type RawWrite = (data: string, encoding: BufferEncoding) => boolean;

export function interimWriter(
  req: IncomingMessage,
  res: ServerResponse,
): InterimWriter | undefined {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return undefined;
  const raw = (res as unknown as { _writeRaw?: RawWrite })._writeRaw;
  if (typeof raw !== 'function') return undefined;
  return (status, reason, headers) => {
    if (res.headersSent || res.destroyed) return;
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      // A field that could split the head is never written (ids and paths cannot, but
      // Location is built from the request's Host).
      if (/[\r\n]/.test(name + value)) return;
      head += `${name}: ${value}\r\n`;
    }
    raw.call(res, `${head}\r\n`, 'latin1');
  };
}
