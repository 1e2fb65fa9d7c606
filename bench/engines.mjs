#!/usr/bin/env node
// The timer-engine candidates through WebAssembly in Node, each against the 4-ary heap
// (the core's engine before the timer wheel), side by side in one fresh process.
//
//   node scripts/zig.mjs build bench-wasm           builds zig-out/bench/engine_*.wasm
//   node bench/engines.mjs                          every candidate, N = 1e3 .. 1e6, both shapes
//   node bench/engines.mjs --quick wheel 1e6 shared  fewer rounds; only those
//   node bench/engines.mjs base.wasm new.wasm       two builds of the whole core (raw exports:
//                                                   zl_timer_schedule, zl_timer_cancel, and
//                                                   zl_turn_start + zl_timers_collect + zl_turn_end)
//
// What it measures, per N (live timers, held constant) and shape:
//   schedule  one timer due in 1e7..2e7 ms (random) or in one of 4 durations (shared)
//   cancel    one random live timer
//   pair      schedule one 1000 ms timer and cancel it at once (setTimeout + clearTimeout)
//   fire      one timer of 1..8 ms: B of them are scheduled, time moves 9 ms, they are
//             collected in batches of 512, and the next deadline is read, as the host does
//             after every turn to arm its timer (schedule + collect, per timer)
// with B = min(4096, N/2) operations per timed block, as the scaling suite does through
// the whole host API. One call per timer crosses into the module, as the host's would;
// nothing else (no EventLoop, no mirror). Per round: 16 schedule blocks, each followed by
// a cancel block (so N is restored) and a pair block, then max(4, 8192 / B) fire blocks;
// per round the median block; warm-up rounds for at least 300 ms (V8 replaces the baseline
// code of a module's functions in the background), then 5. Each engine runs alone in a fresh
// process (two 1e6-timer instances side by side mostly measure how they evict each
// other's cache lines and TLB entries), base and candidate alternating, 4 times (2 with
// --quick). The table shows the median ns per timer and the candidate's speed-up over the
// base (median of the per-repetition ratios, lowest and highest). Prints Markdown.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatCount, formatNumber, median } from "./lib/harness.mjs";
import { runIsolated } from "./lib/isolate.mjs";
import { prng } from "./lib/timer_workloads.mjs";

const ENGINES = {
  heap: "heap (4-ary, before)",
  wheel: "wheel (core)",
  pairing: "pairing heap",
  durations: "per-duration lists",
};
const SIZES = [1e3, 1e4, 1e5, 1e6];
const SHAPES = ["random", "shared"];
const FAR_MIN = 10_000_000;
const FAR_SPAN = 10_000_000;
const FAR_SHARED = [10_000_000, 12_000_000, 15_000_000, 20_000_000];
const BLOCKS = 16;
const wasmDir = fileURLToPath(new URL("../zig-out/bench/", import.meta.url));

/** The four calls of an engine module, or of a whole core build behind its ABI. */
function engineCalls(kind, n, block) {
  if (kind.endsWith(".wasm")) return coreCalls(kind, n + block);
  const path = resolve(wasmDir, `engine_${kind}.wasm`);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {}).exports;
  if (ex.be_init(n + block) === 0) throw new Error(`${kind}: be_init failed`);
  return {
    name: ENGINES[kind],
    schedule: ex.be_schedule,
    cancel: ex.be_cancel,
    advance: ex.be_advance,
    collect: ex.be_collect,
    next: ex.be_next_deadline,
    len: ex.be_len,
  };
}

function coreCalls(path, timersMax) {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {}).exports;
  const status = ex.zl_init(timersMax, 1024, 1024, 1024);
  if (status !== 0) throw new Error(`${path}: zl_init returned ${status}`);
  const {
    zl_timer_schedule: schedule1,
    zl_timer_cancel: cancel,
    zl_turn_start: turnStart,
    zl_timers_collect: more,
    zl_turn_end: turnEnd,
  } = ex;
  let now = 0; // µs: the ABI's times are microseconds (ABI v3)
  let inTurn = false;
  return {
    name: path,
    schedule: (delay) => schedule1(delay, 0),
    cancel,
    advance(ms) {
      now += ms * 1000;
    },
    // The first call of a turn starts it; the call that comes back short ends it.
    collect() {
      const k = inTurn ? more(512) : turnStart(now, 512);
      inTurn = k === 512;
      if (!inTurn) turnEnd();
      return k;
    },
    next: ex.zl_timers_next_deadline,
    len: () => ex.zl_stat(0),
  };
}

function engineSubject(kind, n, shape, seed) {
  const block = Math.min(4096, n / 2);
  const { name, schedule, cancel, advance, collect, next, len } = engineCalls(kind, n, block);
  const random = prng(seed);
  const far =
    shape === "random"
      ? () => FAR_MIN + Math.floor(random() * FAR_SPAN)
      : () => FAR_SHARED[Math.floor(random() * 4)];
  const live = new Int32Array(n);
  for (let i = 0; i < n; i++) live[i] = schedule(far());
  const delays = new Int32Array(block);
  const victims = new Int32Array(block);
  const fresh = new Int32Array(block);
  return {
    name,
    block,
    len,
    scheduleAndCancel() {
      for (let i = 0; i < block; i++) {
        delays[i] = far();
        victims[i] = Math.floor(random() * n);
      }
      const t0 = performance.now();
      for (let i = 0; i < block; i++) fresh[i] = schedule(delays[i]);
      const t1 = performance.now();
      for (let i = 0; i < block; i++) {
        const v = victims[i];
        cancel(live[v]);
        live[v] = fresh[i];
      }
      const t2 = performance.now();
      for (let i = 0; i < block; i++) cancel(schedule(1000));
      const t3 = performance.now();
      return {
        schedule: ((t1 - t0) * 1e6) / block,
        cancel: ((t2 - t1) * 1e6) / block,
        pair: ((t3 - t2) * 1e6) / block,
      };
    },
    fire() {
      for (let i = 0; i < block; i++) delays[i] = 1 + Math.floor(random() * 8);
      const t0 = performance.now();
      for (let i = 0; i < block; i++) schedule(delays[i]);
      advance(9);
      let fired = 0;
      for (;;) {
        const k = collect();
        fired += k;
        if (k < 512) break;
      }
      next();
      const t1 = performance.now();
      if (fired !== block) throw new Error(`${kind}: fired ${fired} of ${block}`);
      return ((t1 - t0) * 1e6) / block;
    },
  };
}

/**
 * Child: one engine alone at one N and shape (two 1e6-timer instances in one process
 * mostly measure how they evict each other's cache lines and TLB entries). Returns the
 * median over rounds of each round's median block.
 */
export async function measureEngine({ kind, n, shape, rounds }) {
  const s = engineSubject(kind, n, shape, 0xe1);
  const results = { schedule: [], cancel: [], pair: [], fire: [] };
  // Warm up for at least 300 ms: V8 compiles the optimized tier of a module's functions in
  // the background, and at small N a few rounds end before it has replaced the baseline code.
  const warmUntil = performance.now() + 300;
  let warmup = 0;
  while (warmup < 2 || performance.now() < warmUntil) {
    for (let b = 0; b < BLOCKS; b++) s.scheduleAndCancel();
    for (let b = 0; b < Math.max(4, Math.ceil(8192 / s.block)); b++) s.fire();
    warmup++;
  }
  for (let round = 0; round < rounds; round++) {
    const blocks = [];
    for (let b = 0; b < BLOCKS; b++) blocks.push(s.scheduleAndCancel());
    const fires = [];
    for (let b = 0; b < Math.max(4, Math.ceil(8192 / s.block)); b++) fires.push(s.fire());
    for (const op of ["schedule", "cancel", "pair"])
      results[op].push(median(blocks.map((x) => x[op])));
    results.fire.push(median(fires));
  }
  if (s.len() !== n) throw new Error(`${s.name} holds ${s.len()} timers, expected ${n}`);
  return Object.fromEntries(Object.entries(results).map(([op, values]) => [op, median(values)]));
}

/** Base and candidate, each in its own fresh process, alternating `reps` times. */
async function compareEngines(ctx, { base, candidate, n, shape, reps }) {
  const rounds = 5;
  const runs = { base: [], candidate: [] };
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? ["base", "candidate"] : ["candidate", "base"];
    for (const which of order) {
      const kind = which === "base" ? base : candidate;
      runs[which].push(
        await runIsolated(ctx, import.meta.url, "measureEngine", { kind, n, shape, rounds }),
      );
    }
  }
  ctx.progress(`${candidate} vs ${base}, N=${formatCount(n)}, ${shape}: done`);
  const out = {};
  for (const op of ["schedule", "cancel", "pair", "fire"]) {
    const ratios = runs.base.map((b, i) => b[op] / runs.candidate[i][op]);
    out[op] = {
      heap: median(runs.base.map((r) => r[op])),
      candidate: median(runs.candidate.map((r) => r[op])),
      ratio: median(ratios),
      min: Math.min(...ratios),
      max: Math.max(...ratios),
    };
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (!args.some((a) => a.endsWith(".wasm")) && !existsSync(resolve(wasmDir, "engine_heap.wasm"))) {
    console.error("Build the engines first: node scripts/zig.mjs build bench-wasm");
    process.exit(2);
  }
  const quick = args.includes("--quick");
  const candidates = args.filter((a) => a in ENGINES && a !== "heap");
  const sizes = args.filter((a) => /^1e\d$/.test(a)).map(Number);
  const shapes = args.filter((a) => SHAPES.includes(a));
  const ctx = { progress: (message) => console.error(`[engines] ${message}`) };
  const builds = args.filter((a) => a.endsWith(".wasm")).map((p) => resolve(p));
  const pairs =
    builds.length === 2
      ? [[builds[0], builds[1]]]
      : (candidates.length ? candidates : ["wheel", "pairing", "durations"]).map((c) => [
          "heap",
          c,
        ]);
  for (const [base, candidate] of pairs) {
    console.log(
      `\n#### ${ENGINES[candidate] ?? candidate} vs ${ENGINES[base] ?? base}, through Wasm\n`,
    );
    console.log(
      "| N | shape | schedule: base / candidate (speed-up) | cancel | pair | fire |\n|---:|---|---|---|---|---|",
    );
    for (const n of sizes.length ? sizes : SIZES) {
      for (const shape of shapes.length ? shapes : SHAPES) {
        const r = await compareEngines(ctx, { base, candidate, n, shape, reps: quick ? 2 : 4 });
        const cell = (x) =>
          `${formatNumber(x.heap)} / ${formatNumber(x.candidate)} ns (**${x.ratio.toFixed(2)}x**, ${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
        console.log(
          `| ${formatCount(n)} | ${shape} | ${cell(r.schedule)} | ${cell(r.cancel)} | ${cell(r.pair)} | ${cell(r.fire)} |`,
        );
      }
    }
  }
}
