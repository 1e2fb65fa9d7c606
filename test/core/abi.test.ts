/// <reference types="node" />
// The boundary between host and core: the module the host loads is the one it was
// generated against, and every status and batch behaves as abi.zig documents.
import { describe, expect, it } from "vitest";
import {
  ABI_CHECKSUM,
  ABI_VERSION,
  BATCH_CAPACITY,
  Batch,
  EXPORT_NAMES,
  Invariant,
  Stat,
  Status,
} from "../../src-ts/core/abi.generated.ts";
import { CoreMismatchError, checkInstance, instantiateSync } from "../../src-ts/core/instance.ts";
import { coreModule, rawCore } from "./helpers.ts";

describe("ABI", () => {
  it("the committed module matches the generated bindings (version, checksum, exports)", () => {
    const exports = instantiateSync(coreModule);
    expect(exports.zl_abi_version()).toBe(ABI_VERSION);
    expect(exports.zl_abi_checksum() >>> 0).toBe(ABI_CHECKSUM);
    const names = WebAssembly.Module.exports(coreModule).map((e) => e.name);
    for (const name of EXPORT_NAMES) expect(names).toContain(name);
  });

  it("a module with a different checksum is refused with a clear error", () => {
    const exports = instantiateSync(coreModule);
    const forged = { ...exports, zl_abi_checksum: () => (ABI_CHECKSUM ^ 1) >>> 0 };
    expect(() => checkInstance(forged)).toThrow(CoreMismatchError);
    expect(() => checkInstance(forged)).toThrow(/Rebuild with `npm run build:wasm`/);
  });

  it("a module without the core's exports is refused before instantiation", () => {
    // (module (func (export "zl_abi_version") (result i32) i32.const 1))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 18, 1, 14, 122, 108, 95,
      97, 98, 105, 95, 118, 101, 114, 115, 105, 111, 110, 0, 0, 10, 6, 1, 4, 0, 65, 1, 11,
    ]);
    const module = new WebAssembly.Module(bytes);
    expect(() => instantiateSync(module)).toThrow(CoreMismatchError);
    expect(() => instantiateSync(module)).toThrow(/missing exports zl_abi_checksum/);
  });

  it("a non-module is a TypeError that names what was passed", () => {
    expect(() => instantiateSync({} as WebAssembly.Module)).toThrow(TypeError);
    expect(() => instantiateSync(null as unknown as WebAssembly.Module)).toThrow(/got null/);
  });

  it("every export is called before init returns not_initialized, never traps", () => {
    const exports = new WebAssembly.Instance(coreModule, {}).exports as unknown as Record<
      string,
      Function
    >;
    for (const name of EXPORT_NAMES) {
      if (name === "zl_debug_trap" || name === "zl_init") continue;
      expect(() => exports[name]!(1, 1)).not.toThrow();
    }
    expect(exports.zl_timer_schedule!(1, 0)).toBe(Status.not_initialized);
  });

  it("init validates its options and cannot run twice", () => {
    const exports = new WebAssembly.Instance(coreModule, {}).exports as unknown as Record<
      string,
      Function
    >;
    expect(exports.zl_init!(100, 100, 100, 100)).toBe(Status.invalid_argument); // ring not a power of two
    expect(exports.zl_init!(0, 100, 100, 64)).toBe(Status.invalid_argument);
    expect(exports.zl_init!(100, 100, 100, 64)).toBe(0);
    expect(exports.zl_init!(100, 100, 100, 64)).toBe(Status.not_initialized);
  });
});

describe("core behaviour through the ABI", () => {
  it("a batch of due timers comes back in (deadline, start) order, in one call", () => {
    const core = rawCore();
    const ids = [30, 10, 20, 10, 0].map((delay) => core.zl_timer_schedule(delay, 0));
    core.zl_set_now(30_000); // µs
    expect(core.zl_turn_begin()).toBe(0);
    expect(core.zl_timers_collect(BATCH_CAPACITY)).toBe(5);
    const batch = new Uint32Array(
      core.memory.buffer,
      core.zl_batch_ptr(Batch.timers),
      BATCH_CAPACITY,
    );
    expect([...batch.subarray(0, 5)]).toEqual([ids[4], ids[1], ids[3], ids[2], ids[0]]);
    expect(core.zl_turn_end()).toBe(0);
    expect(core.zl_verify()).toBe(Invariant.ok);
  });

  it("stale and foreign ids are reported stale, never confused with live ones", () => {
    const core = rawCore();
    const id = core.zl_timer_schedule(5, 0);
    expect(core.zl_timer_cancel(id)).toBe(0);
    expect(core.zl_timer_cancel(id)).toBe(Status.stale_handle);
    const reused = core.zl_timer_schedule(5, 0);
    expect(reused).not.toBe(id);
    expect(core.zl_timer_cancel(0)).toBe(Status.stale_handle);
    expect(core.zl_timer_cancel(2 ** 31)).toBe(Status.stale_handle);
    const immediate = core.zl_immediate_push();
    expect(core.zl_timer_cancel(immediate)).toBe(Status.stale_handle); // wrong kind
    expect(core.zl_stat(Stat.handles_live)).toBe(2);
  });

  it("capacity exhaustion is a status, and the core keeps working", () => {
    const core = rawCore(4, 2, 2, 16);
    const ids = [1, 2, 3, 4].map(() => core.zl_timer_schedule(1, 0));
    expect(ids.every((id) => id > 0)).toBe(true);
    expect(core.zl_timer_schedule(1, 0)).toBe(Status.timers_full);
    expect(core.zl_timer_cancel(ids[0]!)).toBe(0);
    expect(core.zl_timer_schedule(1, 0)).toBeGreaterThan(0);
    expect(core.zl_task_push(1, 0)).toBe(0);
    expect(core.zl_task_push(2, 0)).toBe(0);
    expect(core.zl_task_push(3, 0)).toBe(Status.tasks_full);
    expect(core.zl_verify()).toBe(Invariant.ok);
  });

  it("linear memory grows inside schedule, and fresh views see the same data", () => {
    const core = rawCore(1 << 20);
    const before = core.memory.buffer;
    for (let i = 0; i < 200_000; i++) core.zl_timer_schedule(1000 + (i % 977), 0);
    expect(core.memory.buffer).not.toBe(before);
    expect(before.byteLength).toBe(0); // the old buffer is detached: hosts must refresh views
    core.zl_set_now(5_000_000); // µs
    core.zl_turn_begin();
    let fired = 0;
    let previous = -1;
    for (let count: number; (count = core.zl_timers_collect(BATCH_CAPACITY)) > 0; ) {
      const batch = new Uint32Array(core.memory.buffer, core.zl_batch_ptr(Batch.timers), count);
      fired += count;
      expect(batch[0]).not.toBe(previous);
      previous = batch[count - 1]!;
    }
    core.zl_turn_end();
    expect(fired).toBe(200_000);
    expect(core.zl_verify()).toBe(Invariant.ok);
  });

  it("a corrupted timer record is detected by zl_verify", () => {
    const core = rawCore();
    for (let i = 0; i < 50; i++) core.zl_timer_schedule(i, 0);
    expect(core.zl_timers_next_deadline()).toBe(0); // places the staged timers
    expect(core.zl_verify()).toBe(Invariant.ok);
    // Find the record of id 1 (deadline 0 ticks, seq 0, 0 ms; 28 bytes: deadline u64, id,
    // seq, delay, next, prev): it and id 2 (1 ms) are the near list, so its links name slot 2.
    const words = new Uint32Array(core.memory.buffer);
    let corrupted = false;
    for (let i = 0; i + 7 < words.length && !corrupted; i++) {
      const match =
        words[i] === 0 &&
        words[i + 1] === 0 &&
        words[i + 2] === 1 &&
        words[i + 3] === 0 &&
        words[i + 4] === 0;
      if (match && words[i + 5] === 2 && words[i + 6] === 2) {
        words[i] = 0xffffffff; // its deadline moves past the near list's horizon: order broken
        corrupted = true;
      }
    }
    expect(corrupted).toBe(true);
    expect(core.zl_verify()).toBe(Invariant.timer_heap);
  });

  it("a trap surfaces as a WebAssembly.RuntimeError", () => {
    const core = rawCore();
    expect(() => core.zl_debug_trap()).toThrow(WebAssembly.RuntimeError);
  });
});
