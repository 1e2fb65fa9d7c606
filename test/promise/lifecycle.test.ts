/**
 * Shutdown (terminatePending) and memory: the registry of pending-with-reactions promises, and
 * collectability of settled chains.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, test, vi } from "vitest";
import type { PromiseRejectionEvent } from "../../src-ts/promise/rejection_tracker.ts";
import { makeLoop, StubHost } from "./_stub_host.ts";

function never<T = unknown>(loop: ReturnType<typeof makeLoop>): Promise<T> {
  return new loop.Promise<T>(() => {});
}

describe("terminatePending", () => {
  test("rejects every pending promise someone waits on, and their handlers run with the reason", () => {
    const loop = makeLoop();
    const reason = new Error("loop terminated");
    const seen: unknown[] = [];
    const a = never(loop);
    a.catch((r) => seen.push(["a.catch", r]));
    const b = never(loop);
    b.then(() => seen.push("b fulfilled")).finally(() => seen.push("b finally"));
    const lonely = never(loop); // nobody waits on it
    loop.host.run();
    expect(loop.pendingCount()).toBe(2);

    expect(loop.terminatePending(reason)).toBe(2);
    loop.host.run();
    expect(seen).toEqual([["a.catch", reason], "b finally"]);
    expect(loop.pendingCount()).toBe(0);
    let lonelyState = "pending";
    lonely.then(
      () => {
        lonelyState = "fulfilled";
      },
      () => {
        lonelyState = "rejected";
      },
    );
    loop.host.run();
    // terminated mode: waiting on a pending promise now rejects it at once
    expect(lonelyState).toBe("rejected");
  });

  test("terminated promises produce no unhandled-rejection report, even along chains", () => {
    for (const mode of ["html", "throw", "strict", "warn"] as const) {
      const loop = makeLoop({ unhandledRejections: mode });
      const events: unknown[] = [];
      loop.host.target.addEventListener("unhandledrejection", (e) =>
        events.push((e as unknown as PromiseRejectionEvent).reason),
      );
      const p = never(loop);
      p.then((v) => v).then((v) => v); // derived promises with no handler at the end
      loop.Promise.all([p, never(loop)]);
      loop.host.run();
      loop.terminatePending(new Error("shutdown"));
      loop.host.run();
      expect(events, mode).toEqual([]);
      expect(loop.host.errors, mode).toEqual([]);
      expect(loop.host.warnings, mode).toEqual([]);
    }
  });

  test("other rejections after termination are still reported", () => {
    const loop = makeLoop();
    loop.terminatePending(new Error("shutdown"));
    const other = new Error("unrelated");
    loop.Promise.reject(other);
    loop.host.run();
    expect(loop.host.errors).toEqual([other]);
  });

  test("promises that settle on their own keep working after termination", () => {
    const loop = makeLoop();
    loop.terminatePending(new Error("shutdown"));
    let result: unknown;
    loop.Promise.resolve(1)
      .then((v) => v + 1)
      .then((v) => loop.Promise.resolve(v * 10))
      .then((v) => {
        result = v;
      });
    loop.host.run();
    expect(result).toBe(20);
  });

  test("a reaction job already queued still runs (its promise is not waiting)", () => {
    const loop = makeLoop();
    const log: string[] = [];
    const d = loop.Promise.resolve("queued").then((v) => {
      log.push(`handler ${v}`);
      return v;
    });
    d.then((v) => log.push(`then ${v}`));
    expect(loop.terminatePending(new Error("shutdown"))).toBe(0);
    loop.host.run();
    expect(log).toEqual(["handler queued", "then queued"]);
  });

  test("after termination, a new wait on a pending promise rejects at once with the reason", () => {
    const loop = makeLoop();
    const reason = new Error("shutdown");
    loop.terminatePending(reason);
    let got: unknown;
    never(loop).then(undefined, (r) => {
      got = r;
    });
    loop.host.run();
    expect(got).toBe(reason);
    // a handler returning a pending promise: adopted waits are terminated too
    let got2: unknown;
    loop.Promise.resolve()
      .then(() => never(loop))
      .catch((r) => {
        got2 = r;
      });
    loop.host.run();
    expect(got2).toBe(reason);
  });

  test("a promise adopting a foreign thenable that never settles is terminated", () => {
    const loop = makeLoop();
    const reason = new Error("shutdown");
    const p = loop.Promise.resolve({ then() {} });
    let got: unknown;
    p.catch((r) => {
      got = r;
    });
    loop.host.run();
    expect(loop.pendingCount()).toBe(1);
    expect(loop.terminatePending(reason)).toBe(1);
    loop.host.run();
    expect(got).toBe(reason);
  });
});

test("without WeakRef (workerd at an old compatibility date) the registry is strong and shutdown still reaches every waiter", async () => {
  const saved = globalThis.WeakRef;
  // Hidden for the whole test, as in such a runtime; promise.ts is loaded fresh without it.
  (globalThis as { WeakRef?: unknown }).WeakRef = undefined;
  try {
    vi.resetModules();
    const fresh = await import("../../src-ts/promise/promise.ts");
    const host = new StubHost();
    const kit = fresh.createPromiseClass(host);
    host.onCheckpointEnd = () => kit.checkpointEnd();
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) new kit.Promise(() => {}).then(undefined, (r) => seen.push(r));
    host.run(); // the checkpoint end promotes the nursery into the (strong) registry
    expect(kit.pendingCount()).toBe(3);
    const reason = new Error("shutdown");
    expect(kit.terminatePending(reason)).toBe(3);
    host.run();
    expect(seen).toEqual([reason, reason, reason]);
    expect(kit.pendingCount()).toBe(0);
  } finally {
    globalThis.WeakRef = saved;
  }
});

describe("memory", () => {
  test("the registry size returns to 0 once chains settle", () => {
    const loop = makeLoop();
    const resolvers: ((v: number) => void)[] = [];
    for (let i = 0; i < 100; i++) {
      const p = new loop.Promise<number>((resolve) => resolvers.push(resolve));
      p.then((v) => v + 1).then((v) => v + 1);
    }
    loop.host.run();
    expect(loop.pendingCount()).toBe(100);
    for (const resolve of resolvers) resolve(1);
    loop.host.run();
    expect(loop.pendingCount()).toBe(0);
  });

  test("more links than the nursery holds (65,536) in one checkpoint: every one stays reachable by terminatePending", () => {
    const loop = makeLoop();
    const reason = new Error("shutdown");
    const seen: unknown[] = [];
    for (let i = 0; i < 70_000; i++) {
      new loop.Promise(() => {}).then(undefined, (r) => seen.push(r));
    }
    expect(loop.pendingCount()).toBe(70_000);
    expect(loop.terminatePending(reason)).toBe(70_000);
    loop.host.run();
    expect(seen).toHaveLength(70_000);
    expect(seen.every((r) => r === reason)).toBe(true);
    expect(loop.pendingCount()).toBe(0);
  });

  test("a link settled within its checkpoint never reaches the weak registry, one still pending does", () => {
    const loop = makeLoop();
    let resolveLater!: (v: number) => void;
    new loop.Promise<number>((r) => {
      resolveLater = r;
    }).then((v) => v);
    let resolveNow!: (v: number) => void;
    new loop.Promise<number>((r) => {
      resolveNow = r;
    }).then((v) => v);
    expect(loop.nurserySize).toBe(2);
    resolveNow(1);
    loop.host.run(); // the checkpoint end promotes the one still pending
    expect(loop.nurserySize).toBe(0);
    expect(loop.pendingCount()).toBe(1);
    resolveLater(2);
    expect(loop.pendingCount()).toBe(0);
  });

  test("derived promises are never linked: a then chain alone leaves the registry empty", () => {
    const loop = makeLoop();
    let p = loop.Promise.resolve(0);
    for (let i = 0; i < 50; i++) p = p.then((v) => v + 1);
    expect(loop.pendingCount()).toBe(0);
    loop.host.run();
    expect(loop.pendingCount()).toBe(0);
  });

  test("a forever-pending promise with reactions stays in the registry until terminatePending", () => {
    const loop = makeLoop();
    never(loop).then(() => {});
    loop.host.run();
    expect(loop.pendingCount()).toBe(1);
    loop.terminatePending(new Error("bye"));
    expect(loop.pendingCount()).toBe(0);
  });

  // A real GC check; gc() is taken from V8 via --expose-gc set at run time.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;

  test.skipIf(typeof gc !== "function")(
    "settled chains, their handlers and values are collectable",
    async () => {
      const loop = makeLoop();
      const refs: WeakRef<object>[] = [];
      (() => {
        let resolve!: (v: object) => void;
        const root = new loop.Promise<object>((r) => {
          resolve = r;
        });
        let p: Promise<object> = root;
        for (let i = 0; i < 20; i++) {
          const handler = (v: object) => ({ v });
          refs.push(new WeakRef(handler));
          p = p.then(handler);
          refs.push(new WeakRef(p));
        }
        refs.push(new WeakRef(root));
        const value = {};
        refs.push(new WeakRef(value));
        resolve(value);
      })();
      loop.host.run();
      expect(loop.pendingCount()).toBe(0);
      await new Promise((r) => setTimeout(r, 0));
      gc!();
      const alive = refs.filter((r) => r.deref() !== undefined).length;
      expect(alive).toBe(0);
    },
  );

  test.skipIf(typeof gc !== "function")(
    "a settled promise drops its reactions (a kept promise does not keep handlers)",
    async () => {
      const loop = makeLoop();
      const p = loop.Promise.resolve(1);
      const refs: WeakRef<object>[] = [];
      (() => {
        for (let i = 0; i < 10; i++) {
          const handler = () => i;
          refs.push(new WeakRef(handler));
          p.then(handler);
        }
      })();
      loop.host.run();
      await new Promise((r) => setTimeout(r, 0));
      gc!();
      expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
      expect(p).toBeDefined();
    },
  );

  test.skipIf(typeof gc !== "function")(
    "the outstanding rejected promises set does not keep promises alive",
    async () => {
      const loop = makeLoop({ unhandledRejections: "none" });
      let ref!: WeakRef<object>;
      (() => {
        const p = loop.Promise.reject(new Error("reported and forgotten"));
        ref = new WeakRef(p);
      })();
      loop.host.run(); // reported; now only in the weak set
      await new Promise((r) => setTimeout(r, 0));
      gc!();
      expect(ref.deref()).toBeUndefined();
    },
  );
});
