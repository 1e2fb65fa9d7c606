/// <reference types="node" />
/**
 * `loop.Promise` wired into a real zigloop loop: its jobs share the loop's microtask
 * ring with queueMicrotask, rejection events come from loop tasks, shutdown
 * terminates waiters, and virtual time settles promises deterministically.
 */
import { describe, expect, it } from "vitest";
import { Stat } from "../../src-ts/core/abi.generated.ts";
import {
  createEventLoop,
  type PromiseRejectionEvent,
  TerminationError,
} from "../../src-ts/node.ts";

describe("loop.Promise on the loop's microtask ring", () => {
  it("reactions interleave FIFO with queueMicrotask jobs", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const P = loop.Promise;
    const order: string[] = [];
    loop.submit(() => {
      P.resolve().then(() => order.push("then 1"));
      loop.queueMicrotask(() => order.push("microtask 1"));
      P.resolve().then(() => order.push("then 2"));
      loop.queueMicrotask(() => {
        order.push("microtask 2");
        P.resolve().then(() => order.push("then 3 (queued by a microtask)"));
      });
    });
    loop.submit(() => order.push("next task"));
    loop.runUntilIdle();
    expect(order).toEqual([
      "then 1",
      "microtask 1",
      "then 2",
      "microtask 2",
      "then 3 (queued by a microtask)",
      "next task",
    ]);
  });

  it("a timer resolves a promise and its reactions run in that timer's checkpoint (manual clock)", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const P = loop.Promise;
    const order: string[] = [];
    const sleep = (ms: number) => new P<void>((resolve) => loop.setTimeout(resolve, ms));
    const chain = async () => {
      // Loop promises inside an async function: each await adopts through a native job,
      // so drive with run() (it yields to the host between turns).
      order.push(`start ${loop.now()}`);
      await sleep(1000);
      order.push(`after 1000: ${loop.now()}`);
      await sleep(500);
      order.push(`after 1500: ${loop.now()}`);
    };
    const done = chain();
    await loop.run();
    await done;
    expect(order).toEqual(["start 0", "after 1000: 1000", "after 1500: 1500"]);
  });

  it("native await on a loop promise works on the real clock", async () => {
    const loop = await createEventLoop();
    const value = await new loop.Promise<number>((resolve) =>
      loop.setTimeout(() => resolve(42), 5),
    );
    expect(value).toBe(42);
    expect(await loop.Promise.resolve(Promise.resolve("native adopted"))).toBe("native adopted");
    loop.close();
  });
});

describe("unhandled rejections on the loop", () => {
  it("html: a cancelable unhandledrejection event from a task, then rejectionhandled when handled later", async () => {
    const loop = await createEventLoop({ clock: "manual", onError: () => {} });
    const events: string[] = [];
    let rejected: Promise<unknown> | undefined;
    loop.addEventListener("unhandledrejection", (event) => {
      const e = event as unknown as PromiseRejectionEvent;
      events.push(`unhandledrejection ${String(e.reason)} same=${e.promise === rejected}`);
    });
    loop.addEventListener("rejectionhandled", () => events.push("rejectionhandled"));
    loop.submit(() => {
      rejected = loop.Promise.reject("boom");
    });
    loop.runUntilIdle();
    expect(events).toEqual(["unhandledrejection boom same=true"]);
    loop.submit(() => {
      rejected!.catch(() => {});
    });
    loop.runUntilIdle();
    expect(events).toEqual(["unhandledrejection boom same=true", "rejectionhandled"]);
  });

  it("html: a handler attached before the checkpoint ends means no event at all", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const events: string[] = [];
    loop.addEventListener("unhandledrejection", () => events.push("unhandledrejection"));
    loop.submit(() => {
      const p = loop.Promise.reject(new Error("x"));
      loop.queueMicrotask(() => p.catch(() => {}));
    });
    loop.runUntilIdle();
    expect(events).toEqual([]);
  });

  it("html: when not cancelled, the rejection is reported to onError; preventDefault suppresses it", async () => {
    const errors: unknown[] = [];
    const loop = await createEventLoop({ clock: "manual", onError: (e) => errors.push(e) });
    loop.submit(() => void loop.Promise.reject("reported"));
    loop.runUntilIdle();
    expect(errors).toEqual(["reported"]);
    loop.addEventListener("unhandledrejection", (event) => event.preventDefault());
    loop.submit(() => void loop.Promise.reject("cancelled"));
    loop.runUntilIdle();
    expect(errors).toEqual(["reported"]);
  });

  it("node profile defaults to Node's 'throw' mode: the reason goes to onError", async () => {
    const errors: unknown[] = [];
    const loop = await createEventLoop({
      clock: "manual",
      profile: "node",
      onError: (e) => errors.push(e),
    });
    const error = new Error("unhandled");
    loop.submit(() => void loop.Promise.reject(error));
    loop.runUntilIdle();
    expect(errors).toEqual([error]);
  });

  it("node 'warn-with-error-code' warns through onWarning and sets the loop's exitCode", async () => {
    const warnings: Error[] = [];
    const loop = await createEventLoop({
      clock: "manual",
      profile: "node",
      unhandledRejections: "warn-with-error-code",
      onWarning: (w) => warnings.push(w),
    });
    loop.submit(() => void loop.Promise.reject(new Error("late")));
    loop.runUntilIdle();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.name).toBe("UnhandledPromiseRejectionWarning");
    expect(warnings[0]!.message).toMatch(/late/);
    expect(loop.exitCode).toBe(1);
  });

  it("trackPromiseCreation attaches where the promise was created", async () => {
    const warnings: Error[] = [];
    const loop = await createEventLoop({
      clock: "manual",
      profile: "node",
      unhandledRejections: "warn",
      trackPromiseCreation: true,
      onWarning: (w) => warnings.push(w),
    });
    loop.submit(function createsTheRejectedPromise() {
      void loop.Promise.reject(new Error("where"));
    });
    loop.runUntilIdle();
    expect(warnings[0]!.message).toMatch(/created at/);
    expect(warnings[0]!.message).toMatch(/createsTheRejectedPromise/);
  });
});

describe("shutdown and close", () => {
  it("graceful shutdown rejects waiting loop promises with TerminationError and reports no unhandled rejection", async () => {
    const errors: unknown[] = [];
    const loop = await createEventLoop({ clock: "manual", onError: (e) => errors.push(e) });
    const P = loop.Promise;
    const outcomes: string[] = [];
    const waitsForever = new P(() => {});
    waitsForever.then(
      () => outcomes.push("fulfilled"),
      (reason) => outcomes.push(`rejected ${(reason as Error).name}`),
    );
    const timerBacked = new P((resolve) => loop.setTimeout(resolve, 10_000));
    timerBacked.catch((reason) =>
      outcomes.push(`timer-backed ${reason instanceof TerminationError}`),
    );
    const report = await loop.shutdown();
    expect(report.rejectedPromises).toBe(2);
    expect(report.cancelledTimers).toBe(1);
    expect(outcomes.sort()).toEqual(["rejected TerminationError", "timer-backed true"]);
    expect(errors).toEqual([]);
    expect(loop.state).toBe("closed");
  });

  it("after close, promise reactions run on the host's queue instead of hanging", async () => {
    const loop = await createEventLoop();
    const { promise, resolve } = loop.Promise.withResolvers<string>();
    loop.close();
    resolve("still settles");
    await expect(promise).resolves.toBe("still settles");
  });
});

describe("several loops share one Promise class, not their state", () => {
  it("a shutdown terminates only its own loop's waiters; a rejection is reported by its own loop", async () => {
    const a = await createEventLoop({ clock: "manual" });
    const b = await createEventLoop({ clock: "manual" });
    const events: string[] = [];
    a.addEventListener("unhandledrejection", (e) => {
      events.push(`a: ${String((e as PromiseRejectionEvent).reason)}`);
      e.preventDefault();
    });
    b.addEventListener("unhandledrejection", (e) => {
      events.push(`b: ${String((e as PromiseRejectionEvent).reason)}`);
      e.preventDefault();
    });
    const outcomes: string[] = [];
    new a.Promise(() => {}).catch((r) => outcomes.push(`a waiter: ${(r as Error).name}`));
    const { promise: bWaiter, resolve: resolveB } = b.Promise.withResolvers<string>();
    bWaiter.then((v) => outcomes.push(`b waiter: ${v}`));
    const report = await a.shutdown();
    expect(report.rejectedPromises).toBe(1); // b's waiter is not a's to terminate
    expect(outcomes).toEqual(["a waiter: TerminationError"]);
    // b still works: its waiter settles on b's ring, and new waits are not terminated.
    const later = new b.Promise<string>((resolve) => b.setTimeout(() => resolve("later"), 5));
    later.then((v) => outcomes.push(`b later: ${v}`));
    b.submit(() => resolveB("resolved"));
    b.runUntilIdle();
    b.advance(5);
    expect(outcomes).toEqual([
      "a waiter: TerminationError",
      "b waiter: resolved",
      "b later: later",
    ]);
    b.submit(() => {
      b.Promise.reject("from b");
    });
    b.runUntilIdle();
    expect(events).toEqual(["b: from b"]);
    b.close();
  });

  it("a reaction job runs on the loop of the promise that settles, whichever loop's then was called", async () => {
    const a = await createEventLoop({ clock: "manual" });
    const b = await createEventLoop({ clock: "manual" });
    const seen: string[] = [];
    const pa = a.Promise.resolve("a value");
    b.Promise.prototype.then.call(pa, (v: unknown) => seen.push(String(v)));
    b.runUntilIdle();
    expect(seen).toEqual([]);
    a.runUntilIdle();
    expect(seen).toEqual(["a value"]);
    a.close();
    b.close();
  });
});

describe("memory", () => {
  it("1e6 resolved chains leave the loop's tables and chunks at their baseline", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const P = loop.Promise;
    let settled = 0;
    let baselineChunks = 0;
    let baselineSlots = 0;
    for (let batch = 0; batch < 100; batch++) {
      loop.submit(() => {
        for (let i = 0; i < 10_000; i++) {
          P.resolve(i)
            .then((v) => v + 1)
            .then(() => {
              settled++;
            });
        }
      });
      loop.runUntilIdle();
      if (batch === 0) {
        // Each drained queue keeps one chunk for reuse; that is the steady state.
        baselineChunks = loop.coreStat(Stat.chunks_in_use);
        baselineSlots = loop.coreStat(Stat.chunks_total);
      }
    }
    expect(settled).toBe(1_000_000);
    expect(loop.coreStat(Stat.chunks_total)).toBe(baselineSlots); // no new memory after the first batch
    expect(loop.pending).toMatchObject({ microtasks: 0, tasks: 0, timers: 0 });
    // Overflow chunks went back to the pool; everything is reusable.
    expect(loop.coreStat(Stat.chunks_in_use)).toBe(baselineChunks);
    expect(loop.coreStat(Stat.microtasks_queued)).toBe(0);
    expect(loop.verifyCore()).toBe(0);
  }, 60_000);
});
