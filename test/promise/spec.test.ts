/**
 * ECMAScript Promise surface (ECMA-262 §27.2): one test per rule, on the stub host (manual mode).
 */
import { describe, expect, test } from "vitest";
import { makeLoop } from "./_stub_host.ts";

/** Settle everything and return the outcome of `p`. */
function outcome(
  loop: ReturnType<typeof makeLoop>,
  p: PromiseLike<unknown>,
): { status: string; value?: unknown; reason?: unknown } {
  let result: { status: string; value?: unknown; reason?: unknown } = { status: "pending" };
  p.then(
    (value) => {
      result = { status: "fulfilled", value };
    },
    (reason) => {
      result = { status: "rejected", reason };
    },
  );
  loop.host.run();
  return result;
}

describe("constructor", () => {
  test("calling the constructor without new is a TypeError", () => {
    const { Promise: P } = makeLoop();
    expect(() => (P as unknown as (e: unknown) => unknown)(() => {})).toThrow(TypeError);
  });

  test("a non-callable executor is a TypeError naming the value's type", () => {
    const { Promise: P } = makeLoop();
    expect(() => new P(42 as never)).toThrow(
      /Promise resolver is not a function: got type number \(42\)/,
    );
    expect(() => new P(undefined as never)).toThrow(/got undefined/);
    expect(() => new P({} as never)).toThrow(/got an instance of Object/);
  });

  test("the executor runs synchronously with resolve and reject, this undefined", () => {
    const { Promise: P } = makeLoop();
    let seenThis: unknown = "unset";
    let args: unknown[] = [];
    new P(function (this: unknown, ...a: unknown[]) {
      seenThis = this;
      args = a;
    });
    expect(seenThis).toBeUndefined();
    expect(args).toHaveLength(2);
    expect((args[0] as Function).length).toBe(1);
    expect((args[1] as Function).length).toBe(1);
  });

  test("an executor that throws rejects the promise, unless already resolved", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const err = new Error("boom");
    expect(
      outcome(
        loop,
        new P(() => {
          throw err;
        }),
      ),
    ).toEqual({ status: "rejected", reason: err });
    expect(
      outcome(
        loop,
        new P((resolve) => {
          resolve(1);
          throw err;
        }),
      ),
    ).toEqual({ status: "fulfilled", value: 1 });
  });

  test("resolving functions act only once", () => {
    const loop = makeLoop();
    const p = new loop.Promise((resolve, reject) => {
      resolve(1);
      reject(2);
      resolve(3);
    });
    expect(outcome(loop, p)).toEqual({ status: "fulfilled", value: 1 });
  });
});

describe("prototype and statics", () => {
  test("Symbol.toStringTag is 'Promise' (non-writable, configurable)", () => {
    const { Promise: P } = makeLoop();
    expect(Object.prototype.toString.call(P.resolve())).toBe("[object Promise]");
    const d = Object.getOwnPropertyDescriptor(P.prototype, Symbol.toStringTag)!;
    expect(d).toEqual({ value: "Promise", writable: false, enumerable: false, configurable: true });
  });

  test("Symbol.species is a getter returning this", () => {
    const { Promise: P } = makeLoop();
    const d = Object.getOwnPropertyDescriptor(P, Symbol.species)!;
    expect(typeof d.get).toBe("function");
    expect(d.set).toBeUndefined();
    expect(P[Symbol.species]).toBe(P);
    class P2 extends P<unknown> {}
    expect((P2 as unknown as { [Symbol.species]: unknown })[Symbol.species]).toBe(P2);
  });

  test("function lengths match the spec", () => {
    const { Promise: P } = makeLoop();
    expect(P.length).toBe(1);
    expect(P.prototype.then.length).toBe(2);
    expect(P.prototype.catch.length).toBe(1);
    expect(P.prototype.finally.length).toBe(1);
    for (const name of ["all", "allSettled", "any", "race", "resolve", "reject", "try"] as const) {
      expect((P as unknown as Record<string, Function>)[name]!.length, name).toBe(1);
    }
    expect(P.withResolvers.length).toBe(0);
  });

  test("methods are not enumerable", () => {
    const { Promise: P } = makeLoop();
    expect(Object.keys(P.prototype)).toEqual([]);
    expect(Object.keys(P)).toEqual([]);
    expect(Object.keys(P.resolve(1))).toEqual([]);
  });

  test("then on a non-promise is a TypeError naming the receiver's type", () => {
    const { Promise: P } = makeLoop();
    expect(() => P.prototype.then.call({} as never)).toThrow(
      /incompatible receiver: got an instance of Object/,
    );
    expect(() => P.prototype.then.call(5 as never)).toThrow(/got type number \(5\)/);
  });

  test("statics called on a non-object this are TypeErrors", () => {
    const { Promise: P } = makeLoop();
    expect(() => P.resolve.call(undefined, 1)).toThrow(TypeError);
    expect(() => P.reject.call(undefined, 1)).toThrow(TypeError);
    expect(() => P.withResolvers.call(undefined)).toThrow(TypeError);
    expect(() => P.try.call(undefined, () => 1)).toThrow(TypeError);
    expect(() => P.all.call(undefined, [])).toThrow(TypeError);
    expect(() => P.resolve.call(() => {}, 1)).toThrow(/not a constructor/);
  });

  test("catch is then(undefined, onRejected), generic over this", () => {
    const { Promise: P } = makeLoop();
    const calls: unknown[][] = [];
    const thenable = {
      then: (...args: unknown[]) => {
        calls.push(args);
        return "r";
      },
    };
    const onRejected = (): void => {};
    expect(P.prototype.catch.call(thenable as never, onRejected)).toBe("r");
    expect(calls).toEqual([[undefined, onRejected]]);
  });
});

describe("resolution procedure", () => {
  test("then is read exactly once from a thenable", () => {
    const loop = makeLoop();
    let reads = 0;
    const thenable = {
      get then() {
        reads++;
        return (resolve: (v: unknown) => void) => resolve("ok");
      },
    };
    const p = loop.Promise.resolve(thenable);
    expect(reads).toBe(1);
    expect(outcome(loop, p)).toEqual({ status: "fulfilled", value: "ok" });
    expect(reads).toBe(1);
  });

  test("thenables are adopted through a job (NewPromiseResolveThenableJob), not synchronously", () => {
    const loop = makeLoop();
    const log: string[] = [];
    const thenable = {
      then(resolve: (v: unknown) => void) {
        log.push("then called");
        resolve(1);
      },
    };
    loop.Promise.resolve(thenable);
    log.push("after resolve");
    loop.host.queueMicrotask(() => log.push("microtask queued after"));
    loop.host.runMicrotasks();
    expect(log).toEqual(["after resolve", "then called", "microtask queued after"]);
  });

  test("self-resolution rejects with TypeError", () => {
    const loop = makeLoop();
    let resolveSelf!: (v: unknown) => void;
    const p = new loop.Promise((resolve) => {
      resolveSelf = resolve;
    });
    resolveSelf(p);
    const r = outcome(loop, p);
    expect(r.status).toBe("rejected");
    expect(r.reason).toBeInstanceOf(TypeError);
    expect(String(r.reason)).toMatch(/cannot be resolved with itself/);
    const d: Promise<unknown> = loop.Promise.resolve(1).then(() => d);
    expect(outcome(loop, d).reason).toBeInstanceOf(TypeError);
  });

  test("a throwing then getter rejects", () => {
    const loop = makeLoop();
    const err = new Error("getter");
    const thenable = Object.defineProperty({}, "then", {
      get() {
        throw err;
      },
    });
    expect(outcome(loop, loop.Promise.resolve(thenable))).toEqual({
      status: "rejected",
      reason: err,
    });
  });

  test("a then that throws after resolving is ignored; before resolving it rejects", () => {
    const loop = makeLoop();
    const err = new Error("then");
    const late = {
      then(resolve: (v: unknown) => void) {
        resolve("first");
        throw err;
      },
    };
    const early = {
      then() {
        throw err;
      },
    };
    expect(outcome(loop, loop.Promise.resolve(late))).toEqual({
      status: "fulfilled",
      value: "first",
    });
    expect(outcome(loop, loop.Promise.resolve(early))).toEqual({ status: "rejected", reason: err });
  });

  test("a then that calls back several times: only the first call counts", () => {
    const loop = makeLoop();
    const thenable = {
      then(resolve: (v: unknown) => void, reject: (r: unknown) => void) {
        reject(1);
        resolve(2);
        reject(3);
      },
    };
    expect(outcome(loop, loop.Promise.resolve(thenable))).toEqual({
      status: "rejected",
      reason: 1,
    });
  });

  test("a non-callable then fulfills with the object itself", () => {
    const loop = makeLoop();
    const obj = { then: 5 };
    expect(outcome(loop, loop.Promise.resolve(obj))).toEqual({ status: "fulfilled", value: obj });
  });

  test("handlers are called as plain functions (this undefined) with one argument", () => {
    const loop = makeLoop();
    let seen: unknown[] = [];
    loop.Promise.resolve(7).then(function (this: unknown, ...args: unknown[]) {
      seen = [this, ...args];
    });
    loop.host.run();
    expect(seen).toEqual([undefined, 7]);
  });

  test("non-callable handlers pass values and reasons through", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    expect(outcome(loop, P.resolve(1).then(5 as never, null))).toEqual({
      status: "fulfilled",
      value: 1,
    });
    expect(
      outcome(
        loop,
        P.reject(2).then(() => 0, "x" as never),
      ),
    ).toEqual({ status: "rejected", reason: 2 });
  });

  test("a throw inside a reaction handler rejects the derived promise", () => {
    const loop = makeLoop();
    const err = new Error("handler");
    expect(
      outcome(
        loop,
        loop.Promise.resolve(1).then(() => {
          throw err;
        }),
      ),
    ).toEqual({ status: "rejected", reason: err });
    expect(loop.host.errors).toEqual([]);
  });

  test("a handler returning a promise is adopted (after the two extra jobs)", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    expect(
      outcome(
        loop,
        P.resolve(1).then(() => P.resolve(2)),
      ),
    ).toEqual({ status: "fulfilled", value: 2 });
    expect(
      outcome(
        loop,
        P.resolve(1).then(() => P.reject(3)),
      ),
    ).toEqual({ status: "rejected", reason: 3 });
  });

  test("a then handler attached to a settled promise runs in a later job, never synchronously", () => {
    const loop = makeLoop();
    const log: string[] = [];
    loop.Promise.resolve(1).then(() => log.push("handler"));
    log.push("sync");
    loop.host.run();
    expect(log).toEqual(["sync", "handler"]);
  });
});

describe("finally", () => {
  test("finally passes the value through", () => {
    const loop = makeLoop();
    let calls = 0;
    expect(
      outcome(
        loop,
        loop.Promise.resolve(1).finally(() => {
          calls++;
          return 99;
        }),
      ),
    ).toEqual({ status: "fulfilled", value: 1 });
    expect(calls).toBe(1);
  });

  test("finally passes the reason through", () => {
    const loop = makeLoop();
    const args: unknown[][] = [];
    const r = outcome(
      loop,
      loop.Promise.reject(2).finally((...a: unknown[]) => {
        args.push(a);
      }),
    );
    expect(r).toEqual({ status: "rejected", reason: 2 });
    expect(args).toEqual([[]]);
  });

  test("finally awaits the onFinally result (a thenable's then is called)", () => {
    const loop = makeLoop();
    const log: string[] = [];
    let release!: () => void;
    const gate = {
      then(resolve: () => void) {
        log.push("gate.then");
        release = resolve;
      },
    };
    const p = loop.Promise.resolve("v").finally(() => gate);
    let state = "pending";
    p.then((v) => {
      state = `fulfilled:${String(v)}`;
    });
    loop.host.run();
    expect(log).toEqual(["gate.then"]);
    expect(state).toBe("pending");
    release();
    loop.host.run();
    expect(state).toBe("fulfilled:v");
  });

  test("a throw or rejection in onFinally replaces the outcome", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const err = new Error("finally");
    expect(
      outcome(
        loop,
        P.resolve(1).finally(() => {
          throw err;
        }),
      ),
    ).toEqual({ status: "rejected", reason: err });
    expect(
      outcome(
        loop,
        P.reject(1).finally(() => P.reject(err)),
      ),
    ).toEqual({ status: "rejected", reason: err });
  });

  test("finally with a non-callable argument is then(x, x)", () => {
    const loop = makeLoop();
    expect(outcome(loop, loop.Promise.resolve(3).finally(undefined))).toEqual({
      status: "fulfilled",
      value: 3,
    });
  });

  test("finally is generic: it calls this.then with two functions", () => {
    const { Promise: P } = makeLoop();
    const calls: unknown[][] = [];
    const thenable = {
      then: (...args: unknown[]) => {
        calls.push(args);
        return "r";
      },
    };
    expect(P.prototype.finally.call(thenable as never, () => {})).toBe("r");
    expect(calls).toHaveLength(1);
    expect(typeof calls[0]![0]).toBe("function");
    expect(typeof calls[0]![1]).toBe("function");
    expect(() => P.prototype.finally.call(1 as never, () => {})).toThrow(
      /non-object: got type number \(1\)/,
    );
  });
});

describe("combinators", () => {
  test("Promise.all resolves values in order and rejects with the first rejection", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const late = new P<number>((resolve) => loop.host.setTimeout(() => resolve(1), 5));
    expect(outcome(loop, P.all([late, 2, P.resolve(3)]))).toEqual({
      status: "fulfilled",
      value: [1, 2, 3],
    });
    expect(outcome(loop, P.all([]))).toEqual({ status: "fulfilled", value: [] });
    expect(outcome(loop, P.all([P.resolve(1), P.reject("a"), P.reject("b")]))).toEqual({
      status: "rejected",
      reason: "a",
    });
  });

  test("Promise.allSettled reports every outcome", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    expect(outcome(loop, P.allSettled([P.resolve(1), P.reject(2), 3]))).toEqual({
      status: "fulfilled",
      value: [
        { status: "fulfilled", value: 1 },
        { status: "rejected", reason: 2 },
        { status: "fulfilled", value: 3 },
      ],
    });
  });

  test("Promise.any rejects with an AggregateError of all reasons, in order", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const r = outcome(loop, P.any([P.reject("a"), P.reject("b")]));
    expect(r.status).toBe("rejected");
    expect(r.reason).toBeInstanceOf(AggregateError);
    expect((r.reason as AggregateError).errors).toEqual(["a", "b"]);
    expect((r.reason as AggregateError).message).toBe("All promises were rejected");
    const empty = outcome(loop, P.any([]));
    expect((empty.reason as AggregateError).errors).toEqual([]);
    expect(outcome(loop, P.any([P.reject(1), P.resolve(2)]))).toEqual({
      status: "fulfilled",
      value: 2,
    });
  });

  test("Promise.race settles like the first element to settle; empty stays pending", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const slow = new P((resolve) => loop.host.setTimeout(() => resolve("slow"), 10));
    const fast = new P((_, reject) => loop.host.setTimeout(() => reject("fast"), 1));
    expect(outcome(loop, P.race([slow, fast]))).toEqual({ status: "rejected", reason: "fast" });
    expect(outcome(loop, P.race([]))).toEqual({ status: "pending" });
  });

  test("combinators accept any iterable (Set, generator, string)", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    function* gen() {
      yield 1;
      yield P.resolve(2);
    }
    expect(outcome(loop, P.all(new Set([1, 2])))).toEqual({ status: "fulfilled", value: [1, 2] });
    expect(outcome(loop, P.all(gen()))).toEqual({ status: "fulfilled", value: [1, 2] });
    expect(outcome(loop, P.all("ab"))).toEqual({ status: "fulfilled", value: ["a", "b"] });
  });

  test("combinators reject (never throw) when the argument is not iterable", () => {
    const loop = makeLoop();
    for (const name of ["all", "allSettled", "any", "race"] as const) {
      const r = outcome(loop, (loop.Promise[name] as (x: unknown) => Promise<unknown>)(42));
      expect(r.status, name).toBe("rejected");
      expect(r.reason, name).toBeInstanceOf(TypeError);
    }
  });

  test("combinators read resolve from the constructor exactly once", () => {
    const loop = makeLoop();
    let reads = 0;
    class Counting extends loop.Promise<unknown> {
      static override get resolve() {
        reads++;
        return loop.Promise.resolve;
      }
    }
    const r = outcome(loop, Counting.all([1, 2, 3]));
    expect(r).toEqual({ status: "fulfilled", value: [1, 2, 3] });
    expect(reads).toBe(1);
  });

  test("combinators reject when the constructor's resolve is not callable, before touching the iterable", () => {
    const loop = makeLoop();
    // @ts-expect-error -- deliberately not a PromiseConstructor-compatible static resolve
    class NoResolve extends loop.Promise<unknown> {
      static override get resolve() {
        return 5;
      }
    }
    let iterated = false;
    const iterable = {
      [Symbol.iterator]() {
        iterated = true;
        return [][Symbol.iterator]();
      },
    };
    const r = outcome(loop, NoResolve.all(iterable as never));
    expect(r.status).toBe("rejected");
    expect(String(r.reason)).toMatch(/resolve is not a function: got type number \(5\)/);
    expect(iterated).toBe(false);
  });

  /** An iterator over `values` that records next/return calls; `throwAt` makes next() throw. */
  function trackedIterable(values: unknown[], throwAt = -1) {
    const log: string[] = [];
    let i = 0;
    const iterable = {
      [Symbol.iterator]() {
        return {
          next() {
            log.push("next");
            if (i === throwAt) throw new Error("next threw");
            return i < values.length
              ? { value: values[i++], done: false }
              : { value: undefined, done: true };
          },
          return() {
            log.push("return");
            return { done: true };
          },
        };
      },
    };
    return { iterable, log };
  }

  test("combinators close the iterator (IteratorClose) when resolve throws", () => {
    const loop = makeLoop();
    const err = new Error("resolve threw");
    class Throwing extends loop.Promise<unknown> {
      static override resolve(): never {
        throw err;
      }
    }
    for (const name of ["all", "allSettled", "any", "race"] as const) {
      const { iterable, log } = trackedIterable([1, 2]);
      const r = outcome(
        loop,
        (Throwing[name] as (x: unknown) => Promise<unknown>).call(Throwing, iterable),
      );
      expect(r, name).toEqual({ status: "rejected", reason: err });
      expect(log, name).toEqual(["next", "return"]);
    }
  });

  test("combinators close the iterator when an element's then throws", () => {
    const loop = makeLoop();
    const err = new Error("then threw");
    const bad = {
      then() {
        throw err;
      },
    };
    // @ts-expect-error -- deliberately not a PromiseConstructor-compatible static resolve
    class Identity extends loop.Promise<unknown> {
      static override resolve(x: unknown): never {
        return x as never;
      }
    }
    const { iterable, log } = trackedIterable([bad, 2]);
    expect(outcome(loop, Identity.all(iterable as never))).toEqual({
      status: "rejected",
      reason: err,
    });
    expect(log).toEqual(["next", "return"]);
  });

  test("combinators do not close the iterator when next() throws", () => {
    const loop = makeLoop();
    const { iterable, log } = trackedIterable([1, 2], 1);
    const r = outcome(loop, loop.Promise.all(iterable as never));
    expect(r.status).toBe("rejected");
    expect(String(r.reason)).toMatch(/next threw/);
    expect(log).toEqual(["next", "next"]);
  });

  test("combinators invoke then on each element (observable for thenables)", () => {
    const loop = makeLoop();
    const calls: number[] = [];
    const thenable = (v: number) => ({
      then(resolve: (x: number) => void) {
        calls.push(v);
        resolve(v * 10);
      },
    });
    expect(outcome(loop, loop.Promise.all([thenable(1), thenable(2)]))).toEqual({
      status: "fulfilled",
      value: [10, 20],
    });
    expect(calls).toEqual([1, 2]);
  });

  test("element functions ignore a second call (alreadyCalled)", () => {
    const loop = makeLoop();
    let captured!: (v: unknown) => void;
    // @ts-expect-error -- deliberately not a PromiseConstructor-compatible static resolve
    class Identity extends loop.Promise<unknown> {
      static override resolve(x: unknown): never {
        return x as never;
      }
    }
    const el = {
      then(resolve: (v: unknown) => void) {
        captured = resolve;
        resolve("first");
      },
    };
    const p = Identity.all([el, { then: (r: (v: unknown) => void) => r("b") }]);
    captured("second");
    expect(outcome(loop, p)).toEqual({ status: "fulfilled", value: ["first", "b"] });
  });
});

describe("withResolvers and try", () => {
  test("withResolvers returns { promise, resolve, reject } in that order", () => {
    const loop = makeLoop();
    const r = loop.Promise.withResolvers<number>();
    expect(Object.keys(r)).toEqual(["promise", "resolve", "reject"]);
    expect(r.promise).toBeInstanceOf(loop.Promise);
    r.resolve(4);
    r.reject(5);
    expect(outcome(loop, r.promise)).toEqual({ status: "fulfilled", value: 4 });
  });

  test("try calls the callback synchronously with its arguments and captures throws", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const log: string[] = [];
    const p = P.try(
      (a: number, b: number) => {
        log.push("called");
        return a + b;
      },
      1,
      2,
    );
    log.push("after");
    expect(log).toEqual(["called", "after"]);
    expect(outcome(loop, p)).toEqual({ status: "fulfilled", value: 3 });
    const err = new Error("sync");
    expect(
      outcome(
        loop,
        P.try(() => {
          throw err;
        }),
      ),
    ).toEqual({ status: "rejected", reason: err });
    expect(
      outcome(
        loop,
        P.try(() => P.resolve("adopted")),
      ),
    ).toEqual({ status: "fulfilled", value: "adopted" });
    const bad = outcome(loop, P.try(7 as never));
    expect(bad.status).toBe("rejected");
    expect(String(bad.reason)).toMatch(/callback is not a function: got type number \(7\)/);
  });
});

describe("subclassing and species", () => {
  test("then on a subclass instance returns a subclass instance (species)", () => {
    const loop = makeLoop();
    class P2<T> extends loop.Promise<T> {}
    const p = new P2<number>((resolve) => resolve(1));
    const d = p.then((v) => v + 1);
    expect(d).toBeInstanceOf(P2);
    expect(P2.resolve(1)).toBeInstanceOf(P2);
    expect(P2.all([1])).toBeInstanceOf(P2);
    expect(p.finally(() => {})).toBeInstanceOf(P2);
    expect(outcome(loop, d)).toEqual({ status: "fulfilled", value: 2 });
  });

  test("Symbol.species can redirect derived promises to the base class", () => {
    const loop = makeLoop();
    class P3<T> extends loop.Promise<T> {
      static override get [Symbol.species]() {
        return loop.Promise;
      }
    }
    const d = new P3((resolve) => resolve(1)).then((v) => v);
    expect(d).not.toBeInstanceOf(P3);
    expect(d).toBeInstanceOf(loop.Promise);
  });

  test("then goes through NewPromiseCapability: new C(executor) is called", () => {
    const loop = makeLoop();
    const seen: unknown[] = [];
    class Spy<T> extends loop.Promise<T> {
      constructor(executor: (res: (v: T) => void, rej: (r: unknown) => void) => void) {
        seen.push(typeof executor);
        super(executor);
      }
    }
    const p = Spy.resolve(1);
    seen.length = 0;
    p.then(() => {});
    expect(seen).toEqual(["function"]);
  });

  test("NewPromiseCapability throws TypeError when the executor is called twice or never", () => {
    const loop = makeLoop();
    const p = loop.Promise.resolve(1);
    class Twice {
      constructor(executor: (a: unknown, b: unknown) => void) {
        executor(
          () => {},
          () => {},
        );
        executor(
          () => {},
          () => {},
        );
      }
    }
    class Never {}
    (p as unknown as { constructor: unknown }).constructor = { [Symbol.species]: Twice };
    expect(() => p.then()).toThrow(/executor already called/);
    (p as unknown as { constructor: unknown }).constructor = { [Symbol.species]: Never };
    expect(() => p.then()).toThrow(/resolve is not a function: got undefined/);
    (p as unknown as { constructor: unknown }).constructor = { [Symbol.species]: () => {} };
    expect(() => p.then()).toThrow(/Symbol.species is not a constructor/);
    (p as unknown as { constructor: unknown }).constructor = 5;
    expect(() => p.then()).toThrow(/constructor property is not an object: got type number \(5\)/);
  });

  test("Promise.resolve returns the same object only if its constructor is this", () => {
    const loop = makeLoop();
    class P2<T> extends loop.Promise<T> {}
    const p = loop.Promise.resolve(1);
    expect(loop.Promise.resolve(p)).toBe(p);
    const wrapped = P2.resolve(p);
    expect(wrapped).not.toBe(p);
    expect(wrapped).toBeInstanceOf(P2);
    let reads = 0;
    Object.defineProperty(p, "constructor", {
      get() {
        reads++;
        return loop.Promise;
      },
    });
    loop.Promise.resolve(p);
    expect(reads).toBe(1);
  });

  test("promises of two loops share the prototype (like one realm's), and each runs its jobs on its own loop", () => {
    const a = makeLoop();
    const b = makeLoop();
    // One prototype for every loop: the brand check passes, instanceof is true across loops.
    expect(a.Promise.prototype).toBe(b.Promise.prototype);
    expect(a.Promise).not.toBe(b.Promise);
    const pa = a.Promise.resolve("from a");
    expect(pa).toBeInstanceOf(b.Promise);
    // What tells them apart: the constructor is the promise's own loop's Promise.
    expect(pa.constructor).toBe(a.Promise);
    expect(b.Promise.resolve(pa)).not.toBe(pa); // another loop's promise is adopted, not returned
    expect(a.Promise.resolve(pa)).toBe(pa);
    // then through b's prototype method still derives on a (SpeciesConstructor is a.Promise).
    const derived = b.Promise.prototype.then.call(pa, (v: unknown) => `${v}, then`);
    expect(derived.constructor).toBe(a.Promise);
    const pb = b.Promise.resolve(pa);
    expect(pb.constructor).toBe(b.Promise);
    const seen: string[] = [];
    derived.then((v) => seen.push(`derived: ${v}`));
    pb.then((v) => seen.push(`pb: ${v}`));
    // b alone cannot settle pb: its adoption waits for a's job (pa.then's reaction runs on a).
    b.host.run();
    expect(seen).toEqual([]);
    for (let i = 0; i < 5; i++) {
      a.host.run();
      b.host.run();
    }
    expect(seen.sort()).toEqual(["derived: from a, then", "pb: from a"]);
  });

  test("the shared prototype's constructor names no loop; assigning constructor makes an own property", () => {
    const loop = makeLoop();
    const proto = loop.Promise.prototype as unknown as { constructor: new () => unknown };
    expect(proto.constructor.name).toBe("Promise");
    expect(() => new proto.constructor()).toThrow(
      /shared by every loop.*construct promises with a loop's Promise/,
    );
    const p = loop.Promise.resolve(1);
    (p as unknown as { constructor: unknown }).constructor = 5;
    expect(Object.getOwnPropertyDescriptor(p, "constructor")).toEqual({
      value: 5,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(loop.Promise.resolve(2).constructor).toBe(loop.Promise); // other promises unaffected
  });

  test("finally on a thenable that is no loop's promise, without species, uses the realm's native Promise", async () => {
    const loop = makeLoop();
    let thenCalls = 0;
    const thenable = {
      then(f: (v: unknown) => unknown) {
        thenCalls++;
        return f("value");
      },
    };
    let ran = false;
    const result = loop.Promise.prototype.finally.call(thenable, () => {
      ran = true;
      return "ignored";
    });
    expect(thenCalls).toBe(1);
    expect(ran).toBe(true);
    // thenFinally returned PromiseResolve(%Promise%, ...).then(...): a native promise.
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe("value");
  });
});
