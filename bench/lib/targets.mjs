// The targets for our server, each computed from a run's summary: the figure measured,
// whether it is met (null when the run did not measure it), and notes. Issue 5's targets
// first, then issue 25's.
import { cell, fx, get, shortReason, stats } from './stats.mjs';

/** Per rep, case c of workload wl over case refC of workload refWl: median (min–max). */
function ratioBetween(summary, wl, c, refWl, refC) {
  const x = get(summary, wl, c);
  const ref = get(summary, refWl, refC);
  if (!x?.available || !ref?.available || !x.tpByRep || !ref.tpByRep) return null;
  return stats(
    Object.entries(x.tpByRep).map(([rep, v]) => (ref.tpByRep[rep] ? v / ref.tpByRep[rep] : null)),
  );
}

/** Each target with the measured figures and whether it is met. */
export function targets(summary, workloads = []) {
  const t = [];
  const add = (name, measured, ok, detail = '') => t.push({ name, measured, ok, detail });
  issue5Targets(summary, add);
  issue25Targets(summary, add, workloads);
  return t;
}

function issue5Targets(summary, add) {
  const ratio = (wl, c) => get(summary, wl, c)?.ratioToA?.med;
  const r1 = ratio('one-patch', 'C');
  add(
    'one PATCH: C ≥ 1.0 × A',
    r1 === undefined ? null : `${fx(r1, 2)} × A`,
    r1 === undefined ? null : r1 >= 1.0,
    `B: ${fx(ratio('one-patch', 'B'), 2)} × A; C with Content-MD5 (our default): ${fx(ratio('one-patch', 'Cmd5'), 2)} × A`,
  );
  const r2 = ratio('patch-8m', 'C');
  const serial = ratio('patch-8m', 'A1');
  add(
    '8 MiB PATCHes: C ≥ 0.7 × A',
    r2 === undefined ? null : `${fx(r2, 2)} × A`,
    r2 === undefined ? null : r2 >= 0.7,
    [
      `B: ${fx(ratio('patch-8m', 'B'), 2)} × A`,
      serial === undefined
        ? null
        : `one 8 MiB part at a time straight to S3 (A1): ${fx(serial, 2)} × A`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  const p4 = get(summary, 'one-patch', 'Dp4');
  const d1 = ratio('one-patch', 'D');
  add(
    'parallel 4, our client: D ≥ 1.0 × A',
    p4?.available && p4.ratioToA ? `${fx(p4.ratioToA.med, 2)} × A` : 'not available',
    p4?.available && p4.ratioToA ? p4.ratioToA.med >= 1.0 : null,
    [
      p4?.available ? null : 'Dp4 was not run (filtered run, or a client without --parallel)',
      `D one stream: ${fx(d1, 2)} × A`,
      ratio('one-patch', 'Dp4s') === undefined
        ? null
        : `parallel 4 + sha256: ${fx(ratio('one-patch', 'Dp4s'), 2)} × A`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  const big = get(summary, 'one-patch', 'C')?.serverPeakRssMiB?.med;
  const mid = get(summary, 'one-patch-mid', 'C')?.serverPeakRssMiB?.med;
  add(
    'server peak RSS ≤ 100 MiB, one big upload (C)',
    big === undefined ? null : `${fx(big, 0)} MiB`,
    big === undefined ? null : big <= 100,
    `B: ${fx(get(summary, 'one-patch', 'B')?.serverPeakRssMiB?.med, 0)} MiB`,
  );
  add(
    'server peak RSS flat as the file grows (C, ≤ 10 % growth)',
    big === undefined || mid === undefined ? null : `${fx(mid, 0)} → ${fx(big, 0)} MiB`,
    big === undefined || mid === undefined ? null : big <= mid * 1.1,
  );
  for (const wl of ['one-patch', 'patch-8m']) {
    const ours = get(summary, wl, 'C')?.serverCpuSecPerGiB?.med;
    const peer = get(summary, wl, 'B')?.serverCpuSecPerGiB?.med;
    const md5 = get(summary, wl, 'Cmd5')?.serverCpuSecPerGiB?.med;
    add(
      `server CPU/GiB ≤ ½ peer's (${wl}, C vs B)`,
      ours === undefined || peer === undefined
        ? null
        : `${fx(ours, 2)} vs ${fx(peer, 2)} s/GiB (${fx(ours / peer, 2)} ×)`,
      ours === undefined || peer === undefined ? null : ours <= peer / 2,
      md5 === undefined || peer === undefined
        ? ''
        : `with Content-MD5: ${fx(md5, 2)} s/GiB (${fx(md5 / peer, 2)} ×)`,
    );
  }
  const sc = get(summary, 'small', 'C')?.throughput?.med;
  const sb = get(summary, 'small', 'B')?.throughput?.med;
  add(
    'small files: C ≥ 1.5 × B files/s',
    sc === undefined || sb === undefined
      ? null
      : `${fx(sc)} vs ${fx(sb)} files/s (${fx(sc / sb, 2)} ×)`,
    sc === undefined || sb === undefined ? null : sc >= 1.5 * sb,
    `D: ${fx(get(summary, 'small', 'D')?.throughput?.med)} files/s`,
  );
}

/** Issue 25: small files, many at once, checksums on, the default mode, and scale. */
function issue25Targets(summary, add, workloads) {
  const title = (id, fallback) => workloads.find((w) => w.id === id)?.title ?? fallback;
  const vsA = (wl, c) => {
    const s = get(summary, wl, c);
    return s?.available ? s.ratioToA : null;
  };
  // A ratio target: the median over the reps must reach `min`; the cell gives min–max.
  const ratioTarget = (name, s, min, refName, detail) =>
    add(name, s ? `${cell(s, 2)} × ${refName}` : null, s ? s.med >= min : null, detail);
  const perUpload = (wl, c) => get(summary, wl, c)?.s3RequestsPerUpload?.med;
  const cpu = (wl, c) => get(summary, wl, c)?.serverCpuSecPerGiB?.med;

  const small = title('small', 'small files');
  ratioTarget(
    `${small}: C ≥ 0.45 × A`,
    vsA('small', 'C'),
    0.45,
    'A',
    `B: ${fx(vsA('small', 'B')?.med, 2)} × A; S3 requests per upload: A ${fx(perUpload('small', 'A'), 1)}, C ${fx(perUpload('small', 'C'), 1)}`,
  );
  ratioTarget(
    `${small}: D ≥ 0.8 × A`,
    vsA('small', 'D'),
    0.8,
    'A',
    `S3 requests per upload: D ${fx(perUpload('small', 'D'), 1)}`,
  );
  ratioTarget(
    `${title('many', 'many at once')}: C ≥ 0.95 × A`,
    vsA('many', 'C'),
    0.95,
    'A',
    `D: ${fx(vsA('many', 'D')?.med, 2)} × A; server peak RSS C: ${fx(get(summary, 'many', 'C')?.serverPeakRssMiB?.med, 0)} MiB`,
  );
  ratioTarget(
    'parallel 4 + sha256: Dp4s ≥ 0.8 × Dp4',
    ratioBetween(summary, 'one-patch', 'Dp4s', 'one-patch', 'Dp4'),
    0.8,
    'Dp4',
    `Dp4s ${fx(vsA('one-patch', 'Dp4s')?.med, 2)} × A, Dp4 ${fx(vsA('one-patch', 'Dp4')?.med, 2)} × A; server CPU s/GiB: Dp4s ${fx(cpu('one-patch', 'Dp4s'), 2)}, Dp4 ${fx(cpu('one-patch', 'Dp4'), 2)}`,
  );
  ratioTarget(
    `${title('one-patch', 'one PATCH')}, C + Content-MD5 (our default) ≥ 0.95 × A`,
    vsA('one-patch', 'Cmd5'),
    0.95,
    'A',
    `C without: ${fx(vsA('one-patch', 'C')?.med, 2)} × A; server CPU s/GiB: Cmd5 ${fx(cpu('one-patch', 'Cmd5'), 2)}, C ${fx(cpu('one-patch', 'C'), 2)}`,
  );
  ratioTarget(
    `${title('patch-8m', '8 MiB PATCHes')}: C ≥ 0.95 × A1`,
    ratioBetween(summary, 'patch-8m', 'C', 'patch-8m', 'A1'),
    0.95,
    'A1',
    `A1 (one 8 MiB part at a time straight to S3): ${fx(vsA('patch-8m', 'A1')?.med, 2)} × A; D: ${fx(ratioBetween(summary, 'patch-8m', 'D', 'patch-8m', 'A1')?.med, 2)} × A1`,
  );
  scaleTargets(summary, add);
}

/** Scale: C and D each, with A and B (or why they failed) alongside. */
function scaleTargets(summary, add) {
  const s = (c) => get(summary, 'scale', c);
  if (!['C', 'D'].some((c) => s(c))) return;
  const failedRun = (x) => !x?.available && x?.failed?.length > 0;
  const failedAfter = (x) =>
    x.failedAfterSec ? `run failed after ${fx(x.failedAfterSec.med, 0)} s` : 'run failed';
  // A's and B's figure (`show` of their summary row), or why they have none.
  const others = (show, cases = ['A', 'B']) =>
    cases
      .map((c) => s(c))
      .filter(Boolean)
      .map((x) =>
        x.available
          ? `${x.case}: ${show(x)}`
          : `${x.case}: ${x.failed.length ? `failed (${shortReason(x.failed[0])})` : 'not run'}`,
      )
      .join('; ');
  for (const c of ['C', 'D']) {
    const x = s(c);
    const n = x?.files ?? 'all';
    add(
      `scale: all ${n} uploads finish exact (${c})`,
      failedRun(x)
        ? `${failedAfter(x)}: ${shortReason(x.failed[0])}`
        : x?.available
          ? `${x.sizesVerified} of ${n} sizes right, ${x.sha256Verified} SHA-256 right`
          : null,
      failedRun(x) ? false : x?.available ? x.sizesVerified === x.files : null,
      c === 'C' ? others(() => 'finished') : '',
    );
  }
  for (const c of ['C', 'D']) {
    const x = s(c);
    const rss = x?.available ? x.serverPeakRssMiB?.med : undefined;
    const byThen = x?.serverPeakRssAtFailureMiB?.med;
    add(
      `scale: server peak RSS ≤ 150 MiB (${c})`,
      failedRun(x)
        ? `${failedAfter(x)}${byThen === undefined ? '' : ` (${fx(byThen, 0)} MiB by then)`}`
        : rss === undefined
          ? null
          : `${fx(rss, 0)} MiB`,
      failedRun(x) ? false : rss === undefined ? null : rss <= 150,
      c === 'C' ? others((x) => `${fx(x.serverPeakRssMiB?.med, 0)} MiB`, ['B']) : '',
    );
  }
  for (const c of ['C', 'D']) {
    const x = s(c);
    const r = x?.available ? x.slowestOverFastest?.med : undefined;
    add(
      `scale: slowest upload ≤ 3 × fastest (${c})`,
      failedRun(x)
        ? failedAfter(x)
        : r === undefined
          ? null
          : `${fx(r, 2)} × (${fx(x.slowestSec.med, 1)} s vs ${fx(x.fastestSec.med, 1)} s)`,
      failedRun(x) ? false : r === undefined ? null : r <= 3,
      c === 'C' ? others((x) => `${fx(x.slowestOverFastest?.med, 2)} ×`) : '',
    );
  }
}
