// Small helpers shared by the report and the targets: medians with min–max, look-up of a
// summary row, number formatting.

/** Median, min, max and count of the finite numbers in `values`; null when there are none. */
export function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const med = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { med, min: v[0], max: v[v.length - 1], n: v.length };
}

/** The summary row of one (workload, case), or undefined. */
export const get = (summary, wl, c) => summary.find((s) => s.workload === wl && s.case === c);

export const fx = (x, d = 1) => (x === null || x === undefined ? '–' : x.toFixed(d));

/** "median (min–max)" when the reps differ, else the median. */
export const cell = (s, d = 1) => {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max
    ? `${fx(s.med, d)} (${fx(s.min, d)}–${fx(s.max, d)})`
    : fx(s.med, d);
};

/** A failed run's reason without the client script's path, the log file's and URLs. */
export function shortReason(msg) {
  return (
    String(msg)
      .replace(/client \/\S+ (failed: )?/, '')
      .replace(/ \(log [^)]*\)$/, '')
      // tus-js-client's message names the request's URL and more: keep method, status, text.
      .replace(
        /, originated from request \(method: (\w+), url: \S+, response code: ([^,]+), response text: (.*?)(, request id: [^)]*)?\)?$/,
        (_, method, code, text) =>
          code === 'n/a' ? ` (${method})` : ` (${method}: ${code}, ${text})`,
      )
      .replace(/\|/g, '/')
  );
}
