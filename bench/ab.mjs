#!/usr/bin/env node
// A/B two builds of the core on the core suite's timer workloads, side by side.
//
//   node bench/ab.mjs base.wasm candidate.wasm            every workload at N = 1e3, 1e5, 1e6
//   node bench/ab.mjs base.wasm candidate.wasm --quick    fewer, shorter rounds
//   node bench/ab.mjs base.wasm candidate.wasm 1e6 cancel only those sizes / workloads
//
// For trying a change to src-zig/ before proposing it: build the candidate out of
// tree, then compare it with the committed module (git show HEAD:wasm/zigloop.wasm >
// /tmp/base.wasm). Same drivers, same streams, same measurement as bench/suites/core.mjs
// (mitata, rotated rounds, one fresh process per comparison). Only the timer exports
// must match, so builds with different ABIs can be compared. Prints a table; writes
// nothing. The ratio is candidate time / base time per round: above 1, the candidate
// is faster.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compareThroughput, formatCount, formatNumber } from "./lib/harness.mjs";
import { runIsolated } from "./lib/isolate.mjs";
import { coreSubject, makeStreams } from "./lib/timer_workloads.mjs";

const WORKLOADS = ["holdTurns", "holdStrict", "cancel"];

/** Child side: one workload at one N, both builds. */
export async function compareBuilds({ paths, n, workload, reps, minCpuMs }, ctx) {
  const streams = makeStreams(n);
  const subjects = paths.map((path, i) => {
    const module = new WebAssembly.Module(readFileSync(path));
    const subject = coreSubject(n, streams, workload, {
      module,
      name: i === 0 ? "base" : "candidate",
    });
    subject.run(n);
    return subject;
  });
  const result = await compareThroughput(ctx, {
    label: `${workload}, N=${formatCount(n)}`,
    subjects,
    opsPerCall: 8192,
    reps,
    minCpuMs,
  });
  for (const subject of subjects) {
    subject.verify();
    if (subject.size() !== n)
      throw new Error(`${subject.name} holds ${subject.size()} timers, expected ${n}`);
  }
  // Candidate speed-up: base time / candidate time.
  const ratio = result.ratio(0, 1);
  return { base: result.subjects[0].nsPerOp, candidate: result.subjects[1].nsPerOp, ratio };
}

// Run as a script (the child process of runIsolated imports this file for compareBuilds).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const paths = args.filter((a) => a.endsWith(".wasm")).map((p) => resolve(p));
  if (paths.length !== 2) {
    console.error(
      "Usage: node bench/ab.mjs base.wasm candidate.wasm [--quick] [1e3|1e5|1e6 ...] [holdTurns|holdStrict|cancel ...]",
    );
    process.exit(2);
  }
  const quick = args.includes("--quick");
  const sizes = args.filter((a) => /^1e\d$/.test(a)).map(Number);
  const workloads = args.filter((a) => WORKLOADS.includes(a));
  const ctx = { progress: (message) => console.error(`[ab] ${message}`) };
  const rows = [];
  for (const n of sizes.length ? sizes : [1e3, 1e5, 1e6]) {
    for (const workload of workloads.length ? workloads : WORKLOADS) {
      const r = await runIsolated(ctx, import.meta.url, "compareBuilds", {
        paths,
        n,
        workload,
        reps: quick ? 2 : 7,
        minCpuMs: quick ? 60 : 200,
      });
      rows.push([
        `${workload}, N=${formatCount(n)}`,
        `${formatNumber(r.base)} ns`,
        `${formatNumber(r.candidate)} ns`,
        `${r.ratio.median.toFixed(3)} (${r.ratio.min.toFixed(3)}–${r.ratio.max.toFixed(3)})`,
      ]);
    }
  }
  const header = ["workload", "base", "candidate", "candidate speed-up (range)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`base: ${paths[0]}\ncandidate: ${paths[1]}`);
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
}
