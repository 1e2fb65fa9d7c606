/**
 * The host's fast path over the core's shared microtask ring (microtask_queue.ts +
 * microtask_ring.zig): FIFO across ring and overflow, views surviving memory growth,
 * capacity below the ring size, and the core's invariants after each scenario.
 */
import { describe, expect, it } from "vitest";
import { Stat } from "../../src-ts/core/abi.generated.ts";
import { CapacityError, createEventLoop } from "../../src-ts/node.ts";

describe("shared microtask ring", () => {
  it("keeps FIFO order when jobs overflow the ring and are refilled, with jobs queued while draining", async () => {
    const loop = await createEventLoop({ clock: "manual", capacity: { microtaskRing: 16 } });
    const order: number[] = [];
    let next = 0;
    const expected: number[] = [];
    const job = (n: number) => () => {
      order.push(n);
      // Every 7th job queues two more while the queue is partly in the overflow.
      if (n % 7 === 0 && next < 2000) {
        for (let k = 0; k < 2; k++) {
          const m = next++;
          expected.push(m);
          loop.queueMicrotask(job(m));
        }
      }
    };
    loop.submit(() => {
      for (let i = 0; i < 100; i++) {
        const m = next++;
        expected.push(m);
        loop.queueMicrotask(job(m));
      }
    });
    loop.runUntilIdle();
    expect(order).toEqual(expected);
    expect(loop.verifyCore()).toBe(0);
    expect(loop.coreStat(Stat.microtasks_queued)).toBe(0);
  });

  it("the fast path keeps working after linear memory grows under it", async () => {
    const loop = await createEventLoop({ clock: "manual", capacity: { microtaskRing: 16 } });
    const order: number[] = [];
    loop.submit(() => {
      for (let i = 0; i < 50; i++) {
        loop.queueMicrotask(() => order.push(i));
        // Each batch of timers grows memory (the handle table doubles), detaching old views.
        for (let k = 0; k < 2000; k++) loop.setTimeout(() => {}, 1_000_000);
      }
    });
    loop.runUntilIdle();
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(loop.verifyCore()).toBe(0);
  });

  it("capacity.microtasks below the ring size is enforced on the fast path, and the loop recovers", async () => {
    const loop = await createEventLoop({
      clock: "manual",
      capacity: { microtasks: 10, microtaskRing: 64 },
    });
    let ran = 0;
    let error: unknown;
    loop.submit(() => {
      try {
        for (let i = 0; i < 11; i++) loop.queueMicrotask(() => ran++);
      } catch (e) {
        error = e;
      }
    });
    loop.runUntilIdle();
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).capacity).toBe("microtasks");
    expect(ran).toBe(10);
    loop.queueMicrotask(() => ran++);
    loop.runUntilIdle();
    expect(ran).toBe(11);
    expect(loop.verifyCore()).toBe(0);
  });

  it("close drops queued jobs on both sides and reports them", async () => {
    const loop = await createEventLoop({ clock: "manual", capacity: { microtaskRing: 16 } });
    for (let i = 0; i < 40; i++) loop.queueMicrotask(() => {});
    expect(loop.pending.microtasks).toBe(40);
    expect(loop.close().droppedMicrotasks).toBe(40);
  });
});
