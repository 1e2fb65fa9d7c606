/**
 * Scripts written for @sinonjs/fake-timers, each returning a trace of what it saw. The
 * differential test runs every one on the real fake-timers and on zigloop/testing and
 * compares the traces; `DIFFERENCES` lists the scripts whose traces differ on purpose
 * (zigloop follows the runtime there), with both expected traces.
 */

/// <reference types="node" />
import timersModule, { setTimeout as esmTimersSetTimeout } from "node:timers";
import timersPromises, { setTimeout as esmPromisesSetTimeout } from "node:timers/promises";
import { FAKEABLE } from "../../src-ts/testing/config.ts";

const originalTimersSetTimeout = timersModule.setTimeout;

/** The part of fake-timers' module (and of zigloop/testing) the scripts use. */
export interface FakeTimersLike {
  install(config?: Record<string, unknown>): any;
  createClock(now?: number, loopLimit?: number): any;
}

/** The global names zigloop/testing fakes that this runtime has (process's two aside). */
export const GLOBAL_NAMES: string[] = FAKEABLE.filter(
  (name) => name !== "hrtime" && name !== "nextTick" && name in globalThis,
);

export type Scenario = (ft: FakeTimersLike) => unknown[] | Promise<unknown[]>;

const g = globalThis as Record<string, any>;

export const SCENARIOS: Record<string, Scenario> = {
  "tick: deadlines in order, equal deadlines in creation order, Date.now at each"(ft) {
    const clock = ft.install({ now: 1000 });
    const log: unknown[] = [];
    try {
      for (const [name, delay] of [
        ["a", 30],
        ["b", 10],
        ["c", 20],
        ["d", 10],
        ["e", 5],
      ] as const) {
        g.setTimeout(() => log.push(name, Date.now()), delay);
      }
      log.push("tick", clock.tick(15));
      log.push("tick", clock.tick(100));
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "tick: extra arguments, clearTimeout, a timer cleared by an earlier one"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      const late = g.setTimeout(() => log.push("late"), 20);
      g.setTimeout((x: number, y: string) => log.push("args", x, y), 10, 1, "two");
      g.setTimeout(() => g.clearTimeout(late), 15);
      const never = g.setTimeout(() => log.push("never"), 5);
      g.clearTimeout(never);
      clock.tick(30);
      log.push(clock.countTimers());
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "intervals: beats at multiples, cleared from inside, beside timeouts"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      let n = 0;
      const id = g.setInterval(() => {
        log.push("beat", Date.now());
        if (++n === 4) g.clearInterval(id);
      }, 10);
      g.setTimeout(() => log.push("t25", Date.now()), 25);
      g.setInterval(() => log.push("slow", Date.now()), 35);
      clock.tick(80);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "nested timers: created inside callbacks, fire at their own deadlines"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setTimeout(() => {
        log.push("outer", Date.now());
        g.setTimeout(() => {
          log.push("inner", Date.now());
          g.setTimeout(() => log.push("innermost", Date.now()), 7);
        }, 5);
        g.setTimeout(() => log.push("sibling", Date.now()), 12);
      }, 10);
      g.setTimeout(() => log.push("other", Date.now()), 15);
      clock.tick(40);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "Date under fake time: constructor, now, parse, UTC, instanceof, setSystemTime"(ft) {
    const RealDate = Date;
    const real = new Date(2020, 1, 2);
    const clock = ft.install({ now: Date.UTC(2030, 0, 1, 12) });
    const log: unknown[] = [];
    try {
      log.push(Date.now(), new Date().toISOString(), typeof Date(), Date().length > 0);
      log.push(
        new Date(0).getTime(),
        new Date(2024, 0, 1).getFullYear(),
        Date.parse("2001-02-03T04:05:06Z"),
      );
      log.push(Date.UTC(1999, 11, 31), new Date() instanceof RealDate, real instanceof Date);
      log.push(new Date().constructor === RealDate, Object.prototype.toString.call(new Date()));
      clock.tick(1500);
      log.push(Date.now(), new Date().getMilliseconds(), performance.now());
      clock.setSystemTime(Date.UTC(2040, 5, 6));
      log.push(new Date().toISOString(), performance.now());
      g.setTimeout(() => log.push("timer", performance.now(), new Date().toISOString()), 100);
      clock.tick(100);
    } finally {
      clock.uninstall();
    }
    log.push(Date === RealDate);
    return log;
  },

  "Date.prototype is the real one: a patch to it reaches fake dates"(ft) {
    const RealDate = Date;
    const clock = ft.install({ now: 86_400_000 });
    try {
      return [
        Date.prototype === RealDate.prototype,
        new Date().getUTCDate(),
        Date.length,
        Date.name,
      ];
    } finally {
      clock.uninstall();
    }
  },

  async "tickAsync: async/await chains follow fake time"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    const sleep = (ms: number) => new Promise((resolve) => g.setTimeout(resolve, ms));
    async function worker(name: string, every: number) {
      for (let i = 0; i < 3; i++) {
        await sleep(every);
        log.push(name, Date.now());
        await Promise.resolve();
        await null;
        log.push(`${name}+`, Date.now());
      }
    }
    try {
      const a = worker("a", 10);
      const b = worker("b", 15);
      log.push("tickAsync", await clock.tickAsync(100));
      await Promise.all([a, b]);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  async "runAllAsync and nextAsync: awaited timers chain through fake time"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    const sleep = (ms: number) => new Promise((resolve) => g.setTimeout(resolve, ms));
    try {
      const job = (async () => {
        await sleep(50);
        log.push("first", Date.now());
        await sleep(70);
        log.push("second", Date.now());
        return "done";
      })();
      log.push("next", await clock.nextAsync());
      log.push("runAll", await clock.runAllAsync());
      log.push(await job);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "runAll: runs every timer, nested ones too; next and runToLast"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setTimeout(() => {
        log.push("a", Date.now());
        g.setTimeout(() => log.push("a2", Date.now()), 1000);
      }, 100);
      g.setTimeout(() => log.push("b", Date.now()), 50);
      log.push("next", clock.next(), "count", clock.countTimers());
      log.push("runAll", clock.runAll(), "count", clock.countTimers());
      g.setTimeout(() => log.push("c", Date.now()), 10);
      g.setTimeout(() => {
        log.push("d", Date.now());
        g.setTimeout(() => log.push("after-last", Date.now()), 5);
      }, 20);
      log.push("runToLast", clock.runToLast(), "count", clock.countTimers());
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "runAll limit: a timer that keeps re-arming throws after loopLimit"(ft) {
    const clock = ft.createClock(0, 50);
    let runs = 0;
    clock.setTimeout(function again() {
      runs++;
      clock.setTimeout(again, 10);
    }, 10);
    let message = "";
    try {
      clock.runAll();
    } catch (error) {
      message = (error as Error).message.split("!")[0]!;
    }
    return [message, runs, clock.now];
  },

  "countTimers: timeouts, intervals, immediates; cleared ones leave"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      const t = g.setTimeout(() => {}, 10);
      const i = g.setInterval(() => {}, 10);
      g.setImmediate(() => {});
      log.push(clock.countTimers());
      g.clearTimeout(t);
      log.push(clock.countTimers());
      clock.tick(10);
      log.push(clock.countTimers());
      g.clearInterval(i);
      log.push(clock.countTimers());
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "reset: timers gone, time back at the start"(ft) {
    const clock = ft.install({ now: 500 });
    const log: unknown[] = [];
    try {
      g.setTimeout(() => log.push("fired"), 100);
      clock.tick(50);
      clock.reset();
      log.push(Date.now(), clock.now, clock.countTimers(), performance.now());
      clock.tick(200);
      g.setTimeout(() => log.push("after-reset", Date.now()), 10);
      clock.tick(10);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "jump: what fell due fires once, late; intervals skip beats"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setInterval(() => log.push("beat", Date.now()), 10);
      g.setTimeout(() => log.push("t25", Date.now()), 25);
      g.setTimeout(() => log.push("t100", Date.now()), 100);
      log.push("jump", clock.jump(65));
      clock.tick(20);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "process.nextTick and queueMicrotask run between timers, before promise jobs"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setTimeout(() => {
        log.push("t1");
        Promise.resolve().then(() => log.push("promise"));
        process.nextTick(() => log.push("tick"));
        g.queueMicrotask(() => log.push("micro"));
      }, 10);
      g.setTimeout(() => log.push("t2"), 10);
      clock.tick(10);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  async "queueMicrotask outside a tick: does it wait for the clock?"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.queueMicrotask(() => log.push("micro"));
      await Promise.resolve();
      await null;
      log.push("after awaits");
      clock.tick(0);
      log.push("after tick(0)");
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "errors: a throwing timer does not stop the tick; the first error is rethrown"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setTimeout(() => {
        throw new Error("first");
      }, 10);
      g.setTimeout(() => {
        throw new Error("second");
      }, 20);
      g.setTimeout(() => log.push("still runs", Date.now()), 30);
      try {
        clock.tick(40);
      } catch (error) {
        log.push("threw", (error as Error).message);
      }
      log.push(clock.now);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "uninstall restores every original exactly"(ft) {
    const names = GLOBAL_NAMES;
    const before = names.map((n) => Object.getOwnPropertyDescriptor(globalThis, n));
    const hr = process.hrtime;
    const nt = process.nextTick;
    const clock = ft.install();
    const timersFaked = g.setTimeout !== before[0]?.value && Date !== before[6]?.value;
    clock.uninstall();
    const after = names.map((n) => Object.getOwnPropertyDescriptor(globalThis, n));
    const same = before.map((d, i) => {
      const a = after[i];
      return (
        d?.value === a?.value &&
        d?.get === a?.get &&
        d?.set === a?.set &&
        d?.enumerable === a?.enumerable &&
        d?.writable === a?.writable
      );
    });
    return [timersFaked, same, process.hrtime === hr, process.nextTick === nt];
  },

  "createClock: animation frames, idle callbacks, hrtime and performance.now"(ft) {
    const clock = ft.createClock(0);
    const log: unknown[] = [];
    clock.requestAnimationFrame((t: number) => log.push("frame", t, clock.now));
    const frame = clock.requestAnimationFrame(() => log.push("cancelled"));
    clock.cancelAnimationFrame(frame);
    clock.requestIdleCallback(
      (d: { didTimeout: boolean }) => log.push("idle", d.didTimeout, clock.now),
      { timeout: 40 },
    );
    clock.tick(5);
    clock.requestAnimationFrame((t: number) => log.push("frame2", t, clock.now));
    clock.tick(1495);
    log.push(clock.hrtime(), clock.performance.now(), clock.hrtime([1, 0]));
    return log;
  },

  "Timeout objects: ref/unref/hasRef, clear by the object or its number"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      const t = g.setTimeout(() => log.push("t"), 10);
      log.push(typeof t, t.hasRef(), t.unref() === t, t.hasRef(), t.ref() === t, t.hasRef());
      const u = g.setTimeout(() => log.push("u"), 10);
      g.clearTimeout(Number(u));
      const v = g.setInterval(() => log.push("v"), 10);
      g.clearInterval(v);
      clock.tick(20);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  async "node:timers and node:timers/promises follow the fake clock"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      timersModule.setTimeout(() => log.push("timers.setTimeout", Date.now()), 30);
      const slept = timersPromises
        .setTimeout(20, "value")
        .then((v) => log.push("promises.setTimeout", v, Date.now()));
      await clock.tickAsync(50);
      await slept;
      log.push(timersModule.setTimeout === g.setTimeout);
    } finally {
      clock.uninstall();
    }
    log.push(timersModule.setTimeout === originalTimersSetTimeout);
    return log;
  },

  "ES-module imports of node:timers/promises while installed"(ft) {
    const clock = ft.install();
    try {
      return [
        esmPromisesSetTimeout === timersPromises.setTimeout,
        esmTimersSetTimeout === g.setTimeout,
      ];
    } finally {
      clock.uninstall();
    }
  },

  "setTimeout(fn, 0) and tick(0)"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      g.setTimeout(() => log.push("zero", Date.now()), 0);
      clock.tick(0);
      log.push("after tick(0)");
      clock.tick(1);
    } finally {
      clock.uninstall();
    }
    return log;
  },

  "a timeout created in an interval's callback, due with its next beat"(ft) {
    const clock = ft.install();
    const log: unknown[] = [];
    try {
      let first = true;
      const id = g.setInterval(() => {
        log.push("beat", Date.now());
        if (first) g.setTimeout(() => log.push("timeout", Date.now()), 10);
        first = false;
      }, 10);
      clock.tick(20);
      g.clearInterval(id);
    } finally {
      clock.uninstall();
    }
    return log;
  },
};
