// bench/results.svg: a hand-written SVG (no dependencies) drawn from bench/results.json.
//
// Panel 1, "ratios against their goals": every row whose goal is a ratio (`goalRatio`):
//   a bar from 1x to the measured ratio on a log axis (right of the 1x line: zigloop is
//   better; left: worse), a whisker for the lowest..highest round, and a black tick at the
//   goal. Green when the goal is met, red when not.
// Panel 2, "absolute goals": rows whose goal is a limit on a value (`goalValue`,
//   `goalValueOf`, `goalDirection` "max" or "min"): the bar is how far the value is from
//   its limit, value/limit on a log axis with the limit at 1 (right: met).
// Panel 3: the host suite's hand-measured task latency (`extra.sampledLatency`: log-binned
//   counts of the samples, zigloop submit vs Node setImmediate), with the 600 ns goal.
// Panel 4: the task-latency histogram the loop's own metrics recorded (suite "scaling",
//   `extra.latencyHistogram`: the core's histogram read at fine percentiles), with the
//   p50/p99/p99.9 markers and the 600 ns p99 goal of issue 3.

const WIDTH = 1400;
const LABEL_W = 600;
const PLOT_X = LABEL_W + 10;
const STATUS_W = 250;
const PLOT_W = WIDTH - PLOT_X - STATUS_W;
const ROW_H = 22;
const LABEL_CHARS = 96;
const GREEN = "#2e7d32";
const RED = "#c62828";

function esc(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function truncate(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function logScale(lo, hi, x0, w) {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return (v) => x0 + ((Math.log10(Math.min(Math.max(v, lo), hi)) - a) / (b - a)) * w;
}

function decadeTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function axis(out, y0, y1, x, ticks, label) {
  for (const [v, text] of ticks) {
    const tx = x(v);
    out.push(`<line x1="${tx}" y1="${y0}" x2="${tx}" y2="${y1}" stroke="#e0e0e0"/>`);
    out.push(
      `<text x="${tx}" y="${y1 + 14}" font-size="11" text-anchor="middle" fill="#555">${esc(text)}</text>`,
    );
  }
  out.push(
    `<text x="${PLOT_X + PLOT_W / 2}" y="${y1 + 30}" font-size="12" text-anchor="middle" fill="#333">${esc(label)}</text>`,
  );
}

function rowLabel(suite, row) {
  const peer = row.peerName ? ` vs ${row.peerName}` : "";
  return `${suite}: ${row.benchmark}${peer}`;
}

function ratioPanel(out, y, rows) {
  const values = rows
    .flatMap((r) => [r.row.ratio, r.row.goalRatio, ...(r.row.ratioRange ?? [])])
    .filter((v) => v > 0);
  const lo = Math.min(0.1, ...values.map((v) => v / 1.5));
  const hi = Math.max(100, ...values.map((v) => v * 1.5));
  const x = logScale(lo, hi, PLOT_X, PLOT_W);
  out.push(
    `<text x="10" y="${y}" font-size="15" font-weight="bold">Ratios against their goals (log scale; right of 1x: zigloop better than the peer)</text>`,
  );
  y += 12;
  const top = y;
  const bottom = y + rows.length * ROW_H;
  axis(
    out,
    top,
    bottom,
    x,
    decadeTicks(lo, hi).map((v) => [v, `${fmt(v)}x`]),
    "zigloop's advantage over the peer (peer time / zigloop time, or peer bytes / zigloop bytes)",
  );
  out.push(
    `<line x1="${x(1)}" y1="${top}" x2="${x(1)}" y2="${bottom}" stroke="#333" stroke-width="1.5"/>`,
  );
  rows.forEach(({ suite, row }, i) => {
    const cy = top + i * ROW_H + ROW_H / 2;
    const colour = row.met ? GREEN : RED;
    const x1 = x(1);
    const xr = x(row.ratio);
    out.push(
      `<text x="${LABEL_W}" y="${cy + 4}" font-size="11" text-anchor="end">${esc(truncate(rowLabel(suite, row), LABEL_CHARS))}</text>`,
    );
    out.push(
      `<rect x="${Math.min(x1, xr)}" y="${cy - 7}" width="${Math.max(1, Math.abs(xr - x1))}" height="14" fill="${colour}" fill-opacity="0.75"/>`,
    );
    if (row.ratioRange) {
      const [a, b] = row.ratioRange;
      out.push(
        `<line x1="${x(a)}" y1="${cy}" x2="${x(b)}" y2="${cy}" stroke="#222" stroke-width="1"/>`,
      );
      out.push(
        `<line x1="${x(a)}" y1="${cy - 3}" x2="${x(a)}" y2="${cy + 3}" stroke="#222"/><line x1="${x(b)}" y1="${cy - 3}" x2="${x(b)}" y2="${cy + 3}" stroke="#222"/>`,
      );
    }
    const gx = x(row.goalRatio);
    out.push(
      `<line x1="${gx}" y1="${cy - 10}" x2="${gx}" y2="${cy + 10}" stroke="#000" stroke-width="3"/>`,
    );
    out.push(
      `<text x="${PLOT_X + PLOT_W + 8}" y="${cy + 4}" font-size="11" fill="${colour}">${esc(`${fmt(row.ratio)}x (goal ${fmt(row.goalRatio)}x) ${row.met ? "met" : "not met"}`)}</text>`,
    );
  });
  return bottom + 50;
}

function limitPanel(out, y, rows) {
  const attain = (row) => {
    if (row.goalValue === 0) return null;
    return row.goalDirection === "max"
      ? row.goalValue / row.goalValueOf
      : row.goalValueOf / row.goalValue;
  };
  const values = rows.map((r) => attain(r.row)).filter((v) => v !== null && v > 0);
  const lo = Math.min(0.1, ...values.map((v) => v / 1.5));
  const hi = Math.max(10, ...values.map((v) => v * 1.5));
  const x = logScale(lo, hi, PLOT_X, PLOT_W);
  out.push(
    `<text x="10" y="${y}" font-size="15" font-weight="bold">Absolute goals (log scale; the limit at 1, right of it: met)</text>`,
  );
  y += 12;
  const top = y;
  const bottom = y + rows.length * ROW_H;
  axis(
    out,
    top,
    bottom,
    x,
    decadeTicks(lo, hi).map((v) => [v, `${fmt(v)}`]),
    'limit / value (for "under" goals) or value / limit (for "over" goals)',
  );
  out.push(
    `<line x1="${x(1)}" y1="${top}" x2="${x(1)}" y2="${bottom}" stroke="#000" stroke-width="3"/>`,
  );
  rows.forEach(({ suite, row }, i) => {
    const cy = top + i * ROW_H + ROW_H / 2;
    const colour = row.met ? GREEN : RED;
    out.push(
      `<text x="${LABEL_W}" y="${cy + 4}" font-size="11" text-anchor="end">${esc(truncate(`${suite}: ${row.benchmark}`, LABEL_CHARS))}</text>`,
    );
    const a = attain(row);
    const unit = row.goalUnit ? ` ${row.goalUnit}` : "";
    const text = `${fmt(row.goalValueOf)}${unit} (goal ${row.goal ?? fmt(row.goalValue)}) ${row.met ? "met" : "not met"}`;
    if (a === null) {
      out.push(`<circle cx="${x(1)}" cy="${cy}" r="6" fill="${colour}"/>`);
    } else {
      const x1 = x(1);
      const xa = x(a);
      out.push(
        `<rect x="${Math.min(x1, xa)}" y="${cy - 7}" width="${Math.max(1, Math.abs(xa - x1))}" height="14" fill="${colour}" fill-opacity="0.75"/>`,
      );
    }
    out.push(
      `<text x="${PLOT_X + PLOT_W + 8}" y="${cy + 4}" font-size="11" fill="${colour}">${esc(truncate(text, 42))}</text>`,
    );
  });
  return bottom + 50;
}

/** Turns quantiles (p in %, latency in ms) into the share of samples per log-spaced bin. */
function histogramFromQuantiles(quantiles, edges) {
  const points = quantiles.filter((q) => q.ms > 0).map((q) => ({ p: q.p / 100, ns: q.ms * 1e6 }));
  // CDF at x: the largest p whose quantile is <= x (the quantile function is a step function).
  const cdf = (xv) => {
    let p = 0;
    for (const q of points) if (q.ns <= xv) p = q.p;
    return p;
  };
  const shares = [];
  for (let i = 0; i + 1 < edges.length; i++)
    shares.push(Math.max(0, cdf(edges[i + 1]) - cdf(edges[i])));
  return shares;
}

const LAT_X = 90;
const LAT_W = WIDTH - LAT_X - 60;

/** Bars (share of samples per bin) on a log latency axis; `series` is [{ shares, colour, label }]. */
function histogramPanel(out, y, title, edges, series, markers, axisLabel) {
  out.push(`<text x="10" y="${y}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  y += 12;
  const top = y;
  const height = 170;
  const bottom = top + height;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const x = logScale(lo, hi, LAT_X, LAT_W);
  const maxShare = Math.max(0.01, ...series.flatMap((s) => s.shares));
  const ticks = decadeTicks(lo, hi).map((v) => [
    v,
    v >= 1e6 ? `${fmt(v / 1e6)} ms` : v >= 1000 ? `${fmt(v / 1000)} µs` : `${fmt(v)} ns`,
  ]);
  for (const [v, text] of ticks) {
    out.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${bottom}" stroke="#e0e0e0"/>`);
    out.push(
      `<text x="${x(v)}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#555">${esc(text)}</text>`,
    );
  }
  out.push(
    `<text x="${LAT_X + LAT_W / 2}" y="${bottom + 30}" font-size="12" text-anchor="middle" fill="#333">${esc(axisLabel)}</text>`,
  );
  out.push(
    `<line x1="${LAT_X}" y1="${bottom}" x2="${LAT_X + LAT_W}" y2="${bottom}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${LAT_X - 6}" y="${top + 8}" font-size="11" text-anchor="end" fill="#555">${esc(`${(maxShare * 100).toFixed(0)}%`)}</text>`,
  );
  out.push(
    `<text x="${LAT_X - 6}" y="${bottom}" font-size="11" text-anchor="end" fill="#555">0%</text>`,
  );
  series.forEach((s, k) => {
    const offset = series.length > 1 ? k / series.length : 0;
    const widthShare = series.length > 1 ? 1 / series.length : 1;
    for (let i = 0; i + 1 < edges.length; i++) {
      const share = s.shares[i];
      if (!(share > 0)) continue;
      const x0 = x(edges[i]);
      const x1 = x(edges[i + 1]);
      const w = Math.max(1, (x1 - x0) * widthShare - 0.5);
      const bh = (share / maxShare) * (height - 24);
      out.push(
        `<rect x="${x0 + (x1 - x0) * offset}" y="${bottom - bh}" width="${w}" height="${bh}" fill="${s.colour}" fill-opacity="0.8"><title>${esc(`${s.label}: ${fmt(edges[i])}–${fmt(edges[i + 1])} ns: ${(share * 100).toFixed(2)}%`)}</title></rect>`,
      );
    }
    out.push(
      `<rect x="${LAT_X + LAT_W - 330}" y="${top + 4 + k * 16}" width="10" height="10" fill="${s.colour}"/>`,
    );
    out.push(
      `<text x="${LAT_X + LAT_W - 315}" y="${top + 13 + k * 16}" font-size="11">${esc(s.label)}</text>`,
    );
  });
  markers.forEach((m, k) => {
    if (!(m.ns >= lo && m.ns <= hi)) return;
    const mx = x(m.ns);
    out.push(
      `<line x1="${mx}" y1="${top}" x2="${mx}" y2="${bottom}" stroke="${m.colour}" stroke-width="2" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${mx + 3}" y="${top + 12 + 14 * k}" font-size="11" fill="${m.colour}">${esc(m.text)}</text>`,
    );
  });
  return bottom + 50;
}

function logEdges(lo, hi, bins) {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return Array.from({ length: bins + 1 }, (_, i) => 10 ** (a + ((b - a) * i) / bins));
}

/** The loop's own histogram (metrics: true), read at fine percentiles. */
function metricsLatencyPanel(out, y, h) {
  const s = h.summary;
  const positive = h.quantiles.filter((q) => q.ms > 0).map((q) => q.ms * 1e6);
  const edges = logEdges(Math.min(...positive) / 1.5, Math.max(...positive) * 1.5, 48);
  const shares = histogramFromQuantiles(h.quantiles, edges);
  const markers = [
    { ns: s.p50 * 1e6, text: `p50 ${fmt(s.p50 * 1e6)} ns`, colour: "#333" },
    { ns: s.p99 * 1e6, text: `p99 ${fmt(s.p99 * 1e6)} ns`, colour: "#333" },
    { ns: s.p999 * 1e6, text: `p99.9 ${fmt(s.p999 * 1e6)} ns`, colour: "#333" },
    { ns: 600, text: "goal: p99 < 600 ns", colour: RED },
  ];
  return histogramPanel(
    out,
    y,
    `Task latency as loop.metrics() records it: ${s.count.toLocaleString("en-US")} tasks in bursts of ${h.burst} from host tasks (metrics: { latencyGroup: 1 })`,
    edges,
    [
      {
        shares,
        colour: "#1565c0",
        label: "zigloop metrics().taskLatency (loop time has 1 µs resolution)",
      },
    ],
    markers,
    "submit → start (the core's log-linear histogram read at p0.5 … p99.99; log scale)",
  );
}

/** The host suite's hand-measured samples (performance.now(), ns resolution), zigloop vs setImmediate. */
function sampledLatencyPanel(out, y, h) {
  const z = h.zigloop;
  const n = h.native;
  const total = (counts) => counts.reduce((a, c) => a + c, 0);
  const series = [
    {
      shares: z.counts.map((c) => c / total(z.counts)),
      colour: "#1565c0",
      label: `zigloop submit (p50 ${fmt(z.p50)} ns, p99 ${fmt(z.p99)} ns)`,
    },
    {
      shares: n.counts.map((c) => c / total(n.counts)),
      colour: "#ef6c00",
      label: `Node setImmediate (p50 ${fmt(n.p50)} ns, p99 ${fmt(n.p99)} ns)`,
    },
  ];
  const markers = [{ ns: 600, text: "goal: p99 < 600 ns", colour: RED }];
  return histogramPanel(
    out,
    y,
    `Task latency, hand-measured: ${h.label}`,
    h.edges,
    series,
    markers,
    "submit → start, performance.now() before submit and at the task's start (log scale)",
  );
}

/** The SVG for `results` (the object in bench/results.json). */
export function renderSvg(results) {
  const suites = Object.values(results.suites).sort((a, b) => a.name.localeCompare(b.name));
  const ratioRows = [];
  const limitRows = [];
  for (const suite of suites) {
    for (const row of suite.rows) {
      if (row.met === null || row.met === undefined) continue;
      if (typeof row.goalRatio === "number" && typeof row.ratio === "number")
        ratioRows.push({ suite: suite.name, row });
      else if (typeof row.goalValue === "number" && typeof row.goalValueOf === "number") {
        // Rows that repeat one zigloop value for several peers are charted once.
        if (!limitRows.some((r) => r.suite === suite.name && r.row.benchmark === row.benchmark))
          limitRows.push({ suite: suite.name, row });
      }
    }
  }
  const histogram = suites.find((s) => s.extra?.latencyHistogram)?.extra.latencyHistogram;
  const sampled = suites.find((s) => s.extra?.sampledLatency)?.extra.sampledLatency;
  const body = [];
  let y = 30;
  const date = results.generated ? `${results.generated.slice(0, 16).replace("T", " ")} UTC` : "";
  body.push(
    `<text x="10" y="${y}" font-size="18" font-weight="bold">zigloop benchmarks: goals met (green) and not met (red)</text>`,
  );
  body.push(
    `<text x="10" y="${y + 18}" font-size="12" fill="#555">${esc(`From bench/results.json ${date}. Bars: median over rounds; whiskers: lowest–highest round; black tick: the goal. See bench/RESULTS.md.`)}</text>`,
  );
  y += 55;
  if (ratioRows.length) y = ratioPanel(body, y, ratioRows);
  if (limitRows.length) y = limitPanel(body, y, limitRows);
  if (sampled) y = sampledLatencyPanel(body, y, sampled);
  if (histogram) y = metricsLatencyPanel(body, y, histogram);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
