// Suite many_loops (issue 13): the same loop's hot paths with 1 loop in the process and
// with 2, 8 and 1,000 loops that have all been used.
//
// Every loop has its own Promise class and its own core instance, but all loops made by
// one copy of the package run the same JavaScript functions, whose inline caches are
// shared: a call site that has seen many loops' classes or exports goes polymorphic, then
// megamorphic. Measured side by side in one process: the loop with company comes from one
// copy of the package (dist/ copied to a temporary directory, so its functions are its own)
// in which K loops were created and each used once (chains, pairs); the lone loop from
// another copy, in which no other loop was ever made. Subjects alternate in rounds.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compareWorkloads, speedNote, speedRow } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { distUrl } from "../lib/loop.mjs";

export const name = "many_loops";
export const title = "Many loops in one process";
export const issue = 13;

const CHAINS = 1000;
const PAIRS = 8192;
const step = (v) => v + 1;
const noop = () => {};

/** Resolve + 10 thens × `chains`, run to the end. */
function chains(loop, count) {
  const P = loop.Promise;
  loop.submit(() => {
    for (let c = 0; c < count; c++) {
      let p = P.resolve(c);
      for (let k = 0; k < 10; k++) p = p.then(step);
    }
  });
  loop.runUntilIdle();
}

function pairs(loop, count) {
  for (let i = 0; i < count; i++) loop.clearTimeout(loop.setTimeout(noop, 1000));
}

/** A second copy of the measured build (dist/ and wasm/), loaded from a temporary directory. */
async function copyOfPackage() {
  const dist = dirname(fileURLToPath(distUrl));
  const dir = mkdtempSync(join(tmpdir(), "zigloop-many-loops-"));
  cpSync(dist, join(dir, "dist"), { recursive: true });
  cpSync(join(dist, "..", "wasm"), join(dir, "wasm"), { recursive: true });
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  const copy = await import(pathToFileURL(join(dir, "dist", "node.js")).href);
  return { copy, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Child: one workload on a loop among `loops` used loops, against a lone loop. */
export async function compareLoops({ loops, workload, reps, minCpuMs }, ctx) {
  const alone = await copyOfPackage();
  const lone = await alone.copy.createEventLoop({ clock: "manual" });
  chains(lone, 10);
  pairs(lone, 10);
  const { copy, remove } = await copyOfPackage();
  const company = [];
  for (let i = 0; i < loops; i++) {
    const loop = await copy.createEventLoop({ clock: "manual" });
    chains(loop, 10); // every loop's Promise class and exports reach the shared call sites
    pairs(loop, 10);
    company.push(loop);
  }
  const target = company[0];
  const ops = workload === "chains" ? CHAINS : PAIRS;
  const run = workload === "chains" ? chains : pairs;
  const result = await compareWorkloads(ctx, {
    label: `${workload}: 1 of ${loops} loops against a lone loop`,
    subjects: [
      { name: `1 of ${loops} used loops`, run: (n) => run(target, n) },
      { name: "a lone loop", run: (n) => run(lone, n) },
    ],
    opsPerCall: ops,
    reps,
    minCpuMs,
    unit: workload === "chains" ? "ns/chain" : "ns/pair",
  });
  for (const loop of company) loop.close();
  lone.close();
  remove();
  alone.remove();
  return result;
}

export async function run(ctx) {
  const reps = ctx.quick ? 2 : 5;
  const minCpuMs = ctx.quick ? 60 : 150;
  const rows = [];
  const notes = [];
  for (const workload of ["chains", "pairs"]) {
    for (const loops of [2, 8, 1000]) {
      const result = await runIsolated(ctx, import.meta.url, "compareLoops", {
        loops,
        workload,
        reps,
        minCpuMs,
      });
      const what =
        workload === "chains"
          ? `resolve + 10 thens, ${CHAINS} chains (manual clock)`
          : "setTimeout + clearTimeout pair (html profile, manual clock)";
      rows.push(
        speedRow(
          `${what}: one of ${loops} used loops in the process, against a lone loop`,
          result,
          1,
          {
            unit: workload === "chains" ? "ns/chain" : "ns/op",
            goal: "within 1.1x of a lone loop (ratio ≥ 0.909)",
            goalRatio: 1 / 1.1,
            met: result.ratios[1].median >= 1 / 1.1,
          },
        ),
      );
      notes.push(speedNote(`${workload}, ${loops} loops`, result, "M ops/s"));
    }
  }
  return { rows, notes };
}
