#!/usr/bin/env node
// zigloop benchmark runner.
//
//   node bench/run.mjs                 run every suite in bench/suites/, write bench/RESULTS.md, results.json and results.svg
//   node bench/run.mjs core            run only the suites named (or whose file is named) "core"
//   node bench/run.mjs --quick core    fewer rounds, a smoke test; writes nothing unless --write
//   node bench/run.mjs --list          list the suites
//   node bench/run.mjs --out=DIR ...   write RESULTS.md, results.json and results.svg into DIR instead
//
// A suite is a module in bench/suites/ exporting
//   { name: string, title: string, issue: string|number,
//     run(ctx): Promise<Row[] | { rows: Row[], notes?: string[], extra?: object }> }
// where a Row is
//   { benchmark, zigloop, peer, peerName, unit, ratio, ratioLabel, goal, met,
//     ratioRange?, ratioText?, zigloopText?, peerText?, note?,
//     goalRatio?, goalValue?, goalValueOf?, goalUnit?, goalDirection?, headline? }
// - zigloop / peer: numbers in `unit` (peer and peerName null when there is no peer);
// - ratio: how many times *better* zigloop is than the peer in the sense of
//   `ratioLabel` ("faster", "less memory", "fewer GCs", ...): > 1 means zigloop is
//   better. It is shown as "2.1x faster", or "1.3x slower" when below 1. null: no ratio;
// - ratioRange: [min, max] of the ratio over the measurement rounds (its spread);
// - goal: the target as text ("0", "< 32 KiB") or null; met: true/false, or null without a goal.
// - for the chart (bench/results.svg, bench/lib/report_svg.mjs), a goal in numbers:
//   goalRatio: the ratio zigloop must reach (met = ratio >= goalRatio); or goalValue (the
//   limit), goalValueOf (the value compared with it), goalUnit and goalDirection ("max":
//   the value must stay under the limit, "min": over it). Rows without them are not charted.
// - headline: a rank (1, 2, 3, ...) that also lists the row in the report's Headline
//   section, lowest rank first: 1 for what a user sees on a real clock (latency with the
//   host's wake-up), higher for rows without a peer or a host. Its name must say the
//   profile, the clock and the case.
// - extra: suite data kept in results.json for the report (the scaling suite's latency
//   histogram, charted in results.svg).
// ctx is { quick, progress(message) }. Suites import their tools from bench/lib/.
//
// Results of suites that were not run are kept from bench/results.json, so running
// one suite updates only its own section of RESULTS.md.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatNumber, machineInfo } from "./lib/harness.mjs";
import { renderSvg } from "./lib/report_svg.mjs";

const suitesDir = fileURLToPath(new URL("suites/", import.meta.url));
const outFlag = process.argv.find((a) => a.startsWith("--out="));
const outDir = outFlag
  ? pathToFileURL(`${resolve(outFlag.slice("--out=".length))}/`)
  : new URL("./", import.meta.url);
const resultsJson = fileURLToPath(new URL("results.json", outDir));
const resultsMd = fileURLToPath(new URL("RESULTS.md", outDir));
const resultsSvg = fileURLToPath(new URL("results.svg", outDir));
mkdirSync(fileURLToPath(outDir), { recursive: true }); // --out=DIR may not exist yet

// GC counting and fair memory readings need `gc()`: re-run ourselves with --expose-gc.
if (typeof globalThis.gc !== "function") {
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: {
        ...process.env,
        ZIGLOOP_BENCH_COMMAND: process.env.ZIGLOOP_BENCH_COMMAND ?? invocation(),
      },
    },
  );
  process.exit(child.status ?? 1);
}

function invocation() {
  const args = process.argv.slice(2).join(" ");
  if (process.env.npm_lifecycle_event)
    return `npm run ${process.env.npm_lifecycle_event}${args ? ` -- ${args}` : ""}`;
  return `node ${relative(process.cwd(), fileURLToPath(import.meta.url))}${args ? ` ${args}` : ""}`;
}

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith("--") && !a.startsWith("--out=")));
const wanted = argv.filter((a) => !a.startsWith("--"));
const known = new Set(["--quick", "--write", "--list", "--help", "--out=DIR"]);
for (const flag of flags) {
  if (!known.has(flag)) {
    console.error(`Unknown option ${flag}. Options: ${[...known].join(", ")}.`);
    process.exit(2);
  }
}
if (flags.has("--help")) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 9)
      .map((l) => l.replace(/^\/\/ ?/, ""))
      .join("\n"),
  );
  process.exit(0);
}
const quick = flags.has("--quick");
const write = !quick || flags.has("--write") || outFlag !== undefined;

async function loadSuites() {
  const files = readdirSync(suitesDir)
    .filter((f) => f.endsWith(".mjs"))
    .sort();
  const suites = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(suitesDir + file).href);
    const suite = mod.default ?? mod;
    for (const key of ["name", "title", "issue", "run"]) {
      if (suite[key] === undefined)
        throw new TypeError(
          `bench/suites/${file} does not export \`${key}\` (see bench/run.mjs for the suite contract).`,
        );
    }
    suites.push({ ...suite, file: basename(file, ".mjs") });
  }
  return suites;
}

function validateRow(suite, row, index) {
  const where = `suite ${suite.name}, row ${index} (${row?.benchmark})`;
  if (typeof row?.benchmark !== "string")
    throw new TypeError(`${where}: benchmark must be a string`);
  if (typeof row.unit !== "string") throw new TypeError(`${where}: unit must be a string`);
  if (row.ratio !== null && !(typeof row.ratio === "number" && row.ratio > 0))
    throw new TypeError(`${where}: ratio must be a positive number or null`);
  if (row.ratio !== null && typeof row.ratioLabel !== "string")
    throw new TypeError(`${where}: ratioLabel must say what a ratio > 1 means`);
  if (row.met !== null && typeof row.met !== "boolean")
    throw new TypeError(`${where}: met must be true, false or null`);
  if (row.headline !== undefined && !(Number.isInteger(row.headline) && row.headline > 0))
    throw new TypeError(`${where}: headline must be a positive integer rank or absent`);
}

// ---- rendering ------------------------------------------------------------------------

const OPPOSITE = {
  faster: "slower",
  "less memory": "more memory",
  "fewer GCs": "more GCs",
  smaller: "larger",
  flatter: "steeper",
};

function formatRatio(r) {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function ratioText(row) {
  if (row.ratioText) return row.ratioText;
  if (row.ratio === null || row.ratio === undefined) return "—";
  const better = row.ratio >= 1;
  const show = (r) => formatRatio(better ? r : 1 / r);
  const label = better ? row.ratioLabel : (OPPOSITE[row.ratioLabel] ?? `worse (${row.ratioLabel})`);
  let text = `**${show(row.ratio)}x** ${label}`;
  if (row.ratioRange) {
    const [lo, hi] = better ? row.ratioRange : [row.ratioRange[1], row.ratioRange[0]];
    text += ` (${show(lo)}–${show(hi)})`;
  }
  return text;
}

function valueText(value, text, unit) {
  if (text) return text;
  if (value === null || value === undefined) return "—";
  return `${formatNumber(value)} ${unit}`;
}

function escapeCell(text) {
  return String(text).replaceAll("|", "\\|").replaceAll("\n", " ");
}

function renderTable(rows) {
  const lines = [
    "| benchmark | zigloop | peer (name) | ratio | goal | met |",
    "|---|---:|---|---|---|:---:|",
  ];
  for (const row of rows) {
    const peer = row.peerName
      ? `${valueText(row.peer, row.peerText, row.unit)} (${row.peerName})`
      : "—";
    const met = row.met === null ? "—" : row.met ? "yes" : "**no**";
    const cells = [
      row.benchmark,
      valueText(row.zigloop, row.zigloopText, row.unit),
      peer,
      ratioText(row),
      row.goal ?? "—",
      met,
    ];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n");
}

function describeMachine(m) {
  return [
    `| Machine | ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os} |`,
    `| Runtime | Node ${m.node} (V8 ${m.v8}), flags \`${m.nodeFlags || "(none)"}\` |`,
    `| Libraries | mitata ${m.mitata ?? "?"}, tinybench ${m.tinybench ?? "?"} |`,
    `| Code | commit ${m.commit ?? "?"}, ${m.wasm ?? "wasm/zigloop.wasm"} sha256 ${m.wasmSha256}…${m.distSha256 ? `, host build ${m.dist ?? "dist/"} (*.js) sha256 ${m.distSha256}…` : ""} |`,
  ];
}

function readableDate(iso) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * The rows every suite marked `headline`, lowest rank first (then in suite and row order):
 * real-clock rows a user would quote before rows without a peer or a host.
 */
function headlineRows(suites) {
  const found = [];
  for (const suite of suites)
    suite.rows.forEach((row, index) => {
      if (row.headline !== undefined) found.push({ row, suite: suite.name, index });
    });
  found.sort(
    (a, b) =>
      a.row.headline - b.row.headline || a.suite.localeCompare(b.suite) || a.index - b.index,
  );
  return found.map(({ row, suite }) => ({ ...row, benchmark: `${row.benchmark} [${suite}]` }));
}

function renderMarkdown(results) {
  const suites = Object.values(results.suites).sort((a, b) => a.name.localeCompare(b.name));
  const latest = suites.reduce((a, s) => (a === null || s.meta.date > a.meta.date ? s : a), null);
  const out = [
    "# zigloop benchmark results",
    "",
    "Written by `bench/run.mjs` from a real run; do not edit by hand (re-run to update).",
    "How to run them and how to read the ratios: [docs/BENCHMARKS.md](../docs/BENCHMARKS.md).",
    "",
    "| | |",
    "|---|---|",
    `| Date | ${readableDate(latest.meta.date)} |`,
    `| Command | \`${latest.meta.command}\` |`,
    ...describeMachine(latest.meta.machine),
    "",
    "Ratios compare zigloop with a peer measured in the same process, in alternating rounds",
    'a fraction of a second apart, and say which way is better ("2.00x faster", "1.20x slower",',
    '"3.2x less memory"). Each is the median over the rounds; the range in parentheses is the',
    "lowest and highest round. Absolute numbers are for magnitude only: this machine is shared.",
    "",
    "Chart of every goal (met in green, not met in red) and of the task-latency histogram:",
    "[results.svg](results.svg).",
    "",
    "![zigloop benchmark goals](results.svg)",
    "",
  ];
  const headline = headlineRows(suites);
  if (headline.length > 0) {
    out.push(
      "## Headline",
      "",
      "The figures to quote, each named with its profile, clock and case (suite in brackets;",
      "the full tables follow). Real-clock rows come first: latency as an application sees it,",
      "the host's wake-up included; the manual-clock row without a peer or a host (the loop's",
      "own path) comes last and is no substitute for them.",
      "",
      renderTable(headline),
      "",
    );
  }
  for (const suite of suites) {
    out.push(`## ${suite.name}: ${suite.title} (issue ${suite.issue})`, "");
    const m = suite.meta.machine;
    const lm = latest.meta.machine;
    const sameCode =
      m.commit === lm.commit && m.wasmSha256 === lm.wasmSha256 && m.distSha256 === lm.distSha256;
    if (
      suite !== latest &&
      (suite.meta.date.slice(0, 13) !== latest.meta.date.slice(0, 13) ||
        suite.meta.command !== latest.meta.command ||
        !sameCode)
    ) {
      out.push(
        `Measured ${readableDate(suite.meta.date)} with \`${suite.meta.command}\` on ${m.cpu}, Node ${m.node}` +
          (sameCode
            ? "."
            : `, commit ${m.commit ?? "?"}, wasm sha256 ${m.wasmSha256}…, host build sha256 ${m.distSha256 ?? "?"}… (not the code of the run above).`),
        "",
      );
    }
    out.push(renderTable(suite.rows), "");
    if (suite.meta.load1m) {
      const [a, b] = suite.meta.load1m.map((v) => v.toFixed(2));
      out.push(
        `Machine load (1-minute average) at the start and end of the suite: ${a} → ${b} on ${suite.meta.machine.cores} cores.`,
        "",
      );
    }
    if (suite.notes?.length) {
      out.push("Notes:", "", ...suite.notes.map((n) => `- ${n}`), "");
    }
    out.push(`Suite time: ${formatNumber(suite.durationMs / 1000)} s.`, "");
  }
  return out.join("\n");
}

function renderConsole(suite) {
  console.log(`\n${suite.name}: ${suite.title}`);
  const rows = suite.rows.map((row) => [
    row.benchmark,
    valueText(row.zigloop, row.zigloopText, row.unit),
    row.peerName ? `${valueText(row.peer, row.peerText, row.unit)} (${row.peerName})` : "—",
    ratioText(row).replaceAll("**", ""),
    row.goal ?? "—",
    row.met === null ? "—" : row.met ? "yes" : "NO",
  ]);
  const header = ["benchmark", "zigloop", "peer", "ratio", "goal", "met"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

// ---- main -----------------------------------------------------------------------------

const suites = await loadSuites();
if (flags.has("--list")) {
  for (const s of suites)
    console.log(`${s.name.padEnd(12)} ${s.title} (issue ${s.issue}) [bench/suites/${s.file}.mjs]`);
  process.exit(0);
}
const selected =
  wanted.length === 0
    ? suites
    : suites.filter((s) => wanted.includes(s.name) || wanted.includes(s.file));
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w || s.file === w));
if (unknown.length > 0) {
  console.error(
    `No suite named ${unknown.join(", ")}. Suites: ${suites.map((s) => s.name).join(", ")}.`,
  );
  process.exit(2);
}

const machine = machineInfo();
const command = process.env.ZIGLOOP_BENCH_COMMAND ?? invocation();
console.error(
  `zigloop benchmarks: ${selected.map((s) => s.name).join(", ")}${quick ? " (quick)" : ""}`,
);
console.error(`${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; ${command}`);
if (loadavg()[0] > machine.cores * 0.5) {
  console.error(
    `Warning: the machine is busy (1-minute load ${loadavg()[0].toFixed(2)} on ${machine.cores} cores); expect wide ratio ranges.`,
  );
}

const results =
  existsSync(resultsJson) && write ? JSON.parse(readFileSync(resultsJson, "utf8")) : { suites: {} };
const runStart = performance.now();
for (const [index, suite] of selected.entries()) {
  const start = performance.now();
  const loadStart = loadavg()[0];
  const progress = (message) =>
    console.error(
      `[${suite.name} ${index + 1}/${selected.length} +${((performance.now() - start) / 1000).toFixed(1)}s, total ${((performance.now() - runStart) / 1000).toFixed(0)}s] ${message}`,
    );
  progress(`starting: ${suite.title}`);
  const output = await suite.run({ quick, progress });
  const rows = Array.isArray(output) ? output : output.rows;
  rows.forEach((row, i) => {
    validateRow(suite, row, i);
  });
  const entry = {
    name: suite.name,
    title: suite.title,
    issue: suite.issue,
    meta: {
      date: new Date().toISOString(),
      command,
      quick,
      machine,
      load1m: [loadStart, loadavg()[0]],
    },
    rows,
    notes: Array.isArray(output) ? [] : (output.notes ?? []),
    extra: Array.isArray(output) ? undefined : output.extra,
    durationMs: performance.now() - start,
  };
  results.suites[suite.name] = entry;
  renderConsole(entry);
}
const headline = headlineRows(
  Object.values(results.suites).filter((s) => selected.some((x) => x.name === s.name)),
);
if (headline.length > 0)
  renderConsole({ name: "headline", title: "real-clock rows first", rows: headline });
console.error(`\nDone in ${((performance.now() - runStart) / 1000).toFixed(1)} s.`);

if (write) {
  results.generated = new Date().toISOString();
  writeFileSync(resultsJson, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resultsMd, renderMarkdown(results));
  writeFileSync(resultsSvg, renderSvg(results));
  console.error(
    `Wrote ${relative(process.cwd(), resultsMd)}, ${relative(process.cwd(), resultsJson)} and ${relative(process.cwd(), resultsSvg)}.`,
  );
} else {
  console.error("Quick run: nothing written (add --write to write bench/RESULTS.md anyway).");
}
