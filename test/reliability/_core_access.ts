/**
 * Test-only access to a loop's WebAssembly instance, without a hook in src-ts: while a
 * loop is created, `WebAssembly.Instance` is replaced by a subclass that records the
 * instance and hands the loop a copy of its exports in which any export can be made to
 * trap (by calling the core's own `zl_debug_trap` first: a real trap of the real core).
 * Each call compiles its own module: loops take closed loops' cores from a pool per
 * module (src-ts/core/instance_pool.ts), and this one must be instantiated here.
 */
import { createEventLoopSync, type EventLoop, type EventLoopOptions } from "../../src-ts/node.ts";
import { coreBytes } from "./_helpers.ts";

export interface CoreAccess {
  loop: EventLoop;
  /** The module compiled for this loop (its own pool of closed cores). */
  module: WebAssembly.Module;
  /** The instance's linear memory. */
  memory: WebAssembly.Memory;
  /** The real exports (calling them bypasses the loop). */
  raw: Record<string, any>;
  /** Export names that trap on their next call (they stay armed until removed). */
  armed: Set<string>;
  /** Every export call the loop made, by name (counts). */
  calls: Map<string, number>;
  /** How many traps were injected. */
  trapsFired: number;
}

/**
 * Creates a loop whose core instance the test can reach (see the module comment).
 * `armAtCreate`: exports that trap already while the loop is being created.
 */
export function loopWithCoreAccess(
  options: EventLoopOptions = {},
  armAtCreate: string[] = [],
): CoreAccess {
  const Original = WebAssembly.Instance;
  const compiled = new WebAssembly.Module(coreBytes);
  let access: CoreAccess | undefined;
  class Recording extends Original {
    readonly #exports: Record<string, unknown>;
    constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
      super(module, imports);
      const raw = super.exports as Record<string, any>;
      const armed = new Set<string>(armAtCreate);
      const calls = new Map<string, number>();
      const wrapped: Record<string, unknown> = {};
      const state = { trapsFired: 0 };
      for (const [name, value] of Object.entries(raw)) {
        if (typeof value !== "function") {
          wrapped[name] = value;
          continue;
        }
        wrapped[name] = (...args: unknown[]) => {
          calls.set(name, (calls.get(name) ?? 0) + 1);
          if (armed.has(name)) {
            state.trapsFired++;
            raw.zl_debug_trap();
          }
          return value(...args);
        };
      }
      this.#exports = wrapped;
      access = {
        loop: undefined as unknown as EventLoop,
        module,
        memory: raw.memory,
        raw,
        armed,
        calls,
        get trapsFired() {
          return state.trapsFired;
        },
      };
    }
    override get exports(): any {
      return this.#exports;
    }
  }
  (WebAssembly as any).Instance = Recording;
  try {
    const loop = createEventLoopSync({ module: compiled, clock: "manual", ...options });
    access!.loop = loop;
    return access!;
  } finally {
    (WebAssembly as any).Instance = Original;
  }
}

/** Bytes per handle record in the core (`src-zig/handle_table.zig` `Record`). */
const RECORD_BYTES = 28;

/**
 * Finds the pointers to the core's handle records (the timer wheel's storage) in its
 * static data: the record of a timer whose deadline (in µs ticks) is `deadlineTicks` lies
 * in a slice `(ptr, len)` with `len` a power of two, stored as two u32 words. The handle
 * table and the timer wheel each hold one. Returns the byte offsets of those pointers.
 */
export function findTimerRecordsPointers(
  memory: WebAssembly.Memory,
  deadlineTicks: bigint,
): number[] {
  const bytes = memory.buffer.byteLength;
  const words = new Uint32Array(memory.buffer);
  const view = new DataView(memory.buffer);
  const recordAddresses: number[] = [];
  for (let at = 0; at + RECORD_BYTES <= bytes; at += 4) {
    if (view.getBigUint64(at, true) === deadlineTicks) recordAddresses.push(at);
  }
  const found: number[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    const ptr = words[i]!;
    const len = words[i + 1]!;
    if (ptr === 0 || len < 16 || (len & (len - 1)) !== 0) continue;
    const inside = recordAddresses.some(
      (at) => at >= ptr && at < ptr + len * RECORD_BYTES && (at - ptr) % RECORD_BYTES === 0,
    );
    if (inside) found.push(i * 4);
  }
  if (found.length === 0) throw new Error("timer records pointer not found in the core's memory");
  return found;
}
