// Turns run records into medians (min–max), ratios to A, the targets, a markdown report,
// a JSON file and a PNG chart (hand-written SVG rendered by rsvg-convert).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const MiB = 1024 * 1024;
const START = '<!-- bench:results:start (written by pnpm bench; edits inside are overwritten) -->';
const END = '<!-- bench:results:end -->';

function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const med = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { med, min: v[0], max: v[v.length - 1], n: v.length };
}

/** Per workload and case: medians with min–max; the ratio to A is taken per rep, then summarized. */
export function summarize(records, workloads) {
  const out = [];
  for (const wl of workloads) {
    const tpOf = (r) =>
      wl.unit === 'files/s' ? r.filesPerSec : wl.unit === 's' ? r.elapsedSec : r.mibPerSec;
    const refWl = wl.ref ?? wl.id;
    const a = new Map(
      records.filter((r) => r.workload === refWl && r.case === 'A').map((r) => [r.rep, tpOf(r)]),
    );
    for (const c of wl.cases) {
      const all = records.filter((r) => r.workload === wl.id && r.case === c);
      const rs = all.filter((r) => !r.failed);
      const failed = all.filter((r) => r.failed).map((r) => r.failed);
      if (rs.length === 0) {
        out.push({
          workload: wl.id,
          case: c,
          available: false,
          failed,
          failedAfterSec: stats(all.map((r) => r.failedAfterSec)),
          serverPeakRssAtFailureMiB: stats(all.map((r) => r.server && r.server.peakRssBytes / MiB)),
        });
        continue;
      }
      out.push({
        workload: wl.id,
        case: c,
        available: true,
        unit: wl.unit ?? 'MiB/s',
        throughput: stats(rs.map(tpOf)),
        mibPerSec: stats(rs.map((r) => r.mibPerSec)),
        ratioToA: stats(rs.map((r) => (a.has(r.rep) ? tpOf(r) / a.get(r.rep) : null))),
        serverPeakRssMiB: stats(rs.map((r) => r.server && r.server.peakRssBytes / MiB)),
        serverReadyRssMiB: stats(rs.map((r) => r.server && r.server.readyPeakRssBytes / MiB)),
        serverCpuSecPerGiB: stats(rs.map((r) => r.server?.cpuSecPerGiB)),
        clientPeakRssMiB: stats(rs.map((r) => r.client.peakRssBytes / MiB)),
        clientCpuSecPerGiB: stats(rs.map((r) => r.client.cpuSecPerGiB)),
        otherLoadCores: stats(rs.map((r) => r.otherLoadCores)),
        s3RequestsPerUpload: stats(rs.map((r) => r.s3Requests && r.s3Requests.total / r.files)),
        retries: rs.reduce((s, r) => s + (r.retries ?? 0), 0),
        slowestOverFastest: stats(rs.map((r) => r.perUpload?.slowestOverFastest)),
        fastestSec: stats(rs.map((r) => r.perUpload?.fastestSec)),
        slowestSec: stats(rs.map((r) => r.perUpload?.slowestSec)),
        failed,
        reps: rs.length,
      });
    }
  }
  return out;
}

const get = (summary, wl, c) => summary.find((s) => s.workload === wl && s.case === c);
const fx = (x, d = 1) => (x === null || x === undefined ? '–' : x.toFixed(d));
const cell = (s, d = 1) => {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max
    ? `${fx(s.med, d)} (${fx(s.min, d)}–${fx(s.max, d)})`
    : fx(s.med, d);
};

/** Each target of issue 5 with the measured figures and whether it is met. */
export function targets(summary) {
  const t = [];
  const ratio = (wl, c) => get(summary, wl, c)?.ratioToA?.med;
  const add = (name, measured, ok, detail = '') => t.push({ name, measured, ok, detail });
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
      serial === undefined || r2 === undefined
        ? null
        : `one 8 MiB part at a time straight to S3 (A1): ${fx(serial, 2)} × A, so C is ${fx(r2 / serial, 2)} × that ceiling`,
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
  scaleTargets(summary, add);
  return t;
}

/** Issue 25's scale targets: C and D each, with A and B (or why they failed) alongside. */
function scaleTargets(summary, add) {
  const s = (c) => get(summary, 'scale', c);
  if (!['C', 'D'].some((c) => s(c))) return;
  const others = (key, d, unit) =>
    ['A', 'B']
      .map((c) => s(c))
      .filter(Boolean)
      .map((x) =>
        x.available
          ? `${x.case}: ${fx(x[key]?.med, d)}${unit}`
          : `${x.case}: ${x.failed.length ? `failed (${x.failed[0]})` : 'not run'}`,
      )
      .join('; ');
  for (const c of ['C', 'D']) {
    const x = s(c);
    const rss = x?.available ? x.serverPeakRssMiB?.med : undefined;
    add(
      `scale: server peak RSS ≤ 150 MiB (${c})`,
      x?.failed?.length && !x.available
        ? `run failed (${fx(x.serverPeakRssAtFailureMiB?.med, 0)} MiB by then)`
        : rss === undefined
          ? null
          : `${fx(rss, 0)} MiB`,
      rss === undefined ? (x?.failed?.length ? false : null) : rss <= 150,
      c === 'C' ? others('serverPeakRssMiB', 0, ' MiB') : '',
    );
  }
  for (const c of ['C', 'D']) {
    const x = s(c);
    const r = x?.available ? x.slowestOverFastest?.med : undefined;
    add(
      `scale: slowest upload ≤ 3 × fastest (${c})`,
      r === undefined
        ? x?.failed?.length
          ? 'run failed'
          : null
        : `${fx(r, 2)} × (${fx(x.slowestSec.med, 1)} s vs ${fx(x.fastestSec.med, 1)} s)`,
      r === undefined ? (x?.failed?.length ? false : null) : r <= 3,
      c === 'C' ? others('slowestOverFastest', 2, ' ×') : '',
    );
  }
}

function otherLoadByRep(records) {
  const reps = [...new Set(records.map((r) => r.rep))].sort((a, b) => a - b);
  return reps
    .map((rep) => {
      const rs = records.filter((r) => r.rep === rep && !r.failed);
      return fx(rs.reduce((s, r) => s + r.otherLoadCores, 0) / rs.length, 2);
    })
    .join(' / ');
}

export function markdown({ meta, summary, records, workloads, cases, chartRel }) {
  const m = meta.machine;
  const L = [];
  L.push(
    `### Results of ${meta.date.slice(0, 16).replace('T', ' ')} UTC${meta.quick ? ' (quick)' : ''}`,
  );
  L.push('');
  L.push(
    `Machine: ${m.nproc} cores (${m.cpu}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; ` +
      `load average ${m.loadavgStart.map((x) => x.toFixed(2)).join(' / ')} at start, ` +
      `${m.loadavgEnd.map((x) => x.toFixed(2)).join(' / ')} at the end. ` +
      `CPU used by other processes while the uploads ran (not this benchmark's server, client or RGW), ` +
      `mean per rep: ${otherLoadByRep(records)} cores of ${m.nproc}.`,
  );
  L.push('');
  const v = meta.versions;
  L.push(
    `Versions: ${Object.entries(v)
      .filter(([k, x]) => x && k !== 'packagesDirty')
      .map(([k, x]) =>
        k === 'commit'
          ? `commit ${x}${v.packagesDirty ? ' (with uncommitted changes in packages/)' : ''}`
          : k === 'distSha256'
            ? `our dist/ sha256 ${x}`
            : `${k} ${x}`,
      )
      .join(
        ', ',
      )}. Run: \`${meta.command}\`, ${meta.sizes.reps} rep(s), ${meta.durationSec} s in all.`,
  );
  L.push('');
  L.push(
    "Each cell: median (min–max) over the reps. × A: throughput over A's in the same rep. " +
      (meta.warmServers
        ? 'Each server (B, C, D) first took one smaller upload of the same case (warm-up; ' +
          'clients and A start cold); (at start): its peak RSS after that. Server CPU: ' +
          'user+system seconds of the server process per GiB uploaded, start-up and warm-up excluded. '
        : 'Servers start cold (`--cold`); (at start): peak RSS once listening. Server CPU: ' +
          'user+system seconds of the server process per GiB uploaded, start-up excluded. ') +
      (meta.backendWarm
        ? `Before rep 0, the new RGW took ${meta.backendWarm.rounds} × ${meta.backendWarm.bytes / MiB} MiB as A sends it, then deleted (${meta.backendWarm.seconds.toFixed(0)} s), so rep 0 does not meet a cold bluestore. `
        : '') +
      "Every object's size was checked with HeadObject after every run, and its SHA-256 (GET) " +
      'on the first rep (of the many concurrent uploads, 5 objects).',
  );
  for (const wl of workloads) {
    L.push('');
    L.push(`#### ${wl.title}`);
    L.push('');
    if (wl.ref) {
      const ref = workloads.find((w) => w.id === wl.ref);
      L.push(
        `A has no PATCHes: × A is against A's run of the same rep in "${ref?.title ?? wl.ref}".`,
      );
      L.push('');
    }
    const unit = wl.unit ?? 'MiB/s';
    // The scale workload adds each upload's duration: fastest, slowest, their ratio.
    const per = wl.perUpload;
    L.push(
      `| case | ${unit} | × A | server peak RSS MiB | (at start) | server CPU s/GiB | client peak RSS MiB | S3 requests per upload |${per ? ' fastest / slowest upload s | slowest ÷ fastest |' : ''}`,
    );
    L.push(
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${per ? ' ---: | ---: |' : ''}`,
    );
    const blank = per ? ' | | | | | | | | |' : ' | | | | | | |';
    for (const c of wl.cases) {
      const s = get(summary, wl.id, c);
      const label = cases[c].label;
      if (!s?.available) {
        if (!s?.failed?.length) {
          L.push(`| ${label} | not run${blank}`);
          continue;
        }
        const rss = s.serverPeakRssAtFailureMiB;
        const why = `failed after ${fx(s.failedAfterSec?.med, 0)} s${rss ? ` (server peak RSS by then ${fx(rss.med, 0)} MiB)` : ''}: ${s.failed[0].replace(/\|/g, '/')}`;
        L.push(`| ${label} | ${why}${blank}`);
        continue;
      }
      const perCells = per
        ? ` ${cell(s.fastestSec, 1)} / ${cell(s.slowestSec, 1)} | ${cell(s.slowestOverFastest, 2)} |`
        : '';
      L.push(
        `| ${label} | ${cell(s.throughput)} | ${c === 'A' ? '1' : cell(s.ratioToA, 2)} | ${s.serverPeakRssMiB ? cell(s.serverPeakRssMiB, 0) : '–'} | ${s.serverReadyRssMiB ? fx(s.serverReadyRssMiB.med, 0) : '–'} | ${s.serverCpuSecPerGiB ? cell(s.serverCpuSecPerGiB, 2) : '–'} | ${cell(s.clientPeakRssMiB, 0)} | ${s.s3RequestsPerUpload ? fx(s.s3RequestsPerUpload.med, 1) : '–'} |${perCells}`,
      );
    }
  }
  L.push('');
  L.push('#### Targets for our server');
  L.push('');
  L.push('| target | measured | met | notes |');
  L.push('| --- | --- | :---: | --- |');
  for (const t of targets(summary)) {
    L.push(
      `| ${t.name} | ${t.measured ?? '–'} | ${t.ok === null ? 'n/a' : t.ok ? 'yes' : '**no**'} | ${t.detail} |`,
    );
  }
  if (chartRel) {
    L.push('');
    L.push(`![throughput and peak RSS per case](${chartRel})`);
  }
  return L.join('\n');
}

// ---- chart -------------------------------------------------------------------------------

const COLORS = {
  A: '#7f7f7f',
  A1: '#b0b0b0',
  B: '#e07b39',
  C: '#3a78c2',
  Cmd5: '#8fb4e0',
  D: '#3c9a4a',
  Dp4: '#26702f',
  Dp4s: '#174d1f',
};
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart({ summary, workloads, cases, title }) {
  const W = 1180;
  const labelW = 250;
  const panelW = (W - labelW - 40) / 3;
  const barH = 14;
  const gap = 6;
  const panels = [
    { key: 'throughput', head: (wl) => `throughput (${wl.unit ?? 'MiB/s'})` },
    { key: 'serverPeakRssMiB', head: () => 'server peak RSS (MiB)' },
    { key: 'clientPeakRssMiB', head: () => 'client peak RSS (MiB)' },
  ];
  const parts = [];
  let y = 40;
  parts.push(`<text x="20" y="26" font-size="17" font-weight="bold">${esc(title)}</text>`);
  for (const wl of workloads) {
    const rows = wl.cases.map((c) => ({ c, s: get(summary, wl.id, c) }));
    parts.push(
      `<text x="20" y="${y + 18}" font-size="14" font-weight="bold">${esc(wl.title)}</text>`,
    );
    y += 28;
    panels.forEach((p, pi) => {
      const x0 = labelW + pi * (panelW + 20);
      parts.push(
        `<text x="${x0}" y="${y + 2}" font-size="11" fill="#555">${esc(p.head(wl))}</text>`,
      );
      const max = Math.max(1, ...rows.map((r) => r.s?.[p.key]?.max ?? 0)) * 1.18;
      rows.forEach((r, i) => {
        const by = y + 8 + i * (barH + gap);
        const st = r.s?.available ? r.s[p.key] : null;
        if (!st) {
          parts.push(
            `<text x="${x0 + 4}" y="${by + 11}" font-size="10" fill="#999">${r.s?.available ? '–' : r.s?.failed?.length ? 'failed' : 'n/a'}</text>`,
          );
          return;
        }
        const w = ((panelW - 10) * st.med) / max;
        parts.push(
          `<rect x="${x0}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[r.c]}"/>`,
        );
        if (st.max > st.min) {
          const a = x0 + ((panelW - 10) * st.min) / max;
          const b = x0 + ((panelW - 10) * st.max) / max;
          parts.push(
            `<line x1="${a.toFixed(1)}" y1="${by + barH / 2}" x2="${b.toFixed(1)}" y2="${by + barH / 2}" stroke="#111" stroke-width="1.2"/>`,
          );
        }
        const tx = x0 + Math.max(w, ((panelW - 10) * st.max) / max) + 4;
        parts.push(
          `<text x="${tx.toFixed(1)}" y="${by + 11}" font-size="10">${fx(st.med, st.med < 10 ? 1 : 0)}</text>`,
        );
      });
    });
    rows.forEach((r, i) => {
      const by = y + 8 + i * (barH + gap);
      parts.push(`<text x="20" y="${by + 11}" font-size="11">${esc(cases[r.c].label)}</text>`);
    });
    y += 8 + rows.length * (barH + gap) + 14;
  }
  const H = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}

function renderPng(svgFile, pngFile) {
  const r = spawnSync('rsvg-convert', ['-o', pngFile, svgFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0)
    throw new Error(`rsvg-convert failed: ${r.stderr?.toString().trim() || r.error}`);
}

// pnpm lint checks BENCHMARKS.md and Biome pads markdown table cells; the generated section
// goes through the project's own formatter so a regenerated file stays lint-clean.
function formatWithBiome(root, file) {
  const biome = path.join(root, 'node_modules/@biomejs/biome/bin/biome');
  const r = spawnSync(process.execPath, [biome, 'format', '--write', file], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0)
    throw new Error(`biome format ${file} failed: ${r.stderr?.toString().trim() || r.error}`);
}

const TEMPLATE = `# Benchmarks

${START}
${END}
`;

/** Writes the JSON, the chart and the markdown; returns the paths written. */
export async function writeReports({
  meta,
  records,
  workloads,
  cases,
  official,
  root,
  workDir,
  stem: givenStem,
}) {
  const summary = summarize(records, workloads);
  const stamp = meta.date.slice(0, 10);
  const dir = official ? path.join(root, 'bench/results') : path.join(workDir, 'results');
  mkdirSync(dir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  let stem = givenStem ?? stamp;
  if (!givenStem && existsSync(path.join(dir, `${stem}.json`)))
    stem = `${stamp}-${meta.date.slice(11, 16).replace(':', '')}`;
  const jsonFile = path.join(dir, `${stem}.json`);
  const svgFile = path.join(workDir, `${stem}.svg`);
  const pngFile = path.join(dir, `${stem}.png`);
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ ...meta, summary, targets: targets(summary), workloads, records }, null, 2)}\n`,
  );
  const caseLabels = Object.fromEntries(
    Object.entries(cases).map(([k, v]) => [k, { label: v.label, needs: v.needs }]),
  );
  writeFileSync(
    svgFile,
    svgChart({
      summary,
      workloads,
      cases: caseLabels,
      title: `tus-s3 bench ${meta.date.slice(0, 10)}${meta.quick ? ' (quick)' : ''}: medians, min–max whiskers`,
    }),
  );
  renderPng(svgFile, pngFile);
  const written = [jsonFile, pngFile];
  const md = markdown({
    meta,
    summary,
    records,
    workloads,
    cases: caseLabels,
    chartRel: path.relative(official ? root : dir, pngFile),
  });
  if (official) {
    const file = path.join(root, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : TEMPLATE;
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    const next =
      a >= 0 && b > a
        ? `${text.slice(0, a + START.length)}\n${md}\n${text.slice(b)}`
        : `${text.trimEnd()}\n\n${START}\n${md}\n${END}\n`;
    writeFileSync(file, next);
    formatWithBiome(root, file);
    written.push(file);
  } else {
    const file = path.join(dir, `${stem}.md`);
    writeFileSync(file, `${md}\n`);
    written.push(file);
  }
  process.stdout.write(`${md}\n`);
  return written;
}
