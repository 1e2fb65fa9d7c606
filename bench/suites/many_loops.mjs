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

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { median } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { distUrl, zigloop } from "../lib/loop.mjs";

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

/** The core the measured build loads (wasm/ beside its dist/). */
function coreModule() {
  const wasm = fileURLToPath(new URL("../wasm/zigloop.wasm", distUrl));
  return new WebAssembly.Module(readFileSync(process.env.ZIGLOOP_BENCH_WASM ?? wasm));
}

/**
 * Child: µs to create and close one loop, the way an edge worker does per request
 * (`createEventLoopSync` from a compiled module, or `await createEventLoop()`), against
 * `new WebAssembly.Instance` of the core alone (what every loop paid before closed
 * loops' cores were reused). Median of `samples` batches of `batch` loops, after a
 * warm-up of 10 batches each.
 */
export async function timeCreation({ samples, batch }) {
  const module = coreModule();
  const sync = () => zigloop.createEventLoopSync({ module, clock: "manual" }).close();
  const async = async () => (await zigloop.createEventLoop({ clock: "manual" })).close();
  const keep = [];
  const instance = () => {
    keep.push(new WebAssembly.Instance(module, {}));
    if (keep.length > 64) keep.length = 0;
  };
  const variants = [
    ["sync", sync],
    ["async", async],
    ["instance", instance],
  ];
  // Warm every variant first (a few hundred creations leave the host's code half
  // optimized: 35 instead of 8-12 µs), then measure them in rotating order per sample.
  for (const [, once] of variants) for (let i = 0; i < 10 * batch; i++) await once();
  const times = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let s = 0; s < samples; s++) {
    for (let v = 0; v < variants.length; v++) {
      const [name, once] = variants[(s + v) % variants.length];
      const start = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) await once();
      times[name].push(Number(process.hrtime.bigint() - start) / batch / 1000);
    }
  }
  const result = {};
  for (const [name] of variants) result[name] = median(times[name]);
  return result;
}

/**
 * Child: RSS and heap per additional loop, with `loops` manual-clock loops kept open, each
 * with one timer and one settled promise (the issue's measurement).
 */
export async function footprint({ loops }) {
  const warm = await zigloop.createEventLoop({ clock: "manual" });
  warm.setTimeout(() => {}, 10);
  warm.Promise.resolve(1);
  globalThis.gc();
  const before = process.memoryUsage();
  const kept = [];
  for (let i = 0; i < loops; i++) {
    const loop = await zigloop.createEventLoop({ clock: "manual" });
    loop.setTimeout(() => {}, 10);
    loop.Promise.resolve(i);
    kept.push(loop);
  }
  globalThis.gc();
  const after = process.memoryUsage();
  const per = (key) => (after[key] - before[key]) / loops / 1024;
  const result = { rss: per("rss"), heap: per("heapUsed"), external: per("external") };
  for (const loop of kept) loop.close();
  warm.close();
  return result;
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
  const creation = await runIsolated(ctx, import.meta.url, "timeCreation", {
    samples: ctx.quick ? 7 : 21,
    batch: ctx.quick ? 100 : 200,
  });
  for (const [key, what] of [
    ["sync", "createEventLoopSync({ module }) + close(), one loop at a time"],
    ["async", "await createEventLoop() + close(), one loop at a time"],
  ]) {
    rows.push({
      benchmark: `Creating and closing a loop (manual clock): ${what}, against instantiating the core alone`,
      zigloop: creation[key],
      peer: creation.instance,
      peerName: "new WebAssembly.Instance of the core",
      unit: "µs",
      ratio: creation.instance / creation[key],
      ratioLabel: "faster",
      goal: "< 20 µs",
      goalValue: 20,
      goalValueOf: creation[key],
      goalUnit: "µs",
      goalDirection: "max",
      met: creation[key] < 20,
    });
  }
  const mem = await runIsolated(ctx, import.meta.url, "footprint", { loops: 1000 });
  rows.push({
    benchmark:
      "Memory per additional loop: 1,000 open manual-clock loops, each with one timer and one settled promise (RSS)",
    zigloop: mem.rss,
    peer: null,
    peerName: null,
    unit: "KiB",
    ratio: null,
    ratioLabel: "less memory",
    goal: "≤ 16 KiB",
    goalValue: 16,
    goalValueOf: mem.rss,
    goalUnit: "KiB",
    goalDirection: "max",
    met: mem.rss <= 16,
  });
  notes.push(
    `creation: createEventLoopSync + close ${creation.sync.toFixed(1)} µs, await createEventLoop + close ${creation.async.toFixed(1)} µs, new WebAssembly.Instance alone ${creation.instance.toFixed(1)} µs (median of batches)`,
    `memory per open loop (1,000 loops, a timer and a settled promise each): RSS ${mem.rss.toFixed(1)} KiB, JS heap ${mem.heap.toFixed(1)} KiB, external ${mem.external.toFixed(1)} KiB (linear memory: one 64 KiB page per instance at least)`,
  );
  return { rows, notes };
}
