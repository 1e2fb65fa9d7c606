// Suite "promise" (issue 4): loop.Promise, on a real zigloop loop, against V8's native
// Promise and bluebird: chains of `then`, Promise.all, and heap bytes per `then`.
// Everything goes through the built package (dist/node.js).
// What each benchmark measures and why: docs/BENCHMARKS.md.

import { createRequire } from "node:module";
import {
  compareThroughput,
  formatBytes,
  formatCount,
  formatNumber,
  median,
  roundRatios,
  speedNote,
  speedRow,
} from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { createLoop } from "../lib/loop.mjs";

export const name = "promise";
export const title = "loop.Promise against native Promise and bluebird";
export const issue = 4;

const require = createRequire(import.meta.url);
const CHAIN_LENGTH = 10;
const ALL_SIZE = 10_000;
const HEAP_THENS = 100_000;
const HEAP_ROOTS = 1_000;

function loadBluebird() {
  const Bluebird = require("bluebird").getNewLibraryCopy();
  // Production settings (these are also bluebird's defaults outside NODE_ENV=development).
  Bluebird.config({
    warnings: false,
    longStackTraces: false,
    cancellation: false,
    monitoring: false,
  });
  return Bluebird;
}

/** The three Promise classes, the loop's from a real-clock loop (jobs run in its checkpoints). */
async function classes() {
  const loop = await createLoop();
  return {
    loop,
    list: [
      ["loop.Promise", loop.Promise],
      ["native Promise", Promise],
      ["bluebird", loadBluebird()],
    ],
  };
}

const inc = (v) => v + 1;

/**
 * `chains` chains live at once: each is a new pending promise with `length` chained
 * thens; all are created, then all resolved, then the last chain's tail is awaited (the
 * chains advance breadth-first, level by level, so it settles last).
 */
function chainsDriver(P, chains, length) {
  const resolvers = new Array(chains);
  return async function run() {
    let tail;
    for (let c = 0; c < chains; c++) {
      let q = new P((resolve) => {
        resolvers[c] = resolve;
      });
      for (let i = 0; i < length; i++) q = q.then(inc);
      tail = q;
    }
    for (let c = 0; c < chains; c++) resolvers[c](c);
    const value = await tail;
    if (value !== chains - 1 + length)
      throw new Error(`chain ended with ${value}, expected ${chains - 1 + length}`);
    resolvers.fill(undefined);
  };
}

/** Correctness first: loop.Promise runs the reactions in exactly the order native does. */
async function chainOrderCheck(list, chains) {
  const orders = [];
  for (const [who, P] of list) {
    const order = [];
    const resolvers = [];
    const tails = [];
    for (let c = 0; c < chains; c++) {
      let q = new P((resolve) => resolvers.push(resolve));
      for (let i = 0; i < CHAIN_LENGTH; i++) {
        q = q.then((v) => {
          order.push(v * 100 + i);
          return v;
        });
      }
      tails.push(q);
    }
    resolvers.forEach((resolve, c) => {
      resolve(c);
    });
    const values = await P.all(tails);
    if (values.length !== chains || values.some((v, c) => v !== c))
      throw new Error(`${who}: chains resolved to the wrong values`);
    if (order.length !== chains * CHAIN_LENGTH)
      throw new Error(`${who}: ${order.length} reactions ran, expected ${chains * CHAIN_LENGTH}`);
    orders.push({ who, order });
  }
  const [loopOrder, nativeOrder] = orders;
  for (let i = 0; i < nativeOrder.order.length; i++) {
    if (loopOrder.order[i] !== nativeOrder.order[i])
      throw new Error(`loop.Promise reaction order differs from native at ${i}`);
  }
  // bluebird runs the same reactions; its order is its own (it drains its own queue per macrotask).
  const sameAsNative = orders[2].order.every((v, i) => v === nativeOrder.order[i]);
  return { bluebirdSameOrder: sameAsNative };
}

/** Child: resolve + 10 chained thens per op, `chains` chains live. */
export async function compareChains({ chains, reps, minCpuMs, minSamples }, ctx) {
  const { loop, list } = await classes();
  const check = await chainOrderCheck(list, 1000);
  ctx.progress(
    `chains: cross-check passed: loop.Promise ran ${formatCount(1000 * CHAIN_LENGTH)} reactions in native's order (bluebird ${check.bluebirdSameOrder ? "too" : "in its own order"})`,
  );
  const subjects = list.map(([who, P]) => {
    const run = chainsDriver(P, chains, CHAIN_LENGTH);
    return { name: who, run: () => run() };
  });
  const result = await compareThroughput(ctx, {
    label: `resolve + ${CHAIN_LENGTH} thens, ${formatCount(chains)} chains live`,
    subjects,
    opsPerCall: chains,
    reps,
    minCpuMs,
    minSamples,
    warmupSamples: Math.min(minSamples, 3),
    unit: "ns/chain",
  });
  loop.close();
  return {
    subjects: result.subjects,
    ratios: roundRatios(result, 3),
    bluebirdSameOrder: check.bluebirdSameOrder,
  };
}

/** Child: `await P.all(array of ALL_SIZE fulfilled promises)`; the array is reused (all does not consume it). */
export async function compareAll({ reps, minCpuMs }, ctx) {
  const { loop, list } = await classes();
  const subjects = list.map(([who, P]) => {
    const inputs = Array.from({ length: ALL_SIZE }, (_, i) => P.resolve(i));
    return {
      name: who,
      async run() {
        const values = await P.all(inputs);
        if (values.length !== ALL_SIZE || values[ALL_SIZE - 1] !== ALL_SIZE - 1)
          throw new Error(`${who}: Promise.all returned the wrong values`);
      },
    };
  });
  for (const s of subjects) await s.run();
  const result = await compareThroughput(ctx, {
    label: `Promise.all over ${formatCount(ALL_SIZE)}`,
    subjects,
    opsPerCall: ALL_SIZE,
    reps,
    minCpuMs,
    unit: "ns/element",
  });
  loop.close();
  return { subjects: result.subjects, ratios: roundRatios(result, 3) };
}

/**
 * V8 heap bytes of `HEAP_THENS` live thens: HEAP_ROOTS pending promises, each with a
 * chain of thens, minus the roots alone; between full GCs. A function per reading so
 * nothing stays reachable from an earlier frame.
 */
function heapOf(P, roots, thensPerRoot) {
  globalThis.gc();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  let keep = new Array(roots);
  for (let r = 0; r < roots; r++) {
    let q = new P(() => {});
    const root = q;
    for (let i = 0; i < thensPerRoot; i++) q = q.then(inc);
    keep[r] = [root, q];
  }
  globalThis.gc();
  globalThis.gc();
  const bytes = process.memoryUsage().heapUsed - before;
  if (keep.length !== roots) throw new Error("lost promises");
  keep = null;
  return bytes;
}

/** Child: heap bytes per then, three readings per class, alternating. */
export async function heapPerThen({ repeats }, ctx) {
  const { loop, list } = await classes();
  const perThen = list.map(() => []);
  const thensPerRoot = HEAP_THENS / HEAP_ROOTS;
  for (let r = 0; r < repeats; r++) {
    list.forEach(([, P], i) => {
      const withThens = heapOf(P, HEAP_ROOTS, thensPerRoot);
      const rootsOnly = heapOf(P, HEAP_ROOTS, 0);
      perThen[i].push((withThens - rootsOnly) / HEAP_THENS);
    });
  }
  const result = list.map(([who], i) => ({
    name: who,
    bytes: median(perThen[i]),
    readings: perThen[i],
  }));
  ctx.progress(
    `heap per then: ${result.map((r) => `${r.name} ${formatNumber(r.bytes)} B`).join(", ")}`,
  );
  loop.close();
  return result;
}

export async function run(ctx) {
  const rows = [];
  const notes = [];
  const reps = ctx.quick ? 2 : 7;
  const minCpuMs = ctx.quick ? 60 : 200;

  // Memory first (a fresh process, nothing else allocated yet).
  const heap = await runIsolated(ctx, import.meta.url, "heapPerThen", {
    repeats: ctx.quick ? 1 : 3,
  });
  for (const peer of [1, 2]) {
    rows.push({
      benchmark: `heap bytes per live then (${formatCount(HEAP_THENS)} pending thens on ${formatCount(HEAP_ROOTS)} chains)`,
      zigloop: heap[0].bytes,
      peer: heap[peer].bytes,
      peerName: heap[peer].name,
      unit: "B",
      ratio: heap[peer].bytes / heap[0].bytes,
      ratioLabel: "less memory",
      goal: null,
      met: null,
    });
  }
  notes.push(
    `Heap per then: process.memoryUsage().heapUsed after two full GCs, ${formatCount(HEAP_ROOTS)} pending roots each with ${HEAP_THENS / HEAP_ROOTS} chained thens, minus the same roots without thens, / ${HEAP_THENS.toLocaleString("en-US")}; readings: ` +
      heap
        .map((r) => `${r.name} ${r.readings.map((b) => formatNumber(b)).join(", ")} B`)
        .join("; ") +
      ` (${formatBytes(heap[0].bytes * HEAP_THENS)} for loop.Promise's ${HEAP_THENS.toLocaleString("en-US")} thens).`,
  );

  for (const chains of [1e3, 1e5]) {
    const big = chains >= 1e5;
    const result = await runIsolated(ctx, import.meta.url, "compareChains", {
      chains,
      reps: big ? (ctx.quick ? 2 : 5) : reps,
      minCpuMs,
      minSamples: big ? 3 : 8,
    });
    const label = `resolve + ${CHAIN_LENGTH} chained thens, ${formatCount(chains)} chains live`;
    rows.push(
      speedRow(label, result, 1, {
        unit: "ns/chain",
        goal: "≥ 1x (as fast as native)",
        goalRatio: 1,
        met: result.ratios[1].median >= 1,
      }),
    );
    rows.push(
      speedRow(label, result, 2, {
        unit: "ns/chain",
        goal: "≥ 3x faster",
        goalRatio: 3,
        met: result.ratios[2].median >= 3,
      }),
    );
    notes.push(
      speedNote(
        `${label} (one op = a new pending promise, ${CHAIN_LENGTH} thens on it, its resolve, and the ${CHAIN_LENGTH} reactions run)`,
        result,
        "M chains/s",
      ) +
        (chains === 1e3
          ? `; before timing, loop.Promise ran 10,000 reactions in exactly native's order${result.bluebirdSameOrder ? " (bluebird too)" : " (bluebird in its own order)"}`
          : ""),
    );
  }

  const all = await runIsolated(ctx, import.meta.url, "compareAll", { reps, minCpuMs });
  rows.push(
    speedRow(`Promise.all over ${formatCount(ALL_SIZE)} fulfilled promises`, all, 1, {
      unit: "ns/element",
    }),
  );
  rows.push(
    speedRow(`Promise.all over ${formatCount(ALL_SIZE)} fulfilled promises`, all, 2, {
      unit: "ns/element",
    }),
  );
  notes.push(
    speedNote(
      `Promise.all over ${formatCount(ALL_SIZE)} fulfilled promises (created once and reused; one op = one element)`,
      all,
      "M elements/s",
    ),
  );

  // Report in the issue's order: chains, Promise.all, memory.
  const order = (row) => (row.benchmark.startsWith("heap") ? 1 : 0);
  return { rows: rows.slice().sort((a, b) => order(a) - order(b)), notes };
}

export default { name, title, issue, run };
