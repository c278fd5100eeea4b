// Turns run records into medians (min–max), ratios to A, the targets, a markdown report,
// a JSON file and a PNG chart (hand-written SVG rendered by rsvg-convert).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { cell, fx, get, shortReason, stats } from './stats.mjs';
import { targets } from './targets.mjs';

const MiB = 1024 * 1024;
const START = '<!-- bench:results:start (written by pnpm bench; edits inside are overwritten) -->';
const END = '<!-- bench:results:end -->';

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
          files: all[0]?.files,
          failedAfterSec: stats(all.map((r) => r.failedAfterSec)),
          serverPeakRssAtFailureMiB: stats(
            all.map((r) => (r.server?.peakRssBytes ? r.server.peakRssBytes / MiB : null)),
          ),
        });
        continue;
      }
      out.push({
        workload: wl.id,
        case: c,
        available: true,
        unit: wl.unit ?? 'MiB/s',
        throughput: stats(rs.map(tpOf)),
        // Per rep, for ratios between two cases of the same rep (targets.mjs).
        tpByRep: Object.fromEntries(rs.map((r) => [r.rep, tpOf(r)])),
        mibPerSec: stats(rs.map((r) => r.mibPerSec)),
        ratioToA: stats(rs.map((r) => (a.has(r.rep) ? tpOf(r) / a.get(r.rep) : null))),
        serverPeakRssMiB: stats(rs.map((r) => r.server && r.server.peakRssBytes / MiB)),
        serverReadyRssMiB: stats(rs.map((r) => r.server && r.server.readyPeakRssBytes / MiB)),
        serverCpuSecPerGiB: stats(rs.map((r) => r.server?.cpuSecPerGiB)),
        clientPeakRssMiB: stats(rs.map((r) => r.client.peakRssBytes / MiB)),
        clientCpuSecPerGiB: stats(rs.map((r) => r.client.cpuSecPerGiB)),
        // Where each file's CPU goes, all processes on the machine's cores (small files).
        cpuMsPerFile: {
          server: stats(rs.map((r) => (r.server ? (1000 * r.server.cpuSec) / r.files : null))),
          client: stats(rs.map((r) => (1000 * r.client.cpuSec) / r.files)),
          s3: stats(rs.map((r) => (r.rgwCpuSec == null ? null : (1000 * r.rgwCpuSec) / r.files))),
          all: stats(
            rs.map((r) =>
              r.rgwCpuSec == null
                ? null
                : (1000 * ((r.server?.cpuSec ?? 0) + r.client.cpuSec + r.rgwCpuSec)) / r.files,
            ),
          ),
          coresBusy: stats(
            rs.map((r) =>
              r.rgwCpuSec == null
                ? null
                : ((r.server?.cpuSec ?? 0) + r.client.cpuSec + r.rgwCpuSec) / r.elapsedSec,
            ),
          ),
        },
        otherLoadCores: stats(rs.map((r) => r.otherLoadCores)),
        s3RequestsPerUpload: stats(rs.map((r) => r.s3Requests && r.s3Requests.total / r.files)),
        retries: rs.reduce((s, r) => s + (r.retries ?? 0), 0),
        slowestOverFastest: stats(rs.map((r) => r.perUpload?.slowestOverFastest)),
        fastestSec: stats(rs.map((r) => r.perUpload?.fastestSec)),
        slowestSec: stats(rs.map((r) => r.perUpload?.slowestSec)),
        failed,
        reps: rs.length,
        files: rs[0].files,
        // Objects checked: the fewest sizes in any rep, and SHA-256s over all reps.
        sizesVerified: Math.min(...rs.map((r) => r.verified?.sizes ?? 0)),
        sha256Verified: rs.reduce((n, r) => n + (r.verified?.sha256 ?? 0), 0),
      });
    }
  }
  return out;
}

/**
 * Small files are bound by CPU on this machine: where each file's CPU time goes, in every
 * process (S3: the RGW, OSD and monitor together), and how many cores were busy.
 */
function cpuPerFileTable(wl, summary, cases) {
  const L = [
    'CPU per file, ms (S3: RGW, OSD and monitor), and cores busy in all of them together:',
    '',
    '| case | server | client | S3 | all | cores busy |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of wl.cases) {
    const s = get(summary, wl.id, c);
    if (!s?.available || !s.cpuMsPerFile) continue;
    const m = s.cpuMsPerFile;
    const ms = (x) => (x ? cell(x, 1) : '–');
    L.push(
      `| ${cases[c].label} | ${ms(m.server)} | ${ms(m.client)} | ${ms(m.s3)} | ${ms(m.all)} | ${m.coresBusy ? cell(m.coresBusy, 2) : '–'} |`,
    );
  }
  L.push('');
  return L;
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
      'on the first rep (of the many concurrent uploads and of the scale run, 5 objects).',
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
    const wlReps = new Set(records.filter((r) => r.workload === wl.id).map((r) => r.rep)).size;
    if (wl.firstRepOnly && wlReps < meta.sizes.reps) {
      L.push(
        'The longest workload: a run of every workload has it in rep 0 only, so one figure per case and no min–max.',
      );
      L.push('');
    }
    if (wl.perUpload) {
      L.push(
        "Fastest / slowest upload: one upload's time from its first request to its answer. " +
          'A case that could not finish is shown as failed, with its reason.',
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
        const why = `failed${s.failedAfterSec ? ` after ${fx(s.failedAfterSec.med, 0)} s` : ''}${rss ? ` (server peak RSS by then ${fx(rss.med, 0)} MiB)` : ''}: ${shortReason(s.failed[0])}`;
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
    if (unit === 'files/s') L.push('', ...cpuPerFileTable(wl, summary, cases));
  }
  L.push('');
  L.push('#### Targets for our server');
  L.push('');
  L.push('| target | measured | met | notes |');
  L.push('| --- | --- | :---: | --- |');
  for (const t of targets(summary, workloads)) {
    L.push(
      `| ${t.name} | ${t.measured ?? '–'} | ${t.ok === null ? 'n/a' : t.ok ? 'yes' : '**no**'} | ${t.detail} |`,
    );
  }
  if (chartRel) {
    L.push('');
    L.push(`![throughput, peak RSS and × A per case](${chartRel})`);
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
  Cdg: '#1f4f8a',
  Ddg: '#7cc488',
  Ddu: '#a3d9a5',
  Ddi: '#5fb86b',
};
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart({ summary, workloads, cases, title }) {
  const W = 1420;
  const labelW = 250;
  const panelW = (W - labelW - 60) / 4;
  const barH = 14;
  const gap = 6;
  // The fourth panel: × A, or for the scale workload slowest ÷ fastest upload (issue 25's
  // fairness figure); `mark` draws the reference (1 × A) or the target (3 ×) as a line.
  const panels = [
    { key: () => 'throughput', head: (wl) => `throughput (${wl.unit ?? 'MiB/s'})` },
    {
      key: () => 'serverPeakRssMiB',
      head: (wl) => `server peak RSS (MiB)${wl.perUpload ? ', target ≤ 150' : ''}`,
      mark: (wl) => (wl.perUpload ? 150 : undefined),
    },
    { key: () => 'clientPeakRssMiB', head: () => 'client peak RSS (MiB)' },
    {
      key: (wl) => (wl.perUpload ? 'slowestOverFastest' : 'ratioToA'),
      head: (wl) => (wl.perUpload ? 'slowest ÷ fastest upload (target ≤ 3)' : '× A (same rep)'),
      mark: (wl) => (wl.perUpload ? 3 : 1),
      digits: 2,
      skipEmpty: true,
    },
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
      const key = p.key(wl);
      // A workload without A (instant) has no × A: leave that panel out.
      if (p.skipEmpty && !rows.some((r) => r.s?.available && r.s[key])) return;
      const x0 = labelW + pi * (panelW + 20);
      parts.push(
        `<text x="${x0}" y="${y + 2}" font-size="11" fill="#555">${esc(p.head(wl))}</text>`,
      );
      const mark = p.mark?.(wl);
      const max = Math.max(1, mark ?? 0, ...rows.map((r) => r.s?.[key]?.max ?? 0)) * 1.18;
      if (mark !== undefined) {
        const mx = (x0 + ((panelW - 10) * mark) / max).toFixed(1);
        const y1 = y + 6;
        const y2 = y + 8 + rows.length * (barH + gap) - gap + 2;
        parts.push(
          `<line x1="${mx}" y1="${y1}" x2="${mx}" y2="${y2}" stroke="#c0392b" stroke-width="1" stroke-dasharray="3,2"/>`,
        );
      }
      rows.forEach((r, i) => {
        const by = y + 8 + i * (barH + gap);
        const st = r.s?.available ? r.s[key] : null;
        if (!st) {
          const byThen = key === 'serverPeakRssMiB' && r.s?.serverPeakRssAtFailureMiB;
          const text = r.s?.available
            ? '–'
            : r.s?.failed?.length
              ? `failed${byThen ? ` (${fx(byThen.med, 0)} MiB by then)` : ''}`
              : 'n/a';
          parts.push(
            `<text x="${x0 + 4}" y="${by + 11}" font-size="10" fill="#999">${text}</text>`,
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
          `<text x="${tx.toFixed(1)}" y="${by + 11}" font-size="10">${fx(st.med, p.digits ?? (st.med < 10 ? 1 : 0))}</text>`,
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
    `${JSON.stringify({ ...meta, summary, targets: targets(summary, workloads), workloads, records }, null, 2)}\n`,
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
