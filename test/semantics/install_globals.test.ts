/// <reference types="node" />
/**
 * installGlobals(target): the loop's timer functions and queueMicrotask on globalThis or
 * a node:vm context's global, and a disposer that restores what was there.
 *
 * Sources: the brief ("installs setTimeout/clearTimeout/setInterval/clearInterval/
 * setImmediate/clearImmediate/queueMicrotask ... returns a disposer (callable and
 * [Symbol.dispose]) that restores the originals (including absence)"); conventions.md
 * ("Installing globals is opt-in and returns a Disposable that restores them"; "Capture
 * the host's native scheduling functions at module load so the driver never calls itself
 * through installed globals"); HTML timer initialization steps (thisArg is the global).
 */
import vm from "node:vm";
import { describe, expect, test } from "vitest";
import { makeFakeHostLoop, makeLoop, sleep } from "./_helpers.ts";

const NAMES = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
  "queueMicrotask",
] as const;

type Record_ = Record<string, unknown>;

describe("installGlobals(globalThis)", () => {
  test("installs the loop's functions, `this` is globalThis, and the disposer restores the exact originals", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const g = globalThis as unknown as Record_;
    const before = new Map(NAMES.map((name) => [name, Object.getOwnPropertyDescriptor(g, name)]));
    const seen: unknown[] = [];
    const restore = loop.installGlobals(globalThis);
    try {
      for (const name of NAMES) {
        expect(g[name]).not.toBe(before.get(name)?.value);
        expect(typeof g[name]).toBe("function");
      }
      const setTimeout_ = g.setTimeout as (fn: Function, ms?: number, ...args: unknown[]) => number;
      const id = setTimeout_(
        function (this: unknown, arg: unknown) {
          seen.push(this, arg);
        },
        10,
        "arg",
      );
      expect(typeof id).toBe("number"); // the html loop's id, not a Node Timeout
      (g.queueMicrotask as (fn: () => void) => void)(() => seen.push("microtask"));
      const cleared = setTimeout_(() => seen.push("cleared"), 5);
      (g.clearTimeout as (id: number) => void)(cleared);
      expect(loop.pending.timers).toBe(1);
    } finally {
      restore();
    }
    for (const name of NAMES)
      expect(Object.getOwnPropertyDescriptor(g, name)).toEqual(before.get(name));
    loop.advance(10);
    expect(seen).toEqual(["microtask", globalThis, "arg"]);
  });

  test("the disposer also works through Symbol.dispose and is idempotent", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const original = globalThis.setTimeout;
    const restore = loop.installGlobals(globalThis);
    expect(globalThis.setTimeout).not.toBe(original);
    restore[Symbol.dispose]();
    expect(globalThis.setTimeout).toBe(original);
    restore();
    restore[Symbol.dispose]();
    expect(globalThis.setTimeout).toBe(original);
  });

  test("installed functions work when called unbound and carry their names", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const target: Record_ = {};
    const restore = loop.installGlobals(target);
    for (const name of NAMES) expect((target[name] as Function).name).toBe(name);
    const { setTimeout: st, setImmediate: si } = target as {
      setTimeout: Function;
      setImmediate: Function;
    };
    const log: string[] = [];
    st(() => log.push("timeout"), 1);
    si(() => log.push("immediate"));
    loop.advance(1);
    expect(log).toEqual(["immediate", "timeout"]);
    restore();
  });

  test("nested installs onto one target restore in reverse order", async () => {
    const a = await makeLoop({ profile: "html" });
    const b = await makeLoop({ profile: "html" });
    const original = globalThis.setTimeout;
    const restoreA = a.loop.installGlobals(globalThis);
    const installedA = globalThis.setTimeout;
    const restoreB = b.loop.installGlobals(globalThis);
    restoreB();
    expect(globalThis.setTimeout).toBe(installedA);
    restoreA();
    expect(globalThis.setTimeout).toBe(original);
  });

  test("real clock (fake host): a loop installed on globalThis is driven by the host's own functions (it never calls itself)", async () => {
    // On the fake host the loop is woken by the fake host's functions, captured when its
    // copy of zigloop loaded; had it called the installed globals (itself) instead, nothing
    // would wake it and host.until would throw. Host time is exact, so the 100 ms timer
    // cannot become due before the loop's first wake-up, however loaded the machine.
    const { loop, host } = await makeFakeHostLoop({ profile: "node" });
    const fired: string[] = [];
    const restore = loop.installGlobals(globalThis);
    try {
      globalThis.setTimeout(() => fired.push(`timeout at ${loop.now()}`), 100);
      globalThis.setImmediate(() => fired.push(`immediate at ${loop.now()}`));
      globalThis.queueMicrotask(() => fired.push("microtask"));
      expect(loop.pending).toMatchObject({ timers: 1, immediates: 1, microtasks: 1 });
      await host.until(loop.run());
    } finally {
      restore();
    }
    expect(fired).toEqual(["microtask", "immediate at 0", "timeout at 100"]);
    loop.close();
  });

  test("a non-object target is a TypeError", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    // (undefined is not in the list: it selects the default target, globalThis.)
    for (const target of [null, 1, "global", Symbol("s")]) {
      let restore: (() => void) | undefined;
      expect(() => {
        restore = loop.installGlobals(target as never);
      }).toThrow(TypeError);
      restore?.();
    }
  });
});

describe("installGlobals(a node:vm context's global)", () => {
  test("guest code uses the loop; `this` is the context's global; extra args pass; disposing restores absence", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const reports: unknown[][] = [];
    const context = vm.createContext({ report: (...args: unknown[]) => reports.push(args) });
    const contextGlobal = vm.runInContext("globalThis", context) as object;
    expect(vm.runInContext("typeof setTimeout", context)).toBe("undefined");
    const restore = loop.installGlobals(contextGlobal);
    vm.runInContext(
      `
      setTimeout(function (a, b) { report("timeout", this === globalThis, a, b); }, 10, "x", 2);
      const cleared = setInterval(() => report("cleared interval"), 1);
      clearInterval(cleared);
      setImmediate(() => report("immediate"));
      queueMicrotask(() => report("microtask"));
      report("sync", typeof setTimeout(() => {}, 100));
      `,
      context,
    );
    loop.advance(10);
    expect(reports).toEqual([
      ["sync", "number"],
      ["microtask"],
      ["immediate"],
      ["timeout", true, "x", 2],
    ]);
    restore();
    for (const name of NAMES) expect(vm.runInContext(`typeof ${name}`, context)).toBe("undefined");
    expect(
      vm.runInContext(
        `Object.getOwnPropertyNames(globalThis).filter((n) => /Timeout|Interval|Immediate|queueMicrotask/.test(n))`,
        context,
      ),
    ).toEqual([]);
  });

  test("properties the context already had are restored", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const context = vm.createContext({});
    vm.runInContext(
      `globalThis.setTimeout = "guest's own"; globalThis.queueMicrotask = 42;`,
      context,
    );
    const contextGlobal = vm.runInContext("globalThis", context) as object;
    const restore = loop.installGlobals(contextGlobal);
    expect(vm.runInContext("typeof setTimeout", context)).toBe("function");
    restore();
    expect(vm.runInContext("setTimeout", context)).toBe("guest's own");
    expect(vm.runInContext("queueMicrotask", context)).toBe(42);
    expect(vm.runInContext("typeof setInterval", context)).toBe("undefined");
  });

  test("two loops in two contexts are independent", async () => {
    const a = await makeLoop({ profile: "html" });
    const b = await makeLoop({ profile: "node" });
    const out: string[] = [];
    const ctxA = vm.createContext({ out });
    const ctxB = vm.createContext({ out });
    const restoreA = a.loop.installGlobals(vm.runInContext("globalThis", ctxA) as object);
    const restoreB = b.loop.installGlobals(vm.runInContext("globalThis", ctxB) as object);
    vm.runInContext(`setTimeout(() => out.push("A"), 5)`, ctxA);
    vm.runInContext(`setTimeout(() => out.push("B"), 5)`, ctxB);
    b.loop.advance(5);
    expect(out).toEqual(["B"]);
    a.loop.advance(5);
    expect(out).toEqual(["B", "A"]);
    restoreA();
    restoreB();
  });

  test("node profile in a context: the guest gets Timeout objects and `this` is the Timeout", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const out: unknown[] = [];
    const context = vm.createContext({ out });
    const restore = loop.installGlobals(vm.runInContext("globalThis", context) as object);
    vm.runInContext(
      `const t = setTimeout(function () { out.push(this === t, typeof t.refresh, t.hasRef()); }, 5);`,
      context,
    );
    loop.advance(5);
    expect(out).toEqual([true, "function", true]);
    restore();
  });

  test("real clock: guest timers in a context are driven by the host", async () => {
    const { loop } = await makeLoop({ profile: "html", clock: "real" });
    const out: string[] = [];
    const context = vm.createContext({ out });
    const restore = loop.installGlobals(vm.runInContext("globalThis", context) as object);
    vm.runInContext(`setTimeout(() => out.push("fired"), 5)`, context);
    await loop.run();
    await sleep(0);
    expect(out).toEqual(["fired"]);
    restore();
    loop.close();
  });
});
