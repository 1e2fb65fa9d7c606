// Suite "core" (issue 2): the Zig core's timer engine (the timer wheel since issue 15)
// against two plain-JS heaps, garbage collections caused by core operations, the size
// of zigloop.wasm and the linear memory each pending timer costs. Everything drives the
// raw exports of wasm/zigloop.wasm (bench/lib/core.mjs); the host (EventLoop) is not
// involved.
// What each benchmark measures and why: docs/BENCHMARKS.md.

import { basename } from "node:path";
import { gzipSync } from "node:zlib";
import { createCore, wasmBytes, wasmPath } from "../lib/core.mjs";
import {
  compareThroughput,
  countGcs,
  formatBytes,
  formatCount,
  formatNumber,
  roundRatios,
  speedNote,
} from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { ObjectTimerHeap, TypedTimerHeap } from "../lib/js_heaps.mjs";
import {
  coreSubject,
  crossCheck,
  DUE_PER_TURN,
  makeStreams,
  objectSubject,
  typedSubject,
} from "../lib/timer_workloads.mjs";

export const name = "core";
export const title = "core timer engine, GC and size";
export const issue = 2;

const SIZES = [1e3, 1e5, 1e6];
const WASM_SIZE_GOAL_BYTES = 32 * 1024;
const GC_OPS = 1e6;
const GC_LIVE = 1e3;
/**
 * Bytes per handle-table slot in the core: a 28-byte handle record (key, delay, the timer
 * wheel's two links) and its bit in the occupancy bitmap (src-zig/handle_table.zig).
 */
const CORE_SLOT_BYTES = 28 + 1 / 8;

const WORKLOADS = [
  { key: "holdTurns", label: `push + pop-min, turns of ~${DUE_PER_TURN} due` },
  { key: "holdStrict", label: "push + pop-min, 1 due per turn" },
  { key: "cancel", label: "push + cancel random live" },
];

/** Guards against dead-code elimination and checks the subjects ended where they started. */
function checkSubject(subject, n) {
  subject.verify();
  if (subject.size() !== n)
    throw new Error(
      `${subject.name}: ${subject.size()} timers pending after the benchmark, expected ${n}`,
    );
}

/**
 * One side-by-side comparison (a workload at one N), run in a child process by
 * `throughput` (see bench/lib/isolate.mjs for why). Returns plain data.
 */
export async function compareWorkload({ n, workloadKey, label, reps, minCpuMs, opsPerCall }, ctx) {
  const streams = makeStreams(n);
  ctx.progress(
    `${label}: filling three structures with ${formatCount(n)} timers and settling (${formatCount(n)} untimed ops each)`,
  );
  const subjects = [coreSubject, typedSubject, objectSubject].map((make) => {
    const subject = make(n, streams, workloadKey);
    subject.run(n); // one full turnover: reach the workload's steady state before timing
    checkSubject(subject, n);
    return subject;
  });
  const result = await compareThroughput(ctx, { label, subjects, opsPerCall, reps, minCpuMs });
  subjects.forEach((subject) => {
    checkSubject(subject, n);
  });
  return {
    subjects: result.subjects,
    ratios: roundRatios(result, subjects.length),
    turnDelayMaxMs: streams.turnDelayMaxMs,
  };
}

async function throughput(ctx, rows, notes) {
  // Many short rounds rather than a few long ones: the two measurements a ratio is
  // made of are closer in time, so bursts of load from other processes hit both.
  const reps = ctx.quick ? 2 : 7;
  const minCpuMs = ctx.quick ? 60 : 200;
  const opsPerCall = 8192;
  for (const n of SIZES) {
    for (const workload of WORKLOADS) {
      const label = `${workload.label}, N=${formatCount(n)}`;
      const args = { n, workloadKey: workload.key, label, reps, minCpuMs, opsPerCall };
      const result = await runIsolated(ctx, import.meta.url, "compareWorkload", args);
      const [core] = result.subjects;
      for (let peer = 1; peer < result.subjects.length; peer++) {
        const ratio = result.ratios[peer];
        rows.push({
          benchmark: label,
          zigloop: core.nsPerOp,
          peer: result.subjects[peer].nsPerOp,
          peerName: result.subjects[peer].name,
          unit: "ns/op",
          ratio: ratio.median,
          ratioLabel: "faster",
          ratioRange: [ratio.min, ratio.max],
          goal: null,
          met: null,
        });
      }
      notes.push(
        speedNote(label, result) +
          (workload.key === "holdTurns" ? `; delays 1..${result.turnDelayMaxMs} ms` : ""),
      );
    }
  }
}

async function garbage(ctx, rows, notes) {
  const ops = ctx.quick ? GC_OPS / 10 : GC_OPS;
  const streams = makeStreams(GC_LIVE);
  for (const workload of [
    { key: "cancel", label: "schedule + cancel" },
    { key: "holdTurns", label: "schedule + collect" },
  ]) {
    const counts = [];
    for (const make of [coreSubject, typedSubject, objectSubject]) {
      const subject = make(GC_LIVE, streams, workload.key);
      // Warm-up: many calls, so V8 optimizes the driver as a whole (not only by
      // on-stack replacement) before counting; interpreted code may box numbers.
      for (let i = 0; i < 20; i++) subject.run(5000);
      const gcs = await countGcs(() => subject.run(ops));
      checkSubject(subject, GC_LIVE);
      counts.push({ name: subject.name, ...gcs });
      ctx.progress(
        `GCs during ${formatCount(ops)} ${workload.label} pairs, ${subject.name}: ${gcs.minor} minor, ${gcs.major} major, ${gcs.incremental} incremental (${formatNumber(gcs.gcMs)} ms in GC, ${formatNumber(gcs.ms)} ms total)`,
      );
    }
    const [core] = counts;
    for (const peer of counts.slice(1)) {
      // A ratio only when both counted some; "0 vs 4" says more than "infinitely fewer".
      const both = core.minor > 0 && peer.minor > 0;
      rows.push({
        benchmark: `minor GCs during ${formatCount(ops)} ${workload.label} pairs (${formatCount(GC_LIVE)} pending)`,
        zigloop: core.minor,
        peer: peer.minor,
        peerName: peer.name,
        unit: "scavenges",
        ratio: both ? peer.minor / core.minor : null,
        ratioLabel: "fewer GCs",
        ratioText: both
          ? undefined
          : core.minor === peer.minor
            ? "same (0)"
            : `${core.minor} vs ${peer.minor}`,
        goal: "0",
        goalValue: 0,
        goalValueOf: core.minor,
        goalUnit: "scavenges",
        goalDirection: "max",
        met: core.minor === 0,
      });
    }
    notes.push(
      `GCs during ${formatCount(ops)} ${workload.label} pairs: ` +
        counts
          .map(
            (c) =>
              `${c.name} ${c.minor} minor / ${c.major} major / ${c.incremental} incremental, ${formatNumber(c.gcMs)} ms in GC`,
          )
          .join("; "),
    );
  }
}

/**
 * V8 heap bytes that an ObjectTimerHeap holding `n` timers keeps alive, measured
 * between full GCs. Small heaps are built many times over (10^6 timers in all) so
 * the V8 heap's own fluctuations (hundreds of KiB) average out. A function of its
 * own, so nothing from an earlier measurement stays reachable from its frame.
 */
function objectHeapBytes(n) {
  const copies = Math.max(1, Math.round(1e6 / n));
  globalThis.gc();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  let heaps = [];
  for (let c = 0; c < copies; c++) {
    const heap = new ObjectTimerHeap();
    for (let i = 0; i < n; i++) heap.schedule(1 + (i % 100_000));
    heaps.push(heap);
  }
  globalThis.gc();
  globalThis.gc();
  const bytes = (process.memoryUsage().heapUsed - before) / copies;
  if (heaps.some((heap) => heap.len !== n)) throw new Error("object heap lost timers");
  heaps = null;
  return bytes;
}

function sizeAndMemory(ctx, rows, notes) {
  const gzip = gzipSync(wasmBytes, { level: 9 }).length;
  rows.push({
    benchmark: `size of ${process.env.ZIGLOOP_BENCH_WASM ? basename(wasmPath) : "wasm/zigloop.wasm"}`,
    zigloop: wasmBytes.length,
    zigloopText: `${formatBytes(wasmBytes.length)} (${wasmBytes.length.toLocaleString("en-US")} B)`,
    peer: null,
    peerName: null,
    unit: "B",
    ratio: null,
    ratioLabel: "smaller",
    goal: "< 32 KiB (32,768 B)",
    goalValue: WASM_SIZE_GOAL_BYTES,
    goalValueOf: wasmBytes.length,
    goalUnit: "B",
    goalDirection: "max",
    met: wasmBytes.length < WASM_SIZE_GOAL_BYTES,
  });
  notes.push(
    `wasm/zigloop.wasm: ${wasmBytes.length.toLocaleString("en-US")} B, ${gzip.toLocaleString("en-US")} B gzipped (level 9).`,
  );

  for (const n of SIZES) {
    // zigloop: linear memory growth and the core's own accounting, from an initialized
    // empty loop to n pending timers.
    const core = createCore({ timersMax: n });
    const memory0 = core.ex.memory.buffer.byteLength;
    const arena0 = core.stat("arena_bytes");
    for (let i = 0; i < n; i++) {
      if (core.ex.zl_timer_schedule(1 + (i % 100_000), 0) < 0)
        throw new Error("zl_timer_schedule failed");
    }
    core.verify();
    const memoryGrowth = core.ex.memory.buffer.byteLength - memory0;
    const arenaGrowth = core.stat("arena_bytes") - arena0;
    const capacity = core.stat("handles_capacity");
    const structural = (capacity * CORE_SLOT_BYTES) / n;

    const objectBytes = objectHeapBytes(n);
    const typed = new TypedTimerHeap();
    for (let i = 0; i < n; i++) typed.schedule(1 + (i % 100_000));

    const perTimer = memoryGrowth / n;
    rows.push({
      benchmark: `core only: Wasm memory growth per pending timer, N=${formatCount(n)} (the ≤ 32 B goal is on the full stack, suite scaling)`,
      zigloop: perTimer,
      peer: objectBytes / n,
      peerName: "js object binary, V8 heap",
      unit: "B",
      ratio: objectBytes / n / perTimer,
      ratioLabel: "less memory",
      goal: null,
      met: null,
    });
    rows.push({
      benchmark: `core only: structural bytes per pending timer, N=${formatCount(n)}`,
      zigloop: structural,
      peer: typed.bytes / n,
      peerName: "js typed 4-ary, typed arrays",
      unit: "B",
      ratio: typed.bytes / n / structural,
      ratioLabel: "less memory",
      goal: null,
      met: null,
    });
    notes.push(
      `N=${formatCount(n)}: handle capacity ${capacity.toLocaleString("en-US")} slots (fill ${formatNumber((100 * n) / capacity)}%) × ${CORE_SLOT_BYTES} B = ` +
        `${formatNumber(structural)} B/timer; arena grew ${formatBytes(arenaGrowth)} (${formatNumber(arenaGrowth / n)} B/timer), ` +
        `memory.buffer grew ${formatBytes(memoryGrowth)} (${formatNumber(perTimer)} B/timer, in 64 KiB pages) to ${formatBytes(core.ex.memory.buffer.byteLength)} in all; ` +
        `js typed ${typed.capacity.toLocaleString("en-US")} slots × 24 B; js object heap ${formatNumber(objectBytes / n)} B/timer on the V8 heap.`,
    );
    ctx.progress(
      `memory, N=${formatCount(n)}: zigloop ${formatNumber(perTimer)} B/timer growth, ${formatNumber(structural)} B/timer structural; js object ${formatNumber(objectBytes / n)} B/timer`,
    );
  }
}

export async function run(ctx) {
  const speed = [];
  const gcs = [];
  const memory = [];
  const notes = [];
  ctx.progress(
    "correctness: the core and both JS heaps must fire the same timers in the same order",
  );
  for (const seed of [1, 2, 3]) {
    const check = crossCheck(seed);
    ctx.progress(
      `  seed ${seed}: ${check.ops} random ops, ${check.created} timers, ${check.fired} fired in ${check.turns} turns: identical order`,
    );
  }
  notes.push(
    "Before timing, a seeded random mix of schedule / cancel / stale cancel / advance-and-collect (20,000 ops, 3 seeds, frequent equal deadlines) must pop the same timers in the same order from all three implementations, and every structure's verify() must pass.",
  );

  // Footprints and GC counts first, on a fresh process heap; then the timings.
  // Rows and notes are reported in the order speed, GC, size and memory.
  const memoryNotes = [];
  const gcNotes = [];
  const speedNotes = [];
  sizeAndMemory(ctx, memory, memoryNotes);
  await garbage(ctx, gcs, gcNotes);
  await throughput(ctx, speed, speedNotes);
  return {
    rows: [...speed, ...gcs, ...memory],
    notes: [...notes, ...speedNotes, ...gcNotes, ...memoryNotes],
  };
}

export default { name, title, issue, run };
