// Loaded into a server child with `--server-node-args=--import=./bench/probes/timeline-hook.mjs`:
// records, from node:diagnostics_channel, when each request came in, when its body ended
// and its answer's head went out, and when each S3 request ended and its answer came. The
// events go to $TIMELINE_DIR/<pid>.jsonl when the process exits; `timeline.mjs` reads them.
//
// It never reads a body itself (a 'data' listener would start the stream flowing before the
// store reads it): the body's end is the request's 'end' event. Node 20 publishes
// `http.client.request.start` when the request has ended (ClientRequest#_finish), so an S3
// request is seen from the moment its last byte was handed to the socket.
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';

const events = [];
const now = () => performance.now();
const dir = process.env.TIMELINE_DIR ?? 'bench/.work/timeline';

dc.subscribe('http.server.request.start', ({ request, response }) => {
  const m = request.method;
  events.push([now(), 'in', m]);
  request.on('end', () => events.push([now(), 'bodyEnd', m]));
  const writeHead = response.writeHead;
  response.writeHead = function (...args) {
    events.push([now(), 'head', m, args[0]]);
    return writeHead.apply(this, args);
  };
});

dc.subscribe('http.client.request.start', ({ request }) => {
  // UploadPart, PutObject, GetObject, …: the SDK names the operation in the query, and a
  // part number says UploadPart.
  const q = request.path.split('?')[1] ?? '';
  const op = /partNumber=/.test(q) ? 'UploadPart' : (/x-id=([A-Za-z]+)/.exec(q)?.[1] ?? q);
  events.push([now(), 's3Sent', `${request.method} ${op}`]);
  request.on('response', () => events.push([now(), 's3Answer', `${request.method} ${op}`]));
});

function dump() {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const lines = events.map((e) => JSON.stringify(e)).join('\n');
    fs.writeFileSync(path.join(dir, `${process.pid}.jsonl`), lines);
  } catch {
    // A probe must never change how the server ends.
  }
}
// On 'exit' only: a signal listener of its own would change how the server stops.
process.on('exit', dump);
