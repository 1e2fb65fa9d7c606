/**
 * Reusing closed loops' cores (src-ts/core/instance_pool.ts): a loop that closes gives its
 * core to the next loop of the same module, and keeps a frozen stand-in. The promise that
 * must hold: a closed loop affects no other loop, whatever is called on it afterwards,
 * and a reused core behaves like a new one.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Stat } from "../../src-ts/core/abi.generated.ts";
import { pooledCount } from "../../src-ts/core/instance_pool.ts";
import {
  CoreTrapError,
  createEventLoopSync,
  type EventLoop,
  LoopClosedError,
} from "../../src-ts/node.ts";
import { loopWithCoreAccess } from "../reliability/_core_access.ts";

const bytes = readFileSync(new URL("../../wasm/zigloop.wasm", import.meta.url));
/** Each test its own module, so each has its own pool. */
const freshModule = () => new WebAssembly.Module(bytes);

const STATS = Object.values(Stat).filter((s) => s !== Stat.now_us);

function stats(loop: EventLoop): number[] {
  return STATS.map((s) => loop.coreStat(s));
}

/** Some of everything, on a manual-clock loop; returns what ran, in order. */
function workload(loop: EventLoop): string[] {
  const log: string[] = [];
  loop.setTimeout(() => log.push("timeout 10"), 10);
  const every = loop.setInterval(() => {
    log.push("interval 4");
    if (loop.now() >= 12) loop.clearInterval(every);
  }, 4);
  loop.setImmediate(() => log.push("immediate"));
  loop.submit(() => {
    log.push("task");
    for (let i = 0; i < 2000; i++) loop.queueMicrotask(() => {}); // past the ring
    loop.Promise.resolve("promise").then((v) => log.push(v));
  });
  loop.runAll();
  return log;
}

describe("a closed loop's core goes to the next loop", () => {
  it("the next loop of the same module takes it, and runs exactly like a loop on a new core", () => {
    const module = freshModule();
    const fresh = createEventLoopSync({ module, clock: "manual", metrics: true });
    const freshLog = workload(fresh);
    const freshStats = stats(fresh);
    expect(pooledCount(module)).toBe(0);
    fresh.close();
    expect(pooledCount(module)).toBe(1);
    const reused = createEventLoopSync({ module, clock: "manual", metrics: true });
    expect(pooledCount(module)).toBe(0);
    expect(reused.coreStat(Stat.timers_scheduled)).toBe(0); // nothing left from before
    expect(reused.verifyCore()).toBe(0);
    expect(workload(reused)).toEqual(freshLog);
    expect(stats(reused)).toEqual(freshStats);
    reused.close();
  });

  it("whatever the closed loop is asked afterwards, it answers as before and the new owner is untouched", () => {
    const module = freshModule();
    const old = createEventLoopSync({ module, clock: "manual", metrics: true });
    workload(old);
    old.close();
    const closedMetrics = old.metrics();
    const closedStats = stats(old);
    const owner = createEventLoopSync({ module, clock: "manual" });
    expect(pooledCount(module)).toBe(0); // the owner has the old loop's core
    const fired: number[] = [];
    for (let i = 1; i <= 5; i++) owner.setTimeout(() => fired.push(i), i * 10);
    for (let i = 0; i < 3; i++) owner.queueMicrotask(() => fired.push(100 + i)); // in its ring
    const ownerBefore = stats(owner);

    // Every way of poking the closed loop.
    expect(old.metrics()).toEqual(closedMetrics);
    expect(stats(old)).toEqual(closedStats);
    expect(old.verifyCore()).toBe(0);
    expect(old.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    expect(old.pending).toMatchObject({ timers: 0, immediates: 0, tasks: 0, microtasks: 0 });
    expect(() => old.setTimeout(() => {}, 1)).toThrow(LoopClosedError);
    expect(() => old.setImmediate(() => {})).toThrow(LoopClosedError);
    expect(() => old.queueMicrotask(() => {})).toThrow(LoopClosedError);
    expect(() => old.submit(() => {})).toThrow(LoopClosedError);
    old.clearTimeout(1);
    old.clearInterval(2);
    old.clearImmediate(3);
    old.resetMetrics();
    try {
      old.advance(100);
    } catch (error) {
      expect(error).toBeInstanceOf(LoopClosedError);
    }
    try {
      old.runUntilIdle();
    } catch (error) {
      expect(error).toBeInstanceOf(LoopClosedError);
    }
    expect(old.close().cancelledTimers).toBe(closedMetrics.queue.timers.current);

    expect(stats(owner)).toEqual(ownerBefore);
    expect(owner.verifyCore()).toBe(0);
    owner.advance(50);
    expect(fired).toEqual([100, 101, 102, 1, 2, 3, 4, 5]);
    owner.close();
  });

  it("a closed loop's promises still settle (on the host's queue) without touching the core", async () => {
    const module = freshModule();
    const old = createEventLoopSync({ module, clock: "manual" });
    const { promise, resolve } = old.Promise.withResolvers<string>();
    old.close();
    const owner = createEventLoopSync({ module, clock: "manual" });
    const before = stats(owner);
    resolve("settled");
    await expect(promise).resolves.toBe("settled");
    expect(stats(owner)).toEqual(before);
    owner.close();
  });

  it("jobs dropped at close never reach the next loop, nor their arguments", () => {
    const module = freshModule();
    const old = createEventLoopSync({ module, clock: "manual" });
    const ran: string[] = [];
    for (let i = 0; i < 5; i++) old.queueMicrotask(() => ran.push(`old ${i}`));
    old.Promise.resolve("old value").then((v) => ran.push(String(v)));
    expect(old.close().droppedMicrotasks).toBe(6);
    const next = createEventLoopSync({ module, clock: "manual" });
    expect(pooledCount(module)).toBe(0);
    // Same ring positions as the dropped jobs; a job without an argument must get none.
    for (let i = 0; i < 6; i++) {
      next.queueMicrotask(function (this: unknown, ...args: unknown[]) {
        ran.push(`next ${i} (${args.length} args)`);
      });
    }
    next.runUntilIdle();
    expect(ran).toEqual(Array.from({ length: 6 }, (_, i) => `next ${i} (0 args)`));
    next.close();
  });

  it("a core that trapped is never reused; one that did not is", () => {
    const trapped = loopWithCoreAccess();
    trapped.armed.add("zl_timer_schedule");
    expect(() => trapped.loop.setTimeout(() => {}, 5)).toThrow(CoreTrapError);
    trapped.loop.close();
    expect(pooledCount(trapped.module)).toBe(0);
    const sound = loopWithCoreAccess();
    sound.loop.setTimeout(() => {}, 5);
    sound.loop.close();
    expect(pooledCount(sound.module)).toBe(1);
  });

  it("the pool keeps at most 16 cores per module, and no core whose memory grew past 256 KiB", () => {
    const module = freshModule();
    const loops = Array.from({ length: 20 }, () =>
      createEventLoopSync({ module, clock: "manual" }),
    );
    for (const loop of loops) loop.close();
    expect(pooledCount(module)).toBe(16);
    const taken = Array.from({ length: 16 }, () =>
      createEventLoopSync({ module, clock: "manual" }),
    );
    expect(pooledCount(module)).toBe(0);
    const big = taken[0]!;
    for (let i = 0; i < 50_000; i++) big.setTimeout(() => {}, 1000); // grows linear memory
    expect(big.metrics().memory.linearBytes).toBeGreaterThan(256 * 1024);
    for (const loop of taken) loop.close();
    expect(pooledCount(module)).toBe(15);
  });
});
