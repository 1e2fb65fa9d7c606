/**
 * Reusing the cores of closed loops. Instantiating the core costs ~90 µs on Node 20
 * (a fresh linear memory and 38 export wrappers: `new WebAssembly.Instance` is half of
 * creating a loop), while a closed core made like new (`zl_reset`: the memory above the
 * static data zeroed, `zl_init` allowed again) costs a few µs. So a loop that closes
 * cleanly gives its core back here, and the next loop created from the same compiled
 * module takes it.
 *
 * Isolation: the closed loop must never reach the core again, since another loop now
 * owns it. Before giving it back, the loop moves every holder of the core (bridge,
 * microtask queue, metrics) onto a frozen stand-in (`frozenCore`) that answers exactly
 * what the closed core answered at that moment (statistics, histograms, "closed" for
 * every mutation), so the closed loop behaves as before and touches nothing shared.
 * A core that trapped is never reused.
 *
 * @module
 */

import {
  type CoreExports,
  type CoreMemory,
  EXPORT_NAMES,
  HistogramField,
  HistogramWhich,
  Stat,
  Status,
} from "./abi.generated.ts";

/** Cores kept per module: enough for a burst of requests, bounded for memory (64 KiB+ each). */
const POOL_MAX = 16;
/** Larger cores are dropped instead: zeroing them would cost more than a new instance. */
const POOL_MAX_BYTES = 256 * 1024;

const pools = new WeakMap<object, CoreExports[]>();
const moduleOf = new WeakMap<CoreExports, object>();

/** Remembers which module `core` was instantiated from (so it can return to that pool). */
export function adopt(core: CoreExports, module: object): CoreExports {
  moduleOf.set(core, module);
  return core;
}

/** A reset core of `module`, if one is pooled. */
export function takeCore(module: object): CoreExports | undefined {
  return pools.get(module)?.pop();
}

/**
 * Gives a closed core back for reuse. Returns whether it was pooled (a full pool, a
 * large memory, or a refused reset drop it: it is then collected with its loop).
 * The caller has moved every holder off `core` first.
 */
export function giveBack(core: CoreExports): boolean {
  const module = moduleOf.get(core);
  if (module === undefined) return false;
  let pool = pools.get(module);
  if (pool === undefined) pools.set(module, (pool = []));
  if (pool.length >= POOL_MAX || core.memory.buffer.byteLength > POOL_MAX_BYTES) return false;
  if (core.zl_reset() !== 0) return false;
  pool.push(core);
  return true;
}

/** How many cores are pooled for `module` (tests and metrics). */
export function pooledCount(module: object): number {
  return pools.get(module)?.length ?? 0;
}

/**
 * A stand-in for a closed core: every export answers what `core` answered when this was
 * made (statistics, histogram summaries at `percentiles`, the next and last deadline,
 * `zl_verify`), mutations answer `Status.closed` (`zl_timer_refresh`: `stale_handle`, as
 * a closed core's empty handle table does), and nothing reaches `core` any more.
 */
export function frozenCore(core: CoreExports, percentiles: readonly number[]): CoreExports {
  const stats = new Map<number, number>();
  for (const value of Object.values(Stat)) stats.set(value, core.zl_stat(value));
  const histograms = new Map<string, number>();
  for (const which of Object.values(HistogramWhich)) {
    for (const field of Object.values(HistogramField)) {
      histograms.set(`${which}:${field}`, core.zl_histogram(which, field));
    }
    for (const p of percentiles) {
      histograms.set(`${which}:p${p}`, core.zl_histogram_percentile(which, p));
    }
  }
  const answers: Record<string, unknown> = {};
  for (const name of EXPORT_NAMES) answers[name] = (): number => Status.closed;
  const verified = core.zl_verify();
  const version = core.zl_abi_version();
  const checksum = core.zl_abi_checksum();
  const ringAddress = core.zl_microtask_ring();
  const batches = [0, 1, 2, 3].map((batch) => core.zl_batch_ptr(batch));
  const nextDeadline = core.zl_timers_next_deadline();
  const lastDeadline = core.zl_timers_last_deadline();
  const memory: CoreMemory = {
    // Only its size is read once frozen (metrics' linearBytes); no view is made on it.
    buffer: { byteLength: core.memory.buffer.byteLength } as ArrayBuffer,
    grow: () => -1,
  };
  Object.assign(answers, {
    memory,
    zl_abi_version: () => version,
    zl_abi_checksum: () => checksum,
    zl_init: () => Status.not_initialized,
    zl_batch_ptr: (batch: number) => batches[batch] ?? 0,
    zl_microtask_ring: () => ringAddress,
    zl_timer_refresh: () => Status.stale_handle,
    zl_timers_next_deadline: () => nextDeadline,
    zl_timers_last_deadline: () => lastDeadline,
    zl_close: () => 0,
    zl_reset: () => 0,
    zl_stat: (which: number) => stats.get(which) ?? Number.NaN,
    zl_metrics_enable: () => 0,
    zl_metrics_reset: () => 0,
    zl_histogram: (which: number, field: number) =>
      histograms.get(`${which}:${field}`) ?? Number.NaN,
    zl_histogram_percentile: (which: number, p: number) =>
      histograms.get(`${which}:p${p}`) ?? Number.NaN,
    zl_verify: () => verified,
    zl_debug_trap: () => {
      throw new WebAssembly.RuntimeError("unreachable");
    },
  });
  return Object.freeze(answers) as unknown as CoreExports;
}
