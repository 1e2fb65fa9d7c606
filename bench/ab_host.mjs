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

/** Each workload: ops per call, and a factory of `run(ops)` for one build. */
const WORKLOADS = {
  "pair (html)": {
    ops: 8192,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop();
      const fn = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(fn, 1000));
      };
    },
  },
  "pair (node)": {
    ops: 8192,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ profile: "node" });
      const fn = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(fn, 1000));
      };
    },
  },
  "queueMicrotask 1e3 + run": {
    ops: 1000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      let ran = 0;
      const job = () => {
        ran++;
      };
      return (ops) => {
        loop.submit(() => {
          for (let i = 0; i < ops; i++) loop.queueMicrotask(job);
        });
        loop.runUntilIdle();
        if (ran === -1) throw new Error("unreachable");
      };
    },
  },
  "resolve + 10 thens, 1e3 chains": {
    ops: 1000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const P = loop.Promise;
      const step = (v) => v + 1;
      return (ops) => {
        loop.submit(() => {
          for (let c = 0; c < ops; c++) {
            let p = P.resolve(c);
            for (let k = 0; k < 10; k++) p = p.then(step);
          }
        });
        loop.runUntilIdle();
      };
    },
  },
  "submit 1024 + run": {
    ops: 1024,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const task = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.submit(task);
        loop.runUntilIdle();
      };
    },
  },
  "1e4 timers schedule + runAll": {
    ops: 10_000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const fn = () => {};
      let seed = 1;
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          loop.setTimeout(fn, seed % 1_000_000);
        }
        loop.runAll();
      };
    },
  },
};

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
