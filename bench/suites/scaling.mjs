// Suite "scaling" (issue 5): how the real timer API scales from 1e3 to 1e6 live timers
// against Node's own timers, memory per pending timer and of an empty loop, the cost
// of metrics, and the task-latency distribution the loop's own metrics record (for the
// chart in bench/results.svg). Everything goes through the built package (dist/node.js).
// What each benchmark measures and why: docs/BENCHMARKS.md.

import v8 from "node:v8";
import {
  compareThroughput,
  formatBytes,
  formatCount,
  formatNumber,
  median,
} from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { createLoop, createLoopWithCore, hostTask } from "../lib/loop.mjs";
import { prng } from "../lib/timer_workloads.mjs";

export const name = "scaling";
export const title = "timer scaling, memory, metrics overhead";
export const issue = 5;

const SIZES = [1e3, 1e4, 1e5, 1e6];
/** Operations per timed block (schedule, cancel, fire): at most half of N, so N moves by at most 50% while timing. */
const MAX_BLOCK = 4096;
const SCHEDULE_BLOCKS = 16;
/** Fire blocks per round: enough for about 8,192 probe timers per round at every N. */
const fireBlocks = (block) => Math.max(4, Math.ceil(8192 / block));
/** Background timers: random whole-ms delays in [LONG_MIN, LONG_MIN + LONG_SPAN), never due during a run. */
const LONG_MIN = 10_000_000;
const LONG_SPAN = 10_000_000;
/**
 * The common case: a few shared durations, as servers use (keep-alive, request and idle
 * timeouts: 10, 20, 30 and 60 minutes), never due during a run. Node keeps one TimersList
 * per duration and appends to it in O(1).
 */
const SHARED_DELAYS_MS = [600_000, 1_200_000, 1_800_000, 3_600_000];
/** How background delays are drawn: per case, a name for rows and notes and the draw. */
const CASES = {
  spread: {
    label: "random delays (Node: a TimersList per timer, its worst case)",
    short: "random delays",
    draw: (random) => LONG_MIN + Math.floor(random() * LONG_SPAN),
  },
  shared: {
    label: `${SHARED_DELAYS_MS.length} shared durations (the common case)`,
    short: `${SHARED_DELAYS_MS.length} shared durations`,
    draw: (random) => SHARED_DELAYS_MS[Math.floor(random() * SHARED_DELAYS_MS.length)],
  },
};
/** Pending timers for the full-stack memory rows. */
const MEMORY_SIZES = [1e3, 1e5, 1e6];
/** The goal for bytes per pending timer, on the full stack (core + host). */
const BYTES_PER_TIMER_GOAL = 32;
/** Probe timers for "fire": random delays 1..PROBE_MAX_MS, all due after a busy wait. */
const PROBE_MAX_MS = 8;
const EMPTY_LOOPS = 200;
const TASK_BURST = 1024;

const noop = () => {};

function busyWait(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** One subject of the scaling comparison: N background timers and schedule/cancel/fire blocks. */
function scalingSubject(name, api, n, seed, delays) {
  const BLOCK = Math.min(MAX_BLOCK, n / 2);
  const random = prng(seed);
  const draw = CASES[delays].draw;
  const longDelay = () => draw(random);
  const live = new Array(n);
  for (let i = 0; i < n; i++) live[i] = api.set(noop, longDelay());
  const fresh = new Array(BLOCK);
  const blockDelays = new Int32Array(BLOCK);
  const victims = new Int32Array(BLOCK);
  let fired = 0;
  let firstAt = 0;
  let lastAt = 0;
  const onProbe = () => {
    const t = performance.now();
    if (fired++ === 0) firstAt = t;
    lastAt = t;
  };
  return {
    name,
    block: BLOCK,
    /** Schedule BLOCK timers (delays drawn before timing), then cancel BLOCK random live ones. Returns ns/op of each. */
    scheduleAndCancel() {
      for (let i = 0; i < BLOCK; i++) {
        blockDelays[i] = longDelay();
        victims[i] = Math.floor(random() * n);
      }
      const t0 = performance.now();
      for (let i = 0; i < BLOCK; i++) fresh[i] = api.set(noop, blockDelays[i]);
      const t1 = performance.now();
      for (let i = 0; i < BLOCK; i++) {
        const v = victims[i];
        api.clear(live[v]);
        live[v] = fresh[i];
      }
      const t2 = performance.now();
      return { schedule: ((t1 - t0) * 1e6) / BLOCK, cancel: ((t2 - t1) * 1e6) / BLOCK };
    },
    /** BLOCK probe timers due within PROBE_MAX_MS; after a busy wait all are due; first to last callback. */
    async fire() {
      fired = 0;
      for (let i = 0; i < BLOCK; i++) api.set(onProbe, 1 + Math.floor(random() * PROBE_MAX_MS));
      busyWait(PROBE_MAX_MS + 5);
      while (fired < BLOCK) await hostTask();
      return ((lastAt - firstAt) * 1e6) / (BLOCK - 1);
    },
    clearAll() {
      for (let i = 0; i < n; i++) api.clear(live[i]);
    },
  };
}

/**
 * Child: one N and one case of background delays (`delays`: a key of CASES), zigloop (html,
 * real clock) and Node's timers side by side in alternating rounds.
 */
export async function compareScaling({ n, reps, delays }, ctx) {
  const loop = await createLoop({ profile: "html" });
  const t0 = performance.now();
  const subjects = [
    scalingSubject(
      "zigloop",
      { set: (fn, ms) => loop.setTimeout(fn, ms), clear: (id) => loop.clearTimeout(id) },
      n,
      0x5ca1e,
      delays,
    ),
    scalingSubject("Node setTimeout", { set: setTimeout, clear: clearTimeout }, n, 0x5ca1e, delays),
  ];
  ctx.progress(
    `N=${formatCount(n)}: ${formatCount(n)} background timers each (${CASES[delays].short}) created in ${formatNumber(performance.now() - t0)} ms`,
  );
  const results = subjects.map(() => ({ schedule: [], cancel: [], fire: [] }));
  for (let rep = -2; rep < reps; rep++) {
    const order = rep % 2 === 0 ? [0, 1] : [1, 0];
    const line = [];
    for (const i of order) {
      const s = subjects[i];
      const sc = [];
      for (let b = 0; b < SCHEDULE_BLOCKS; b++) sc.push(s.scheduleAndCancel());
      const fires = [];
      for (let b = 0; b < fireBlocks(s.block); b++) fires.push(await s.fire());
      const schedule = median(sc.map((x) => x.schedule));
      const cancel = median(sc.map((x) => x.cancel));
      const fire = median(fires);
      if (rep >= 0) {
        results[i].schedule.push(schedule);
        results[i].cancel.push(cancel);
        results[i].fire.push(fire);
      }
      line.push(
        `${s.name} schedule ${schedule.toFixed(0)} / cancel ${cancel.toFixed(0)} / fire ${fire.toFixed(0)} ns`,
      );
    }
    ctx.progress(
      `N=${formatCount(n)}, ${CASES[delays].short}: ${rep < 0 ? "warm-up" : `round ${rep + 1}/${reps}`}: ${line.join("; ")}`,
    );
  }
  if (loop.pending.timers !== n)
    throw new Error(`zigloop holds ${loop.pending.timers} timers, expected ${n}`);
  subjects.forEach((s) => {
    s.clearAll();
  });
  loop.close();
  const out = {};
  for (const op of ["schedule", "cancel", "fire"]) {
    const ratios = results[1][op].map((peer, r) => peer / results[0][op][r]);
    out[op] = {
      zigloop: median(results[0][op]),
      node: median(results[1][op]),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    };
  }
  return out;
}

async function scaling(ctx, rows, notes) {
  const reps = ctx.quick ? 2 : 9;
  for (const delays of ["spread", "shared"]) {
    const c = CASES[delays];
    const byN = {};
    for (const n of SIZES)
      byN[n] = await runIsolated(ctx, import.meta.url, "compareScaling", { n, reps, delays });
    for (const op of ["schedule", "fire", "cancel"]) {
      for (const n of SIZES) {
        const r = byN[n][op];
        rows.push({
          benchmark: `${op} one timer, ${formatCount(n)} live timers, html profile, real clock, ${c.label}`,
          zigloop: r.zigloop,
          peer: r.node,
          peerName: "Node setTimeout",
          unit: "ns/timer",
          ratio: r.ratio.median,
          ratioLabel: "faster",
          ratioRange: [r.ratio.min, r.ratio.max],
          goal: null,
          met: null,
        });
      }
      const small = byN[SIZES[0]][op];
      const large = byN[SIZES[SIZES.length - 1]][op];
      const growthZ = large.zigloop / small.zigloop;
      const growthN = large.node / small.node;
      rows.push({
        benchmark: `${op}: cost at ${formatCount(SIZES[SIZES.length - 1])} live / cost at ${formatCount(SIZES[0])}, html profile, real clock, ${c.short}`,
        zigloop: growthZ,
        peer: growthN,
        peerName: "Node setTimeout",
        unit: "x",
        zigloopText: `${formatNumber(growthZ)}x`,
        peerText: `${formatNumber(growthN)}x`,
        ratio: growthN / growthZ,
        ratioLabel: "flatter",
        goal: "≤ 2x",
        goalValue: 2,
        goalValueOf: growthZ,
        goalUnit: "x",
        goalDirection: "max",
        met: growthZ <= 2,
      });
    }
  }
  notes.push(
    `Scaling: N background timers per implementation, in two cases: ${CASES.spread.short} (seeded, ${formatCount(LONG_MIN)}..${formatCount(LONG_MIN + LONG_SPAN)} ms, so Node has about one TimersList per timer, its worst case) and ${CASES.shared.short} (${SHARED_DELAYS_MS.map((d) => `${d / 60_000} min`).join(", ")}, drawn at random: Node appends to one of ${SHARED_DELAYS_MS.length} shared lists in O(1), as a server's keep-alive and request timeouts do). ` +
      `Per round and implementation: ${SCHEDULE_BLOCKS} blocks of B = min(${MAX_BLOCK}, N/2) setTimeout calls (timed; delays drawn from the same case) each followed by B clearTimeout calls on random live timers (timed), so N returns to its value after every block; then max(4, 8192 / B) times B probe timers with delays 1..${PROBE_MAX_MS} ms, a ${PROBE_MAX_MS + 5} ms busy wait so all are due, and the time from the first probe callback to the last / (B - 1) ("fire": the dispatch of due timers with N others pending, callbacks included). ` +
      `Two warm-up rounds, then ${reps} rounds alternating which goes first; per round the median block, then the median over rounds. A fresh process per N and case; both implementations live in it (zigloop allocates nothing per timer, so Node's timer garbage is the only GC work either side sees).`,
  );
}

// ---- memory ----------------------------------------------------------------------------

function settle() {
  globalThis.gc();
  globalThis.gc();
}

/** The median of each reading over rounds (each reading a number). */
function medianReadings(readings) {
  const out = {};
  for (const key of Object.keys(readings[0])) out[key] = median(readings.map((r) => r[key]));
  return out;
}

/**
 * Child: bytes per pending timer, full stack, at `count` pending timers; one subject per
 * process. `subject`: "html" or "node" (a zigloop loop of that profile: the core's Wasm memory,
 * the host's typed-array columns and JS heap, and in the node profile a Timeout per timer) or
 * "native" (Node's own timers); `delays`: a key of CASES. The caller keeps every handle (in an
 * array allocated before the first reading), as code that may clear its timers does. Readings
 * after two full GCs (--expose-gc): process.memoryUsage() heapUsed (the V8 heap), external (the
 * Wasm memory and ArrayBuffer backing stores) and arrayBuffers, and the loop's
 * memory.buffer.byteLength; `rounds` fresh measurements (a fresh loop each), medians.
 */
export async function timerMemory({ subject, count, delays, rounds }) {
  const draw = CASES[delays].draw;
  const random = prng(0x3e3);
  const handles = new Array(count).fill(0);
  const readings = [];
  for (let round = 0; round < rounds; round++) {
    const loop = subject === "native" ? undefined : await createLoop({ profile: subject });
    const set = loop ? (fn, ms) => loop.setTimeout(fn, ms) : setTimeout;
    const clear = loop ? (id) => loop.clearTimeout(id) : clearTimeout;
    settle();
    const u0 = process.memoryUsage();
    const h0 = v8.getHeapStatistics();
    const linear0 = loop ? loop.metrics().memory.linearBytes : 0;
    for (let i = 0; i < count; i++) handles[i] = set(noop, draw(random));
    settle();
    const u1 = process.memoryUsage();
    const h1 = v8.getHeapStatistics();
    const m1 = loop?.metrics().memory;
    if (loop && loop.pending.timers !== count) throw new Error("timers missing");
    const linear = loop ? m1.linearBytes - linear0 : 0;
    const external = u1.external - u0.external;
    const typedArrays = u1.arrayBuffers - u0.arrayBuffers;
    const heap = u1.heapUsed - u0.heapUsed;
    readings.push({
      heap,
      v8Heap: h1.used_heap_size - h0.used_heap_size,
      external,
      typedArrays,
      linear,
      // Node counts Wasm memory in `external`; should a version not, count it on its own.
      total: heap + Math.max(external, linear + typedArrays),
      arena: m1?.arenaBytes ?? 0,
      handleCapacity: m1?.handleCapacity ?? 0,
    });
    for (let i = 0; i < count; i++) clear(handles[i]);
    handles.fill(0);
    loop?.close();
  }
  return medianReadings(readings);
}

/** Child: footprint of an empty loop: JS heap per loop (over `loops` loops) and its linear memory. */
export async function emptyLoop({ loops }) {
  const first = await createLoop();
  first.close();
  settle();
  const usage0 = process.memoryUsage();
  let keep = [];
  for (let i = 0; i < loops; i++) keep.push(await createLoop());
  settle();
  const usage1 = process.memoryUsage();
  const memory = keep[0].metrics().memory;
  const heap = (usage1.heapUsed - usage0.heapUsed) / loops;
  const external = (usage1.external - usage0.external) / loops;
  const typedArrays = (usage1.arrayBuffers - usage0.arrayBuffers) / loops;
  for (const loop of keep) loop.close();
  keep = null;
  return { heap, external, typedArrays, linear: memory.linearBytes, arena: memory.arenaBytes };
}

async function memory(ctx, rows, notes) {
  const per = (r, count) => r.total / count;
  const parts = (r, count) =>
    `${formatNumber(r.linear / count)} B Wasm memory + ${formatNumber(r.typedArrays / count)} B typed arrays + ${formatNumber(r.heap / count)} B JS heap`;
  const largest = MEMORY_SIZES[MEMORY_SIZES.length - 1];
  for (const count of MEMORY_SIZES) {
    const rounds = count <= 1e3 ? 9 : count <= 1e5 ? 3 : 1;
    const measure = (subject, delays = "spread") =>
      runIsolated(ctx, import.meta.url, "timerMemory", { subject, count, delays, rounds });
    const z = { html: await measure("html"), node: await measure("node") };
    const node = { spread: await measure("native"), shared: await measure("native", "shared") };
    const nodeText = (key) => `${formatNumber(per(node[key], count))} B (${CASES[key].short})`;
    ctx.progress(
      `memory per pending timer at ${formatCount(count)}, full stack: zigloop html ${formatNumber(per(z.html, count))} B (${parts(z.html, count)}), node ${formatNumber(per(z.node, count))} B (${parts(z.node, count)}); Node ${nodeText("shared")}, ${nodeText("spread")}`,
    );
    for (const profile of ["html", "node"]) {
      const zPer = per(z[profile], count);
      // The goal row's peer is Node in the common case (its lean one), not its worst.
      const peers = count === largest ? ["shared", "spread"] : ["shared"];
      for (const key of peers) {
        const peerPer = per(node[key], count);
        const goalRow = key === "shared";
        rows.push({
          benchmark: goalRow
            ? `bytes per pending timer, ${profile} profile${profile === "node" ? " (a Timeout per timer)" : ""}, ${formatCount(count)} pending, full stack (Wasm memory + typed arrays + JS heap)`
            : `bytes per pending timer against Node's worst case, ${profile} profile, ${formatCount(count)} pending, full stack`,
          zigloop: zPer,
          peer: peerPer,
          peerName: `Node setTimeout, ${CASES[key].short}`,
          unit: "B",
          ratio: peerPer / zPer,
          ratioLabel: "less memory",
          ...(goalRow
            ? {
                goal: `≤ ${BYTES_PER_TIMER_GOAL} B (full stack)`,
                goalValue: BYTES_PER_TIMER_GOAL,
                goalValueOf: zPer,
                goalUnit: "B",
                goalDirection: "max",
                met: zPer <= BYTES_PER_TIMER_GOAL,
                headline: count === largest ? 2 : undefined,
              }
            : {
                goal: "≥ 8x less",
                goalRatio: 8,
                met: peerPer / zPer >= 8,
              }),
        });
      }
      if (count === largest) {
        const peerPer = per(node.shared, count);
        rows.push({
          benchmark: `bytes per pending timer against Node's common case, ${profile} profile, ${formatCount(count)} pending, full stack`,
          zigloop: zPer,
          peer: peerPer,
          peerName: `Node setTimeout, ${CASES.shared.short}`,
          unit: "B",
          ratio: peerPer / zPer,
          ratioLabel: "less memory",
          goal: "≥ 8x less",
          goalRatio: 8,
          met: peerPer / zPer >= 8,
        });
      }
    }
    notes.push(
      `Memory per pending timer at ${formatCount(count)}, full stack (real-clock loops, one reused callback, no arguments, the caller keeping every handle; process.memoryUsage() after two full GCs, a fresh process per subject, median of ${rounds} round${rounds > 1 ? "s" : ""} with a fresh loop each): ` +
        ["html", "node"]
          .map(
            (p) =>
              `zigloop ${p} ${formatNumber(per(z[p], count))} B = ${parts(z[p], count)} (external grew ${formatNumber(z[p].external / count)} B; v8 used_heap_size ${formatNumber(z[p].v8Heap / count)} B; ${z[p].handleCapacity.toLocaleString("en-US")} handle slots, arena ${formatBytes(z[p].arena)})`,
          )
          .join("; ") +
        `; Node ${nodeText("shared")} (a Timeout each, in ${SHARED_DELAYS_MS.length} lists), ${nodeText("spread")} (a Timeout each, about one TimersList per timer and the priority queue). ` +
        "Wasm memory grows in 64 KiB pages and the host's columns in doubling steps, so small counts pay for a whole page and the spare slots.",
    );
  }

  const loops = ctx.quick ? 50 : EMPTY_LOOPS;
  const e = await runIsolated(ctx, import.meta.url, "emptyLoop", { loops });
  // external per loop = its linear memory + its typed arrays' backing stores.
  const footprint = e.heap + e.external;
  rows.push({
    benchmark: "footprint of an empty loop (JS heap + linear memory + typed arrays)",
    zigloop: footprint,
    zigloopText: `${formatBytes(footprint)} (${formatBytes(e.linear)} linear + ${formatBytes(e.external - e.linear)} other external + ${formatBytes(e.heap)} JS heap)`,
    peer: null,
    peerName: null,
    unit: "B",
    ratio: null,
    ratioLabel: "smaller",
    goal: "< 200 KB (204,800 B)",
    goalValue: 200 * 1024,
    goalValueOf: footprint,
    goalUnit: "B",
    goalDirection: "max",
    met: footprint < 200 * 1024,
  });
  notes.push(
    `Empty loop: ${loops} real-clock html loops created with createEventLoop() and kept; per loop, JS heap growth ${formatBytes(e.heap)} (its EventLoop, HandleMirror, SlotTable, MicrotaskQueue arrays, driver, WebAssembly instance wrapper) ` +
      `and external growth ${formatBytes(e.external)}: its linear memory (memory.buffer.byteLength ${formatBytes(e.linear)}; arena ${formatBytes(e.arena)}) and typed arrays (arrayBuffers ${formatBytes(e.typedArrays)}). Compiled code is shared by all loops and not counted.`,
  );
}

// ---- metrics: overhead and the latency histogram ------------------------------------------------

/** Child: submit throughput with metrics on vs off, side by side. */
export async function compareMetrics({ reps, minCpuMs }, ctx) {
  // (Creating the metrics-off loop first gives the same ratios: checked by hand.)
  const on = await createLoop({ metrics: true });
  const off = await createLoop();
  let ran = 0;
  const task = () => ran++;
  const burstOn = (loop) => () =>
    new Promise((resolve) => {
      for (let i = 1; i < TASK_BURST; i++) loop.submit(task);
      loop.submit(() => {
        ran++;
        resolve();
      });
    });
  const subjects = [
    { name: "metrics: true", run: burstOn(on) },
    { name: "metrics off", run: burstOn(off) },
  ];
  const result = await compareThroughput(ctx, {
    label: `submit with metrics on/off, bursts of ${TASK_BURST}`,
    subjects,
    opsPerCall: TASK_BURST,
    reps,
    minCpuMs,
    unit: "ns/task",
  });
  const m = on.metrics();
  if (m.tasksExecuted === 0 || m.taskLatency.count === 0)
    throw new Error("metrics recorded nothing");
  on.close();
  off.close();
  return { subjects: result.subjects, ratio: result.ratio(1), recorded: m.taskLatency.count };
}

/**
 * Child: the loop's own task-latency histogram (metrics with latencyGroup 1: the clock is
 * read before every callback) over bursts of 16 tasks submitted from host tasks, read at
 * fine percentiles from the core's log-linear histogram.
 */
export async function latencyHistogram({ bursts, warmup }, ctx) {
  const { loop, core } = await createLoopWithCore({ metrics: { latencyGroup: 1 } });
  const burst = 16;
  const once = () =>
    new Promise((resolve) => {
      for (let i = 1; i < burst; i++) loop.submit(noop);
      loop.submit(resolve);
    });
  for (let i = 0; i < warmup; i++) {
    await hostTask();
    await once();
  }
  loop.resetMetrics();
  for (let i = 0; i < bursts; i++) {
    await hostTask();
    await once();
  }
  const summary = loop.metrics().taskLatency;
  // Percentiles 0.5, 1, ..., 99.5 and the tail: a quantile function, turned into a histogram by the chart.
  const percentiles = [];
  for (let p = 0.5; p < 100; p += 0.5) percentiles.push(p);
  percentiles.push(99.9, 99.99);
  const TASK_LATENCY = 0; // HistogramWhich.task_latency
  const quantiles = percentiles.map((p) => ({
    p,
    ms: core.zl_histogram_percentile(TASK_LATENCY, p),
  }));
  loop.close();
  ctx.progress(
    `task latency (metrics, latencyGroup 1): n=${summary.count} p50 ${formatNumber(summary.p50 * 1e6)} ns p99 ${formatNumber(summary.p99 * 1e6)} ns`,
  );
  return { summary, quantiles, burst, bursts };
}

async function metrics(ctx, rows, notes, extra) {
  // Many short rounds: the difference sought (a few %) is at this machine's noise floor.
  const reps = ctx.quick ? 2 : 15;
  const minCpuMs = ctx.quick ? 60 : 150;
  const r = await runIsolated(ctx, import.meta.url, "compareMetrics", { reps, minCpuMs });
  const [on, off] = r.subjects;
  const cost = on.nsPerOp / off.nsPerOp - 1;
  rows.push({
    benchmark: `metrics overhead: submit → run, bursts of ${TASK_BURST} (metrics: true vs off)`,
    zigloop: on.nsPerOp,
    peer: off.nsPerOp,
    peerName: "the same loop, metrics off",
    unit: "ns/task",
    ratio: r.ratio.median,
    ratioLabel: "faster",
    ratioRange: [r.ratio.min, r.ratio.max],
    goal: "< 5% cost (ratio ≥ 0.952)",
    goalRatio: 1 / 1.05,
    met: r.ratio.median >= 1 / 1.05,
  });
  notes.push(
    `Metrics overhead: two real-clock loops in one process, one with metrics: true (default latencyGroup 64), measured in ${reps} alternating rounds; median cost ${formatNumber(cost * 100)}% ` +
      `(per-round ratios ${formatNumber(r.ratio.min)}..${formatNumber(r.ratio.max)}); ${on.name} ${formatNumber(1e3 / on.nsPerOp)} M tasks/s (cv ${(on.cv * 100).toFixed(1)}%), ${off.name} ${formatNumber(1e3 / off.nsPerOp)} M tasks/s (cv ${(off.cv * 100).toFixed(1)}%).`,
  );

  const h = await runIsolated(ctx, import.meta.url, "latencyHistogram", {
    bursts: ctx.quick ? 2000 : 20000,
    warmup: ctx.quick ? 2000 : 20000,
  });
  extra.latencyHistogram = h;
  const s = h.summary;
  const ns = (ms) => formatNumber(ms * 1e6);
  notes.push(
    `Task latency as the loop's metrics record it (metrics: { latencyGroup: 1 }, bursts of ${h.burst} tasks submitted from ${h.bursts.toLocaleString("en-US")} host tasks, after as many warm-up bursts): ` +
      `n=${s.count}, min ${ns(s.min)}, p50 ${ns(s.p50)}, p90 ${ns(s.p90)}, p99 ${ns(s.p99)}, p99.9 ${ns(s.p999)}, max ${ns(s.max)} ns (mean ${ns(s.mean)} ns). ` +
      "The loop stamps a task's enqueue time with the loop time of the host task that submitted it (read once per host task) and its start with a clock read before it runs, so this includes the wait for the host's wake-up; charted in bench/results.svg.",
  );
}

export async function run(ctx) {
  const rows = [];
  const notes = [];
  const extra = {};
  const memoryRows = [];
  const memoryNotes = [];
  await memory(ctx, memoryRows, memoryNotes);
  await scaling(ctx, rows, notes);
  await metrics(ctx, rows, notes, extra);
  return { rows: [...rows, ...memoryRows], notes: [...notes, ...memoryNotes], extra };
}

export default { name, title, issue, run };
