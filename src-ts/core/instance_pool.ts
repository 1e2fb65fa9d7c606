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
  ABI_CHECKSUM,
  ABI_VERSION,
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
/** A pooled core's closed microtask queue's job array (2,048 slots by default), for its next queue. */
const spareJobs = new WeakMap<CoreExports, unknown[]>();

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
export function giveBack(core: CoreExports, jobs?: unknown[]): boolean {
  const module = moduleOf.get(core);
  if (module === undefined) return false;
  let pool = pools.get(module);
  if (pool === undefined) pools.set(module, (pool = []));
  if (pool.length >= POOL_MAX || core.memory.buffer.byteLength > POOL_MAX_BYTES) return false;
  if (core.zl_reset() !== 0) return false;
  if (jobs !== undefined) spareJobs.set(core, jobs);
  pool.push(core);
  return true;
}

/** The job array that came back with `core` (see giveBack), once. */
export function takeSpareJobs(core: CoreExports): unknown[] | undefined {
  const jobs = spareJobs.get(core);
  if (jobs !== undefined) spareJobs.delete(core);
  return jobs;
}

/** How many cores are pooled for `module` (tests and metrics). */
export function pooledCount(module: object): number {
  return pools.get(module)?.length ?? 0;
}

const STAT_COUNT = Math.max(...Object.values(Stat)) + 1;
const WHICH = Object.values(HistogramWhich);
const FIELDS = Object.values(HistogramField);

/**
 * A stand-in for a closed core: every export answers what `core` answered when this was
 * made (statistics, histogram summaries at `percentiles`, the next and last deadline),
 * mutations answer `Status.closed` (`zl_timer_refresh`: `stale_handle`, as a closed
 * core's empty handle table does), `zl_verify` finds nothing (there is nothing left to
 * check), and nothing reaches `core` any more.
 */
export function frozenCore(core: CoreExports, percentiles: readonly number[]): CoreExports {
  return new FrozenCore(core, percentiles) as unknown as CoreExports;
}

/**
 * The answers live in fields and the methods on the prototype (made once, below): a
 * close allocates one object and two small arrays, not a closure per export.
 */
class FrozenCore {
  readonly memory: CoreMemory;
  readonly #stats: Float64Array;
  readonly #histograms: Float64Array;
  readonly #percentiles: readonly number[];
  readonly #ring: number;
  readonly #batches: number[];
  readonly #next: number;
  readonly #last: number;

  constructor(core: CoreExports, percentiles: readonly number[]) {
    const stats = new Float64Array(STAT_COUNT).fill(Number.NaN);
    for (const which of Object.values(Stat)) stats[which] = core.zl_stat(which);
    const per = FIELDS.length + percentiles.length;
    const histograms = new Float64Array(WHICH.length * per);
    for (const which of WHICH) {
      for (const field of FIELDS) histograms[which * per + field] = core.zl_histogram(which, field);
      percentiles.forEach((p, i) => {
        histograms[which * per + FIELDS.length + i] = core.zl_histogram_percentile(which, p);
      });
    }
    this.#stats = stats;
    this.#histograms = histograms;
    this.#percentiles = percentiles;
    this.#ring = core.zl_microtask_ring();
    this.#batches = [0, 1, 2, 3].map((batch) => core.zl_batch_ptr(batch));
    this.#next = core.zl_timers_next_deadline();
    this.#last = core.zl_timers_last_deadline();
    // Only its size is read once frozen (metrics' linearBytes); no view is made on it.
    const byteLength = core.memory.buffer.byteLength;
    this.memory = { buffer: { byteLength } as ArrayBuffer, grow: () => -1 };
  }

  zl_abi_version(): number {
    return ABI_VERSION;
  }
  zl_abi_checksum(): number {
    return ABI_CHECKSUM;
  }
  zl_init(): number {
    return Status.not_initialized;
  }
  zl_batch_ptr(batch: number): number {
    return this.#batches[batch] ?? 0;
  }
  zl_microtask_ring(): number {
    return this.#ring;
  }
  zl_timer_refresh(): number {
    return Status.stale_handle;
  }
  zl_timers_next_deadline(): number {
    return this.#next;
  }
  zl_timers_last_deadline(): number {
    return this.#last;
  }
  zl_close(): number {
    return 0;
  }
  zl_reset(): number {
    return 0;
  }
  zl_stat(which: number): number {
    return this.#stats[which] ?? Number.NaN;
  }
  zl_metrics_enable(): number {
    return 0;
  }
  zl_metrics_reset(): number {
    return 0;
  }
  zl_histogram(which: number, field: number): number {
    const per = FIELDS.length + this.#percentiles.length;
    return this.#histograms[which * per + field] ?? Number.NaN;
  }
  zl_histogram_percentile(which: number, p: number): number {
    const i = this.#percentiles.indexOf(p);
    const per = FIELDS.length + this.#percentiles.length;
    return i < 0 ? Number.NaN : (this.#histograms[which * per + FIELDS.length + i] ?? Number.NaN);
  }
  /** A closed core's structures are empty (zl_close cleared them, zl_reset zeroed them): nothing to find. */
  zl_verify(): number {
    return 0;
  }
  zl_debug_trap(): never {
    throw new WebAssembly.RuntimeError("unreachable");
  }
}

// Every other export is a mutation a closed core refuses.
for (const name of EXPORT_NAMES) {
  if (!Object.hasOwn(FrozenCore.prototype, name)) {
    Object.defineProperty(FrozenCore.prototype, name, {
      value: (): number => Status.closed,
      writable: false,
      enumerable: false,
      configurable: false,
    });
  }
}
