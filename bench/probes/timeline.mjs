#!/usr/bin/env node
// Where each PATCH's time goes, from the events timeline-hook.mjs recorded in a server:
//
//   rm -rf bench/.work/timeline
//   node bench/run.mjs --no-build --workloads patch-8m --cases C,D --reps 1 \
//     --server-node-args=--import=./bench/probes/timeline-hook.mjs
//   node bench/probes/timeline.mjs bench/.work/timeline/*.jsonl
//
// Per PATCH (one UploadPart each when PATCHes are part-sized), medians and range:
//   body      request in → its body's last byte received
//   s3 lag    body's last byte → the UploadPart's last byte handed to the socket
//   s3 after  the UploadPart's last byte → S3's answer
//   answer    S3's answer → the 204's head
//   between   the 204's head → the next PATCH in (the client's turn)
import fs from 'node:fs';

const PHASES = ['body', 's3 lag', 's3 after', 'answer', 'between', 'whole'];

function patches(events) {
  const out = [];
  let cur;
  for (const [t, kind, what] of events) {
    if (kind === 'in' && what === 'PATCH') {
      if (cur) out.push(cur);
      cur = { in: t };
    } else if (!cur) {
    } else if (kind === 'bodyEnd' && what === 'PATCH') cur.bodyEnd = t;
    else if (kind === 's3Sent' && what === 'PUT UploadPart') cur.partSent ??= t;
    else if (kind === 's3Answer' && what === 'PUT UploadPart') cur.partAnswer ??= t;
    else if (kind === 'head' && what === 'PATCH') cur.head = t;
  }
  if (cur) out.push(cur);
  return out.filter((p) => p.head !== undefined && p.partAnswer !== undefined);
}

function phases(list) {
  const rows = Object.fromEntries(PHASES.map((p) => [p, []]));
  for (const [i, p] of list.entries()) {
    rows.body.push(p.bodyEnd - p.in);
    rows['s3 lag'].push(p.partSent - p.bodyEnd);
    rows['s3 after'].push(p.partAnswer - p.partSent);
    rows.answer.push(p.head - p.partAnswer);
    const next = list[i + 1];
    if (next) {
      rows.between.push(next.in - p.head);
      rows.whole.push(next.in - p.in);
    }
  }
  return rows;
}

const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const ms = (x) => x.toFixed(1).padStart(6);

for (const file of process.argv.slice(2)) {
  const events = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const list = patches(events);
  console.log(`${file}: ${list.length} PATCHes with an UploadPart`);
  if (list.length === 0) continue;
  for (const [name, v] of Object.entries(phases(list))) {
    if (v.length === 0) continue;
    const sorted = v.slice().sort((x, y) => x - y);
    const p10 = sorted[Math.floor(sorted.length * 0.1)];
    const p90 = sorted[Math.floor(sorted.length * 0.9)];
    console.log(`  ${name.padEnd(9)} median ${ms(median(v))} ms   p10 ${ms(p10)}   p90 ${ms(p90)}`);
  }
}
