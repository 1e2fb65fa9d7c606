#!/usr/bin/env node
// A/B two builds of the host (two dist/ directories) on the host API's hot paths,
// side by side in one process, in rotated rounds (so a noisy machine slows both alike).
//
//   node bench/ab_host.mjs <base dist dir> <candidate dist dir> [--quick] [workload ...]
//
// For checking that a change to src-ts/ does not slow the hot paths: build the base
// (e.g. `git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci)`), then compare
// its dist/ with this checkout's. Each dist/ loads the wasm/ beside it. Prints a table;
// writes nothing. The ratio is base time / candidate time: above 1, the candidate is faster.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compareThroughput, formatNumber } from "./lib/harness.mjs";
import { WORKLOADS } from "./lib/host_workloads.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const [baseDir, candidateDir, ...only] = args.filter((a) => a !== "--quick");
if (!baseDir || !candidateDir) {
  console.error(
    "Usage: node bench/ab_host.mjs <base dist dir> <candidate dist dir> [--quick] [workload ...]",
  );
  process.exit(2);
}

const builds = await Promise.all(
  [baseDir, candidateDir].map(async (dir) => import(pathToFileURL(resolve(dir, "node.js")).href)),
);

const ctx = { quick, progress: (message) => process.stderr.write(`${message}\n`) };
const rows = [];
for (const [name, workload] of Object.entries(WORKLOADS)) {
  if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
  const runs = await Promise.all(builds.map((zigloop) => workload.make(zigloop)));
  const result = await compareThroughput(ctx, {
    label: name,
    subjects: runs.map((run, i) => ({ name: i === 0 ? "base" : "candidate", run })),
    opsPerCall: workload.ops,
    reps: quick ? 3 : 9,
    minCpuMs: quick ? 50 : 200,
  });
  const ratio = result.ratio(0, 1);
  rows.push([
    name,
    formatNumber(result.subjects[0].nsPerOp),
    formatNumber(result.subjects[1].nsPerOp),
    `${ratio.median.toFixed(3)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
  ]);
}
console.log("| workload | base ns/op | candidate ns/op | base/candidate (range over rounds) |");
console.log("|---|---|---|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
