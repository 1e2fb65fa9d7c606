/**
 * The host's fast path over the core's shared microtask ring (microtask_queue.ts +
 * microtask_ring.zig): FIFO across ring and overflow, views surviving memory growth,
 * capacity below the ring size, and the core's invariants after each scenario.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Stat, Status } from "../../src-ts/core/abi.generated.ts";
import { instantiateSync } from "../../src-ts/core/instance.ts";
import { MicrotaskQueue } from "../../src-ts/core/microtask_queue.ts";
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

  it("bursts past the ring go to the core in batches: FIFO with promise jobs, counted while staged", async () => {
    const loop = await createEventLoop({ clock: "manual", capacity: { microtaskRing: 16 } });
    const order: string[] = [];
    const expected: string[] = [];
    let queuedMidway = -1;
    let coreCountMidway = -1;
    loop.submit(() => {
      for (let i = 0; i < 5000; i++) {
        expected.push(`q${i}`);
        loop.queueMicrotask(() => {
          order.push(`q${i}`);
          if (i === 2500) {
            queuedMidway = loop.pending.microtasks;
            coreCountMidway = loop.coreStat(Stat.microtasks_queued); // flushes the staged jobs
          }
        });
        if (i % 100 === 0) {
          expected.push(`p${i}`);
          loop.Promise.resolve().then(() => order.push(`p${i}`));
        }
      }
      expect(loop.pending.microtasks).toBe(5050);
    });
    loop.runUntilIdle();
    expect(order).toEqual(expected);
    // Job 2500 ran after 2500 + 26 others: 2524 were still queued, all of them in the core's count.
    expect(queuedMidway).toBe(5050 - 2526);
    expect(coreCountMidway).toBe(queuedMidway);
    expect(loop.metrics().queue.microtasks.max).toBeGreaterThanOrEqual(5050);
    expect(loop.verifyCore()).toBe(0);
    expect(loop.coreStat(Stat.microtasks_queued)).toBe(0);
  });

  it("capacity.microtasks above the ring size is enforced behind the ring; promise jobs pass it", async () => {
    const loop = await createEventLoop({
      clock: "manual",
      capacity: { microtasks: 100, microtaskRing: 16 },
    });
    let ran = 0;
    let error: unknown;
    let queuedAtError = -1;
    loop.submit(() => {
      try {
        for (let i = 0; i < 101; i++) loop.queueMicrotask(() => ran++);
      } catch (e) {
        error = e;
        queuedAtError = loop.pending.microtasks;
      }
      for (let i = 0; i < 10; i++) loop.Promise.resolve().then(() => ran++); // never refused
    });
    loop.runUntilIdle();
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).capacity).toBe("microtasks");
    expect(queuedAtError).toBe(100);
    expect(ran).toBe(110);
    loop.queueMicrotask(() => ran++);
    loop.runUntilIdle();
    expect(ran).toBe(111);
    expect(loop.verifyCore()).toBe(0);
  });

  it("jobs the core could not take (out of memory) stay staged and still run, in order", () => {
    const module = new WebAssembly.Module(
      readFileSync(new URL("../../wasm/zigloop.wasm", import.meta.url)),
    );
    const real = instantiateSync(module);
    expect(real.zl_init(16, 16, 1 << 20, 16)).toBe(0);
    let refuse = true;
    // The real core, except that appending to the overflow fails while `refuse` is set.
    const core = {
      ...real,
      zl_microtask_push_batch: (count: number) =>
        refuse ? Status.out_of_memory : real.zl_microtask_push_batch(count),
    };
    const queue = new MicrotaskQueue(core, 1 << 20);
    const order: number[] = [];
    for (let i = 0; i < 1200; i++) {
      // Past 16 + 512 jobs, a full batch must be appended first: that push reports the failure.
      const status = queue.tryPush(() => order.push(i), undefined, false)
        ? 0
        : queue.pushOverflow(() => order.push(i), undefined, false);
      expect(status).toBe(i < 16 + 512 ? 0 : Status.out_of_memory);
      if (status !== 0) break;
    }
    expect(queue.length).toBe(16 + 512);
    queue.flush(); // fails again: nothing lost
    expect(queue.length).toBe(16 + 512);
    expect(
      queue.runJobs(Number.POSITIVE_INFINITY, (e) => {
        throw e;
      }),
    ).toBe(16 + 512);
    expect(order).toEqual(Array.from({ length: 16 + 512 }, (_, i) => i));
    refuse = false;
    for (let i = 0; i < 100; i++) {
      if (!queue.tryPush(() => order.push(1000 + i), undefined, false)) {
        expect(queue.pushOverflow(() => order.push(1000 + i), undefined, false)).toBe(0);
      }
    }
    expect(
      queue.runJobs(Number.POSITIVE_INFINITY, (e) => {
        throw e;
      }),
    ).toBe(100);
    expect(order.slice(16 + 512)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    queue.flush();
    expect(real.zl_verify()).toBe(0);
  });
});
