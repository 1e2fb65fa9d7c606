// Raw access to the zigloop core (wasm/zigloop.wasm) for core-level benchmarks:
// no EventLoop, no slot tables, just the exports of src-zig/abi.zig.
//
// The ABI constants (Stat, Batch, BATCH_CAPACITY) and the load-time ABI check come
// from the built host (dist/core/*, generated from the Zig side), so nothing here
// is kept in sync with Zig by hand. Run `npm run build` first.
//
// ZIGLOOP_BENCH_WASM=/path/to/other.wasm benchmarks another build of the core (for
// example a candidate change, or a ReleaseSafe build) with the same harness; its
// ABI must match dist/ (the load-time checksum check enforces that).

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = new URL("../../", import.meta.url);
/** The committed module, or another build to compare (ZIGLOOP_BENCH_WASM=path). */
export const wasmPath = process.env.ZIGLOOP_BENCH_WASM
  ? resolve(process.env.ZIGLOOP_BENCH_WASM)
  : fileURLToPath(new URL("wasm/zigloop.wasm", root));
const distAbi = new URL("dist/core/abi.generated.js", root);
const distCore = new URL("dist/core/instance.js", root);

if (!existsSync(distAbi) || !existsSync(distCore)) {
  throw new Error(
    "Cannot load the core bindings: dist/core/abi.generated.js is missing. Run `npm run build` before `npm run bench`.",
  );
}

export const abi = await import(distAbi.href);
const { instantiateSync } = await import(distCore.href);

export const wasmBytes = readFileSync(wasmPath);
export const wasmModule = new WebAssembly.Module(wasmBytes);

/**
 * A fresh core instance (each has its own linear memory) with an initialized loop.
 * Returns the exports and a view of the timers batch that follows memory growth.
 */
/** The exports the core suite's workloads call; enough for an A/B of two builds. */
const TIMER_EXPORTS = [
  "memory",
  "zl_init",
  "zl_batch_ptr",
  "zl_timer_schedule",
  "zl_timer_cancel",
  "zl_timers_collect",
  "zl_turn_end",
  "zl_timers_next_deadline",
  "zl_stat",
  "zl_verify",
];

/**
 * Instantiates `module` for an A/B comparison of two builds (bench/ab.mjs): only the
 * timer exports must exist, since the other build may predate or postdate dist/'s ABI.
 */
function instantiateForComparison(module) {
  const ex = new WebAssembly.Instance(module, {}).exports;
  const missing = TIMER_EXPORTS.filter((name) => !(name in ex));
  if (missing.length > 0)
    throw new Error(`This build lacks the timer exports ${missing.join(", ")}.`);
  return ex;
}

export function createCore({
  timersMax,
  tasksMax = 1024,
  microtasksMax = 1024,
  ringCapacity = 1024,
  module,
}) {
  const ex = module ? instantiateForComparison(module) : instantiateSync(wasmModule);
  const memoryBefore = ex.memory.buffer.byteLength;
  const status = ex.zl_init(timersMax, tasksMax, microtasksMax, ringCapacity);
  if (status !== 0)
    throw new Error(
      `zl_init(${timersMax}, ${tasksMax}, ${microtasksMax}, ${ringCapacity}) returned status ${status}`,
    );
  const batchPtr = ex.zl_batch_ptr(abi.Batch.timers);
  let buffer = ex.memory.buffer;
  let batch = new Uint32Array(buffer, batchPtr, abi.BATCH_CAPACITY);
  return {
    ex,
    memoryBefore,
    /** The timers batch; re-created when memory grew (the old buffer is detached). */
    timerBatch() {
      if (ex.memory.buffer !== buffer) {
        buffer = ex.memory.buffer;
        batch = new Uint32Array(buffer, batchPtr, abi.BATCH_CAPACITY);
      }
      return batch;
    },
    stat(which) {
      return ex.zl_stat(abi.Stat[which]);
    },
    verify() {
      const code = ex.zl_verify();
      if (code !== 0) throw new Error(`zl_verify() reported invariant ${code} broken`);
    },
  };
}
