// Suite many_loops (issue 13): the same loop's hot paths with 1 loop in the process and
// with 2, 8 and 1,000 loops that have all been used.
//
// All loops made by one copy of the package run the same JavaScript functions, whose
// inline caches are shared: a call site that has seen many loops' objects goes
// polymorphic, then megamorphic, if the loops' objects differ in shape (every loop's
// Promise class did, until one class served every loop).
//
// How it is measured: each measurement is its own process (one copy of the package, one
// copy of the workload code), which creates K loops, uses every one once (chains and
// pairs), then times the workload on the first. K = 1 is the lone loop. A round runs
// K = 1 and K = k back to back, in alternating order, and takes their ratio. Why
// processes: with two copies of the package in one process (the first version of this
// suite), the copies differed by up to 1.4x with one loop each (garbage and code layout
// of one copy charged to the other), which hid the effect measured here.

import { median } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { zigloop } from "../lib/loop.mjs";

export const name = "many_loops";
export const title = "Many loops in one process";
export const issue = 13;

const CHAINS = 1000;
const PAIRS = 8192;
const step = (v) => v + 1;
const noop = () => {};

/** Resolve + 10 thens × `count`, run to the end. */
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

/** Child: ns per operation of `workload` on the first of `loops` used loops. */
export async function timeOneOfLoops({ loops, workload, samples, callsPerSample }) {
  const all = [];
  for (let i = 0; i < loops; i++) {
    const loop = await zigloop.createEventLoop({ clock: "manual" });
    chains(loop, 10); // every loop's objects reach the shared call sites
    pairs(loop, 10);
    all.push(loop);
  }
  const target = all[0];
  const ops = workload === "chains" ? CHAINS : PAIRS;
  const run = workload === "chains" ? chains : pairs;
  for (let i = 0; i < callsPerSample * 4; i++) run(target, ops); // warm-up
  const times = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < callsPerSample; i++) run(target, ops);
    times.push(Number(process.hrtime.bigint() - start) / (callsPerSample * ops));
  }
  for (const loop of all) loop.close();
  times.sort((a, b) => a - b);
  return { nsPerOp: times[Math.floor(times.length / 2)] };
}

export async function run(ctx) {
  const rounds = ctx.quick ? 3 : 11;
  const samples = ctx.quick ? 15 : 41;
  const rows = [];
  const notes = [];
  for (const workload of ["chains", "pairs"]) {
    const callsPerSample = workload === "chains" ? 5 : 50;
    for (const loops of [2, 8, 1000]) {
      const lone = [];
      const many = [];
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? [1, loops] : [loops, 1];
        for (const k of order) {
          const { nsPerOp } = await runIsolated(ctx, import.meta.url, "timeOneOfLoops", {
            loops: k,
            workload,
            samples,
            callsPerSample,
          });
          (k === 1 ? lone : many).push(nsPerOp);
        }
      }
      // Ratio per round: lone time / time among many (above 1: the loop among many is faster).
      const ratios = many.map((t, i) => lone[i] / t);
      const ratio = median(ratios);
      const what =
        workload === "chains"
          ? `resolve + 10 thens, ${CHAINS} chains (manual clock)`
          : "setTimeout + clearTimeout pair (html profile, manual clock)";
      rows.push({
        benchmark: `${what}: one of ${loops} used loops in the process, against a lone loop (separate processes)`,
        zigloop: median(many),
        peer: median(lone),
        peerName: "a lone loop",
        unit: workload === "chains" ? "ns/chain" : "ns/op",
        ratio,
        ratioLabel: "faster",
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
        goal: "within 1.1x of a lone loop (ratio ≥ 0.909)",
        goalRatio: 1 / 1.1,
        met: ratio >= 1 / 1.1,
      });
      notes.push(
        `${workload}, ${loops} loops: per round (lone / among ${loops}) ${ratios.map((x) => x.toFixed(2)).join(", ")}`,
      );
    }
  }
  return { rows, notes };
}
