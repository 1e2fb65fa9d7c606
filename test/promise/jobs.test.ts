/**
 * Jobs: every reaction and thenable job goes through host.enqueueJob, FIFO with queueMicrotask, and the
 * job order is the one the spec (and so native Promise) produces.
 */
import { describe, expect, test } from "vitest";
import { createPromiseClass, type PromiseHost } from "../../src-ts/promise/promise.ts";
import { makeLoop, StubHost } from "./_stub_host.ts";

describe("jobs", () => {
  test("reactions interleave FIFO with queueMicrotask jobs", () => {
    const loop = makeLoop();
    const log: string[] = [];
    const p = loop.Promise.resolve();
    loop.host.queueMicrotask(() => log.push("m1"));
    p.then(() => log.push("t1"));
    loop.host.queueMicrotask(() => log.push("m2"));
    p.then(() => log.push("t2")).then(() => log.push("t2b"));
    loop.host.queueMicrotask(() => {
      log.push("m3");
      loop.host.queueMicrotask(() => log.push("m4"));
    });
    loop.host.runMicrotasks();
    expect(log).toEqual(["m1", "t1", "m2", "t2", "m3", "t2b", "m4"]);
  });

  test("every job is queued through host.enqueueJob with a shared static function and a record", () => {
    const host = new StubHost();
    const jobs: unknown[] = [];
    const args: unknown[] = [];
    const spying: PromiseHost = Object.create(host);
    spying.enqueueJob = (job, arg) => {
      jobs.push(job);
      args.push(arg);
      host.enqueueJob(job, arg);
    };
    const { Promise: P } = createPromiseClass(spying);
    const root = P.resolve(0);
    let p = root;
    for (let i = 0; i < 5; i++) p = p.then((x) => x + 1);
    host.runMicrotasks();
    expect(jobs).toHaveLength(5);
    expect(new Set(jobs).size).toBe(1); // one static job function, no closure per reaction
    // The record is the derived promise itself (no separate reaction allocation).
    expect(args.every((a) => a instanceof P)).toBe(true);
  });

  test("no native microtask or native promise is used", async () => {
    const loop = makeLoop();
    let ran = false;
    loop.Promise.resolve().then(() => {
      ran = true;
    });
    await globalThis.Promise.resolve();
    await new globalThis.Promise((r) => setTimeout(r, 1));
    expect(ran).toBe(false); // nothing runs until the loop drains its own queue
    loop.host.runMicrotasks();
    expect(ran).toBe(true);
  });

  test("a job never throws out: a throwing capability resolve goes to host.reportError", () => {
    const loop = makeLoop();
    const err = new Error("capability resolve threw");
    class Weird {
      constructor(executor: (res: unknown, rej: unknown) => void) {
        executor(
          () => {
            throw err;
          },
          () => {},
        );
      }
    }
    const p = loop.Promise.resolve(1);
    (p as unknown as { constructor: unknown }).constructor = { [Symbol.species]: Weird };
    p.then((v) => v);
    expect(() => loop.host.runMicrotasks()).not.toThrow();
    expect(loop.host.errors).toEqual([err]);
  });
});

/**
 * Scenarios run once with the native Promise (awaiting native settlement) and once with the loop's Promise
 * on the stub host; the logs must match, since both follow the same job semantics and each scenario only
 * uses one kind of promise.
 */
type Scenario = (P: PromiseConstructor, log: (s: string) => void) => void;

const scenarios: Record<string, Scenario> = {
  "two interleaved chains": (P, log) => {
    P.resolve()
      .then(() => log("a1"))
      .then(() => log("a2"))
      .then(() => log("a3"));
    P.resolve()
      .then(() => log("b1"))
      .then(() => log("b2"))
      .then(() => log("b3"));
  },
  "resolving with a promise costs two extra jobs": (P, log) => {
    new P((resolve) => resolve(P.resolve("inner"))).then((v) => log(`outer ${String(v)}`));
    P.resolve()
      .then(() => log("t1"))
      .then(() => log("t2"))
      .then(() => log("t3"))
      .then(() => log("t4"));
  },
  "handler returning a promise": (P, log) => {
    P.resolve()
      .then(() => P.resolve("x"))
      .then((v) => log(`adopted ${String(v)}`));
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"))
      .then(() => log("3"))
      .then(() => log("4"));
  },
  "thenable adoption": (P, log) => {
    const thenable = {
      then(r: (v: string) => void) {
        log("then called");
        r("t");
      },
    };
    P.resolve(thenable).then((v) => log(`got ${v}`));
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"))
      .then(() => log("3"));
  },
  "finally ordering": (P, log) => {
    P.resolve(1)
      .finally(() => log("finally"))
      .then(() => log("after finally"));
    P.reject(2)
      .finally(() => log("finally r"))
      .catch(() => log("caught"));
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"))
      .then(() => log("3"))
      .then(() => log("4"))
      .then(() => log("5"));
  },
  combinators: (P, log) => {
    P.all([P.resolve(1), 2]).then((v) => log(`all ${JSON.stringify(v)}`));
    P.race([P.resolve("r"), P.reject("x")]).then((v) => log(`race ${String(v)}`));
    P.allSettled([P.reject(1)]).then(() => log("allSettled"));
    P.any([P.reject(1), P.resolve(2)]).then((v) => log(`any ${String(v)}`));
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"))
      .then(() => log("3"))
      .then(() => log("4"));
  },
  "rejection propagation": (P, log) => {
    P.reject(new Error("e"))
      .then(() => log("no"))
      .then(() => log("no2"))
      .catch(() => log("caught late"));
    P.resolve()
      .then(() => {
        throw new Error("t");
      })
      .catch(() => log("caught thrown"));
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"))
      .then(() => log("3"));
  },
  "multiple reactions on one promise run in attach order": (P, log) => {
    let resolve!: (v: string) => void;
    const p = new P<string>((r) => {
      resolve = r;
    });
    p.then(() => log("r1"));
    p.then(() => log("r2")).then(() => log("r2b"));
    p.then(() => log("r3"));
    P.resolve().then(() => {
      log("resolving");
      resolve("go");
    });
  },
  "withResolvers and try": (P, log) => {
    const PX = P as PromiseConstructor & { try(fn: () => unknown): Promise<unknown> };
    const { promise, resolve } = (
      P as unknown as { withResolvers(): { promise: Promise<string>; resolve(v: string): void } }
    ).withResolvers();
    promise.then((v) => log(`wr ${v}`));
    PX.try(() => "try").then((v) => log(`try ${String(v)}`));
    resolve("x");
    P.resolve()
      .then(() => log("1"))
      .then(() => log("2"));
  },
};

/**
 * The order the spec gives where a native Promise cannot show it: Node 20's has neither
 * withResolvers (ES2024) nor try (ES2025). Promise.try calls its function at once and
 * fulfils with "try", so its reaction is queued when `.then` is called, before
 * `resolve("x")` queues the withResolvers promise's; the chain starts after both.
 */
const specOrder: Record<string, string[]> = {
  "withResolvers and try": ["try try", "wr x", "1", "2"],
};

describe("job order matches native Promise", () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    const nativeHas =
      name !== "withResolvers and try" ||
      typeof (globalThis.Promise as { try?: unknown }).try === "function";
    test(`${name}${nativeHas ? "" : " (the spec's order: this runtime's native Promise lacks them)"}`, async () => {
      const loop = makeLoop({ unhandledRejections: "none" });
      const loopLog: string[] = [];
      scenario(loop.Promise, (s) => loopLog.push(s));
      loop.host.run();
      if (name in specOrder) expect(loopLog).toEqual(specOrder[name]);
      if (!nativeHas) return;

      const nativeLog: string[] = [];
      scenario(globalThis.Promise, (s) => nativeLog.push(s));
      await new globalThis.Promise((r) => setTimeout(r, 5));
      expect(nativeLog.length).toBeGreaterThan(0);
      expect(loopLog).toEqual(nativeLog);
    });
  }
});
