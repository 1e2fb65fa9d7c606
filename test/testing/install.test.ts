/// <reference types="node" />
/**
 * zigloop/testing on its own: what install() replaces and restores, its config errors,
 * the html profile's rules, runAll's limit error, real-time advancing, native timers,
 * and the CommonJS entry. The behaviour shared with fake-timers is in
 * differential.test.ts.
 */
import { createRequire } from "node:module";
import { setTimeout as timersSetTimeout } from "node:timers";
import {
  setInterval as promisesSetInterval,
  setTimeout as promisesSetTimeout,
  scheduler,
} from "node:timers/promises";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { createClock, type FakeClock, install, withGlobal } from "../../src-ts/testing/node.ts";
import { GLOBAL_NAMES } from "./scenarios.ts";

const g = globalThis as Record<string, any>;

let clock: FakeClock | undefined;
afterEach(() => {
  clock?.uninstall();
  clock = undefined;
});

function descriptors(target: object, names: string[]) {
  return names.map((name) => Object.getOwnPropertyDescriptor(target, name));
}

describe("install and uninstall", () => {
  test("every faked global and process.hrtime/nextTick is replaced, then restored exactly", () => {
    const before = descriptors(globalThis, GLOBAL_NAMES);
    const processBefore = descriptors(process, ["hrtime", "nextTick"]);
    clock = install();
    for (const name of GLOBAL_NAMES)
      expect(g[name], name).not.toBe(
        before[GLOBAL_NAMES.indexOf(name)]?.value ?? before[GLOBAL_NAMES.indexOf(name)]?.get?.(),
      );
    expect(process.hrtime).toBe(clock.hrtime);
    expect(process.nextTick).toBe(clock.nextTick);
    expect(clock.methods).toContain("Date");
    clock.uninstall();
    clock = undefined;
    expect(descriptors(globalThis, GLOBAL_NAMES)).toEqual(before);
    expect(descriptors(process, ["hrtime", "nextTick"])).toEqual(processBefore);
  });

  test("toFake fakes only those names; toNotFake leaves those alone", () => {
    const realDate = Date;
    const realSetTimeout = setTimeout;
    clock = install({ toFake: ["setTimeout"] });
    expect(setTimeout).not.toBe(realSetTimeout);
    expect(Date).toBe(realDate);
    clock.uninstall();
    clock = install({ toNotFake: ["Date", "nextTick"] });
    expect(Date).toBe(realDate);
    expect(setTimeout).not.toBe(realSetTimeout);
    expect(clock.methods).not.toContain("nextTick");
  });

  test("config errors are fake-timers' errors", () => {
    expect(() => install({ toFake: ["setTimeout"], toNotFake: ["Date"] })).toThrow(TypeError);
    expect(() => install(123 as never)).toThrow(/install requires an object parameter/);
    expect(() => install({ toFake: ["requestAnimationFrame"] })).toThrow(ReferenceError);
    clock = install({ toFake: ["requestAnimationFrame", "setTimeout"], ignoreMissingTimers: true });
    expect(clock.methods).toEqual(["setTimeout"]);
    clock.uninstall();
    clock = install();
    expect(() => install()).toThrow("Can't install fake timers twice on the same global object.");
  });

  test("withGlobal fakes another global and leaves globalThis alone", () => {
    const realSetTimeout = setTimeout;
    const fakeGlobal: Record<string, unknown> = { setTimeout, clearTimeout, Date };
    const other = withGlobal(fakeGlobal);
    expect(other.timers.setTimeout).toBe(realSetTimeout);
    const c = other.install();
    expect(fakeGlobal.setTimeout).toBe(c.setTimeout);
    expect(setTimeout).toBe(realSetTimeout);
    c.uninstall();
    expect(fakeGlobal.setTimeout).toBe(realSetTimeout);
  });

  test("reset() while installed: the globals keep working on the new loop", () => {
    clock = install({ now: 100 });
    const log: number[] = [];
    setTimeout(() => log.push(1), 10);
    clock.reset();
    setTimeout(() => log.push(Date.now()), 10);
    clock.tick(20);
    expect(log).toEqual([110]);
  });

  test("util.promisify(setTimeout) and Date() as a function follow the fake clock", async () => {
    clock = install({ now: Date.UTC(2030, 0, 1) });
    const wait = promisify(setTimeout);
    const done = wait(50, "value");
    await clock.tickAsync(50);
    await expect(done).resolves.toBe("value");
    expect(Date()).toBe(new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 50)).toString());
  });
});

describe("node:timers and node:timers/promises", () => {
  test("ES-module imports see the fake functions while installed, the originals after", async () => {
    const before = [timersSetTimeout, promisesSetTimeout, promisesSetInterval, scheduler];
    clock = install();
    expect(timersSetTimeout).toBe(clock.setTimeout);
    const log: unknown[] = [];
    const sleeper = promisesSetTimeout(100, "slept").then((v) => log.push(v, Date.now()));
    const beats = (async () => {
      for await (const v of promisesSetInterval(40, "beat")) {
        log.push(v, Date.now());
        if (Date.now() >= 120) break;
      }
    })();
    const waited = scheduler.wait(70).then(() => log.push("wait", Date.now()));
    await clock.tickAsync(200);
    await Promise.all([sleeper, beats, waited]);
    expect(log).toEqual(["beat", 40, "wait", 70, "beat", 80, "slept", 100, "beat", 120]);
    expect(clock.countTimers()).toBe(0);
    clock.uninstall();
    clock = undefined;
    expect([timersSetTimeout, promisesSetTimeout, promisesSetInterval, scheduler]).toEqual(before);
    expect(timersSetTimeout).toBe(before[0]);
  });

  test("an aborted signal rejects with its reason and clears the timer", async () => {
    clock = install();
    const controller = new AbortController();
    const sleeping = promisesSetTimeout(100, "never", { signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
    expect(clock.countTimers()).toBe(0);
  });
});

describe("zigloop's rules and extras", () => {
  test("the html profile: tick(0) runs 0 ms timers, ids are numbers, nested timers clamp to 4 ms", () => {
    clock = install({ profile: "html" });
    const times: number[] = [];
    const id = setTimeout(function nest() {
      times.push(performance.now());
      if (times.length < 8) setTimeout(nest, 0);
    }, 0);
    expect(typeof id).toBe("number");
    clock.tick(0);
    expect(times).toEqual([0, 0, 0, 0, 0, 0]);
    clock.runAll();
    expect(times).toEqual([0, 0, 0, 0, 0, 0, 4, 8]);
  });

  test("runAll's limit error names the timer that kept re-arming, with its creation stack", () => {
    const c = createClock(0, 20);
    c.setInterval(function heartbeat() {}, 5);
    c.setTimeout(function once() {}, 1);
    expect(() => c.runAll()).toThrow(
      /^Aborting after running 20 timers, assuming an infinite loop! The timer that kept re-arming: setInterval\(heartbeat, 5\)\. Install with \{ trackTimerCreation: true \}/,
    );
    const tracked = withGlobal({}).install({ loopLimit: 10, trackTimerCreation: true });
    tracked.setTimeout(function again() {
      tracked.setTimeout(again, 3);
    }, 3);
    let error: Error | undefined;
    try {
      tracked.runAll();
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe("LoopLimitError");
    expect(error?.message).toMatch(
      /setTimeout\(again, 3\).*\nIt was created at:\n.*install\.test\.ts/s,
    );
    expect((error!.cause as Error).name).toBe("LoopLimitError");
  });

  test("shouldAdvanceTime moves fake time with real time", async () => {
    clock = install({ shouldAdvanceTime: true, advanceTimeDelta: 5 });
    const start = Date.now();
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 20);
    // Real time, polled (a busy machine may run the 5 ms ticker late).
    for (let waited = 0; waited < 5000 && !fired; waited += 10) {
      await new Promise((resolve) => setRealTimeout(resolve, 10));
    }
    expect(fired).toBe(true);
    expect(Date.now() - start).toBeGreaterThanOrEqual(20);
    // A real-time tick that lands while tickAsync waits for the host is skipped.
    let done = false;
    const sleeper = (async () => {
      for (let i = 0; i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 1));
      done = true;
    })();
    await clock.tickAsync(500);
    await sleeper;
    expect(done).toBe(true);
  });

  test("shouldClearNativeTimers: clearTimeout after install clears a native timer", async () => {
    let fired = false;
    const native = setTimeout(() => {
      fired = true;
    }, 5);
    clock = install({ shouldClearNativeTimers: true });
    clearTimeout(native);
    clock.uninstall();
    clock = undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
  });

  test("the loop behind the clock: metrics and pending work", () => {
    const c = createClock();
    c.setTimeout(() => {}, 10);
    c.setImmediate(() => {});
    expect(c.loop.pending.timers).toBe(1);
    c.runAll();
    expect(c.loop.metrics().timersFired).toBeGreaterThanOrEqual(1);
  });

  test("an error thrown by a microtask outside any drive reaches the host", async () => {
    const c = createClock();
    const seen: unknown[] = [];
    const onError = (error: unknown) => seen.push(error);
    process.on("uncaughtException", onError);
    try {
      c.queueMicrotask(() => {
        throw new Error("outside");
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("uncaughtException", onError);
    }
    expect(seen.map((e) => (e as Error).message)).toEqual(["outside"]);
  });

  test("require('zigloop/testing') (the CommonJS bundle) works the same", () => {
    const require = createRequire(import.meta.url);
    const cjs =
      require("../../dist/cjs/testing.cjs") as typeof import("../../src-ts/testing/node.ts");
    const c = cjs.createClock(1000);
    const log: number[] = [];
    c.setTimeout(() => log.push(c.Date.now()), 25);
    c.tick(25);
    expect(log).toEqual([1025]);
    expect(typeof cjs.default.install).toBe("function");
  });
});

const setRealTimeout = globalThis.setTimeout;
