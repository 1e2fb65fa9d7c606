#!/usr/bin/env node
// `npm run test:differential`: runs every fixture natively (Node 20, Node 24 LTS,
// Chromium) and on zigloop (in-process and CLI, real and virtual clock, with the
// profile of the runtime it is compared with), compares the traces, prints a table,
// and exits 1 on any difference that test/differential/known_differences.json does
// not list, on a listed difference that no longer occurs (or looks different), and on
// a fixture whose native runs disagree (Node 20 vs 24, or between repetitions).
//
// Usage: node test/differential/run.mjs [options]
//   --jobs=N        processes (and pages) at once (default 2)
//   --repeat=N      run everything N times; native traces must not vary (default 1)
//   --filter=TEXT   only fixtures whose name contains TEXT
//   --runtime=node|chromium   only that side
//   --native-only   run only the native runtimes (to check that fixtures are
//                   deterministic, e.g. with --repeat=10 on a loaded machine)
//   --verbose       also print the traces of the known differences
//   --update-known  rewrite known_differences.json from this run: keeps the cause,
//                   source and note of entries that still hold, drops fixed ones and
//                   adds new ones with cause "open" (a cause must then be written:
//                   differential.test.ts refuses an entry whose cause is not explained)
// Needs dist/ (npm run build; the npm script builds first).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureNodeLts } from "../../scripts/node_lts.mjs";
import { startChromium } from "./lib/chromium.mjs";
import { classify, formatTrace, KNOWN_PATH, loadKnown } from "./lib/compare.mjs";
import { loadFixtures } from "./lib/fixtures.mjs";
import { MODES, ROOT, runNativeNode, runZigloop } from "./lib/runners.mjs";

const { values: options } = parseArgs({
  options: {
    jobs: { type: "string", default: "2" },
    repeat: { type: "string", default: "1" },
    filter: { type: "string", default: "" },
    runtime: { type: "string" },
    verbose: { type: "boolean", default: false },
    "native-only": { type: "boolean", default: false },
    "update-known": { type: "boolean", default: false },
  },
});
const jobs = Number(options.jobs);
const repeat = Number(options.repeat);
if (
  !(Number.isInteger(jobs) && jobs >= 1 && jobs <= 16) ||
  !(Number.isInteger(repeat) && repeat >= 1 && repeat <= 20)
) {
  console.error("--jobs must be 1..16 and --repeat 1..20");
  process.exit(2);
}
if (options.runtime !== undefined && !["node", "chromium"].includes(options.runtime)) {
  console.error("--runtime must be node or chromium");
  process.exit(2);
}
if (!existsSync(join(ROOT, "dist/node.js"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(2);
}

const started = Date.now();
const fixtures = loadFixtures().filter((fixture) => fixture.name.includes(options.filter));
const known = loadKnown();
// Native runtime family → the zigloop profile compared with it.
const SIDES = [
  { runtime: "node", profile: "node", natives: ["node20", "node24"] },
  { runtime: "chromium", profile: "html", natives: ["chromium"] },
].filter((side) => options.runtime === undefined || side.runtime === options.runtime);

const node24 = SIDES.some((side) => side.runtime === "node") ? ensureNodeLts() : undefined;
let chromium;
const chromiumSession = () => (chromium ??= startChromium());

/** Every (fixture, side, target) to run; targets are native names or zigloop modes. */
const cells = [];
for (const fixture of fixtures) {
  for (const side of SIDES) {
    if (!fixture.runtimes.includes(side.profile)) continue;
    const targets = options["native-only"] ? side.natives : [...side.natives, ...MODES];
    for (const target of targets) cells.push({ fixture, side, target });
  }
}

function runCell({ fixture, side, target }) {
  switch (target) {
    case "node20":
      return runNativeNode(fixture.path, process.execPath);
    case "node24":
      return runNativeNode(fixture.path, node24);
    case "chromium":
      return chromiumSession().then((session) => session.run(fixture.name));
    default:
      return runZigloop(fixture.path, side.profile, target);
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` at once. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
      done++;
      if (done % 100 === 0)
        process.stderr.write(
          `  ${done}/${tasks.length} runs, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

const tasks = [];
for (let round = 0; round < repeat; round++)
  for (const cell of cells) tasks.push(() => runCell(cell));
let results;
try {
  results = await pool(tasks, jobs);
} finally {
  if (chromium !== undefined) await (await chromium).close();
}

// traces.get(`${fixture}|${target}|${side}`) = every repetition's trace
const traces = new Map();
results.forEach((result, index) => {
  const { fixture, side, target } = cells[index % cells.length];
  const key = `${fixture.name}|${side.runtime}|${target}`;
  if (!traces.has(key)) traces.set(key, []);
  traces.get(key).push(result.trace);
});
const tracesOf = (fixture, side, target) => traces.get(`${fixture.name}|${side.runtime}|${target}`);

const rows = [];
const failures = [];
const differences = [];
const seenKeys = new Set();
for (const fixture of fixtures) {
  for (const side of SIDES) {
    if (!fixture.runtimes.includes(side.profile)) continue;
    const nativeLines = new Set(
      side.natives.flatMap((target) => tracesOf(fixture, side, target).map(formatTrace)),
    );
    const native = tracesOf(fixture, side, side.natives[0])[0];
    const nativeBroken = native.some((line) => /^<(timeout|exit|error)/.test(line));
    let nativeCell = "ok";
    if (nativeLines.size > 1) {
      nativeCell = "VARIES";
      failures.push(
        `${fixture.name} ${side.runtime}: native traces differ (${side.natives.join(", ")}${repeat > 1 ? `, ${repeat} rounds` : ""}):\n    ${[...nativeLines].join("\n    ")}`,
      );
    } else if (nativeBroken) {
      nativeCell = "BROKEN";
      failures.push(
        `${fixture.name} ${side.runtime}: the native run failed: ${formatTrace(native)}`,
      );
    }
    const row = [fixture.name, side.runtime, nativeCell];
    for (const mode of options["native-only"] ? [] : MODES) {
      const key = `${fixture.name}|${side.runtime}|${mode}`;
      seenKeys.add(key);
      if (nativeCell !== "ok") {
        row.push("-");
        continue;
      }
      const observed = tracesOf(fixture, side, mode);
      const entry = known.get(key);
      const { status, detail } = classify(native, observed, entry);
      row.push(status === "ok" ? "ok" : status === "known" ? "known" : status.toUpperCase());
      if (status !== "ok" && status !== "fixed") {
        differences.push({
          fixture: fixture.name,
          runtime: side.runtime,
          mode,
          native,
          observed,
          entry,
        });
      }
      if (status !== "ok" && status !== "known") {
        failures.push(
          `${fixture.name} ${side.runtime} ${mode}: ${status}${detail ? `: ${detail}` : ""}\n    native:  ${formatTrace(native)}\n    zigloop: ${[...new Set(observed.map(formatTrace))].join("\n             ")}`,
        );
      }
    }
    rows.push(row);
  }
}
// Listed differences whose fixture, runtime or mode was run but no longer exists.
const ranEverything =
  options.filter === "" && options.runtime === undefined && !options["native-only"];
if (ranEverything) {
  for (const key of known.keys())
    if (!seenKeys.has(key))
      failures.push(`${key}: listed in known_differences.json but no such fixture/runtime/mode`);
}

const header = ["fixture", "runtime", "native", ...(options["native-only"] ? [] : MODES)];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column].length)),
);
const printRow = (row) =>
  console.log(
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join("  ")
      .trimEnd(),
  );
printRow(header);
printRow(widths.map((width) => "-".repeat(width)));
for (const row of rows) printRow(row);

const versions = [`Node ${process.version}`];
if (node24 !== undefined) versions.push("Node v24 LTS (scripts/node_lts.mjs)");
if (chromium !== undefined) versions.push(`Chromium ${(await chromium).version}`);
console.log("");
if (options.verbose) {
  console.log("Known differences:");
  for (const d of differences.filter((difference) => difference.entry !== undefined)) {
    console.log(
      `  ${d.fixture} ${d.runtime} ${d.mode} (${d.entry.cause})\n    native:  ${formatTrace(d.native)}\n    zigloop: ${[...new Set(d.observed.map(formatTrace))].join("\n             ")}`,
    );
  }
  console.log("");
}
const realFailures = failures;
if (realFailures.length > 0) {
  console.log("Failures:");
  for (const failure of realFailures) console.log(`  ${failure}`);
  console.log("");
}
const counts = {};
for (const row of rows) for (const cell of row.slice(3)) counts[cell] = (counts[cell] ?? 0) + 1;
console.log(
  `${fixtures.length} fixtures, ${tasks.length} runs (${repeat} round${repeat > 1 ? "s" : ""}, ${jobs} at once) on ${versions.join(", ")}: ` +
    `${Object.entries(counts)
      .map(([cell, n]) => `${n} ${cell}`)
      .join(
        ", ",
      )}; ${realFailures.length} failure(s); ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

if (options["update-known"] && !options["native-only"]) {
  const entries = [];
  for (const d of differences) {
    const old = d.entry;
    const lines = [...new Set(d.observed.map(formatTrace))];
    const nativeLine = formatTrace(d.native);
    const different = lines.filter((line) => line !== nativeLine);
    const previous =
      old === undefined ? [] : Array.isArray(old.zigloop) ? old.zigloop : [old.zigloop];
    const zigloop = [
      ...new Set([...previous.filter(() => old.native === nativeLine), ...different]),
    ];
    const entry = {
      fixture: d.fixture,
      runtime: d.runtime,
      mode: d.mode,
      native: nativeLine,
      zigloop: zigloop.length === 1 ? zigloop[0] : zigloop,
      cause: old?.cause ?? "open",
    };
    if (old?.intermittent || lines.length > different.length) entry.intermittent = true;
    entries.push(entry);
  }
  // Entries outside this run's selection are kept as they are.
  for (const [key, entry] of known) {
    const [fixture, runtime] = key.split("|");
    const selected =
      fixtures.some((f) => f.name === fixture) && SIDES.some((side) => side.runtime === runtime);
    if (!selected) entries.push(entry);
  }
  entries.sort((a, b) =>
    `${a.fixture}|${a.runtime}|${MODES.indexOf(a.mode)}`.localeCompare(
      `${b.fixture}|${b.runtime}|${MODES.indexOf(b.mode)}`,
    ),
  );
  const { $comment, causes } = JSON.parse(readFileSync(KNOWN_PATH, "utf8"));
  const file = { $comment, causes, differences: entries };
  writeFileSync(KNOWN_PATH, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`wrote ${entries.length} entries to ${KNOWN_PATH}`);
}

process.exitCode = realFailures.length > 0 && !options["update-known"] ? 1 : 0;
