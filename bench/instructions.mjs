// Counts one host hot path's work in CPU instructions instead of time, for A/B of two
// builds on a machine too loaded for timings: run it under valgrind twice per build,
// once with N and once with 1,000 operations, and subtract (start-up and compilation
// cancel out; JIT tiering differences stay within a few percent). Compare host builds
// on the same wasm/zigloop.wasm only (see docs/BENCHMARKS.md, "Profiling a missed goal").
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     node bench/instructions.mjs <dist dir> <workload> <N>
//   (valgrind prints "Collected : <instructions>")
//
// <workload>: a name, or a part of one, of bench/lib/host_workloads.mjs (the workloads
// bench/ab_host.mjs times), e.g. "pair (html)", "pair (node)", "queueMicrotask",
// "resolve". N is rounded up to whole calls of the workload; the operations actually run
// are printed, to divide by.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { WORKLOADS } from "./lib/host_workloads.mjs";

const [dir = "dist", name = "pair (html)", n = "500000"] = process.argv.slice(2);
const matches = Object.keys(WORKLOADS).filter((key) => key.includes(name));
if (matches.length !== 1) {
  throw new TypeError(
    `workload ${JSON.stringify(name)} matches ${matches.length} of: ${Object.keys(WORKLOADS).join(", ")}`,
  );
}
const workload = WORKLOADS[matches[0]];
const zigloop = await import(pathToFileURL(resolve(dir, "node.js")).href);
const run = await workload.make(zigloop);
const calls = Math.ceil(Number(n) / workload.ops);
for (let i = 0; i < calls; i++) run(workload.ops);
console.log(`${matches[0]}: ${calls * workload.ops} operations`);
