// Counts the S3 requests a run made, from the RGW's own access log (beast lines): per
// operation, for one bucket, for requests that started inside a time window. Tells how
// many S3 round trips each upload costs a server, without a proxy in the path.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const MONTHS = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const LINE =
  /beast: \S+: \S+ - \S+ \[(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)\.(\d+) ([+-])(\d\d)(\d\d)\] "(\w+) ([^ ]+) HTTP\/[\d.]+" (\d+)/;

export function logSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file, offset) {
  const size = logSize(file);
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

function opOf(method, target) {
  const [p, q = ''] = target.split('?');
  const params = new URLSearchParams(q);
  const xid = params.get('x-id');
  if (xid) return xid;
  const onKey = p.split('/').filter(Boolean).length > 1;
  if (params.has('uploads'))
    return method === 'POST' ? 'CreateMultipartUpload' : 'ListMultipartUploads';
  if (params.has('uploadId')) {
    if (method === 'PUT') return 'UploadPart';
    if (method === 'POST') return 'CompleteMultipartUpload';
    if (method === 'DELETE') return 'AbortMultipartUpload';
    return 'ListParts';
  }
  if (params.has('tagging')) return `${method === 'GET' ? 'Get' : 'Put'}ObjectTagging`;
  if (params.has('delete')) return 'DeleteObjects';
  if (!onKey) return method === 'GET' ? 'ListObjects' : `${method} bucket`;
  return (
    { GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' }[method] ??
    method
  );
}

/** { total, byOp: { UploadPart: n, ... } } for `bucket`, requests started in [fromMs, toMs]. */
export function countRequests(file, offset, bucket, fromMs, toMs) {
  const byOp = {};
  let total = 0;
  for (const line of readFrom(file, offset).split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, d, mon, y, hh, mm, ss, ms, sign, tzh, tzm, method, target] = m;
    const tz = (sign === '-' ? -1 : 1) * (+tzh * 60 + +tzm) * 60_000;
    const t = Date.UTC(+y, MONTHS[mon], +d, +hh, +mm, +ss, +ms) - tz;
    if (t < fromMs - 5 || t > toMs + 5) continue;
    if (decodeURIComponent(target.split('?')[0]).split('/')[1] !== bucket) continue;
    const op = opOf(method, target);
    byOp[op] = (byOp[op] ?? 0) + 1;
    total++;
  }
  return { total, byOp };
}
