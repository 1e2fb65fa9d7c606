/**
 * Interop with native promises and thenables. Native continuations run on the engine's own queue, so
 * these tests only check what is deterministic: results, and which queue a step runs on.
 */
import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import { makeLoop } from "./_stub_host.ts";

const tick = (): Promise<void> => new globalThis.Promise((r) => setTimeout(r, 0));

/**
 * A rejected native promise, pre-handled natively: the engine tracks rejections of its own promises, and
 * our thenable job calls the native then only one loop job later, after the engine may have flagged it.
 */
function nativeRejected(reason: unknown): Promise<never> {
  const p = globalThis.Promise.reject(reason);
  p.catch(() => {});
  return p;
}

describe("interop", () => {
  test("native await on a loop promise works (native await calls our then)", async () => {
    const loop = makeLoop({ auto: true });
    expect(await loop.Promise.resolve(5)).toBe(5);
    const err = new Error("x");
    await expect((async () => await loop.Promise.reject(err))()).rejects.toBe(err);
    const late = new loop.Promise((resolve) => setTimeout(() => resolve("late"), 2));
    expect(await late).toBe("late");
  });

  test("an async function can await loop promises repeatedly", async () => {
    const loop = makeLoop({ auto: true });
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += await loop.Promise.resolve(i).then((v) => v * 2);
    expect(sum).toBe(90);
  });

  test("LoopPromise.resolve(nativePromise) adopts it through a job on the loop's queue", async () => {
    const loop = makeLoop();
    const native = globalThis.Promise.resolve("native value");
    const calls: string[] = [];
    const originalThen = native.then;
    native.then = function (this: Promise<string>, ...args: Parameters<typeof originalThen>) {
      calls.push("native then called");
      return originalThen.apply(this, args);
    } as typeof originalThen;
    const p = loop.Promise.resolve(native);
    expect(p).not.toBe(native);
    expect(calls).toEqual([]); // not synchronously
    loop.host.runMicrotasks(); // our NewPromiseResolveThenableJob calls native then
    expect(calls).toEqual(["native then called"]);
    let value: unknown;
    p.then((v) => {
      value = v;
    });
    await tick(); // the native reaction calls our resolve function
    loop.host.run(); // our reaction runs on our queue
    expect(value).toBe("native value");
  });

  test("a rejected native promise is adopted as a rejection", async () => {
    const loop = makeLoop({ auto: true });
    const err = new Error("native rejection");
    const native = nativeRejected(err);
    await expect(loop.Promise.resolve(native)).rejects.toBe(err);
  });

  test("combinators accept native promises and thenables", async () => {
    const loop = makeLoop({ auto: true });
    const thenable = {
      then(resolve: (v: string) => void) {
        resolve("thenable");
      },
    };
    const values = await loop.Promise.all([
      globalThis.Promise.resolve("native"),
      thenable,
      loop.Promise.resolve("loop"),
      4,
    ]);
    expect(values).toEqual(["native", "thenable", "loop", 4]);
    expect(
      await loop.Promise.race([
        new globalThis.Promise(() => {}),
        globalThis.Promise.resolve("first"),
      ]),
    ).toBe("first");
    const settled = await loop.Promise.allSettled([nativeRejected("no")]);
    expect(settled).toEqual([{ status: "rejected", reason: "no" }]);
    expect(await loop.Promise.any([nativeRejected(1), thenable])).toBe("thenable");
  });

  test("a native promise can adopt a loop promise", async () => {
    const loop = makeLoop({ auto: true });
    const native = globalThis.Promise.resolve(loop.Promise.resolve("from loop"));
    expect(await native).toBe("from loop");
  });

  test("util.inspect shows a loop promise as it shows a native one: state and value", () => {
    const loop = makeLoop();
    const P = loop.Promise;
    const N = globalThis.Promise;
    const same = (ours: unknown, native: unknown) => expect(inspect(ours)).toBe(inspect(native));
    same(new P(() => {}), new N(() => {}));
    same(P.resolve({ a: [1, 2] }), N.resolve({ a: [1, 2] }));
    same([P.resolve("s")], [N.resolve("s")]);
    const ours = P.reject("why");
    ours.catch(() => {});
    same(ours, nativeRejected("why"));
    class Sub<T> extends P<T> {}
    class NativeSub<T> extends N<T> {}
    // A subclass: its own name, then [Promise], as Node writes it.
    expect(inspect(new Sub(() => {}))).toBe(
      inspect(new NativeSub(() => {})).replace("NativeSub", "Sub"),
    );
    loop.host.run();
  });
});
