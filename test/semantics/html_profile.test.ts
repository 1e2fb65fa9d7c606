/**
 * The `html` profile: HTML Standard, "Timers" (timer initialization steps), WebIDL
 * `long` conversion, and the WPT folder html/webappapis/timers.
 *
 * Timer initialization steps (abridged):
 *   2. ... let id be an implementation-defined integer that is greater than zero and
 *      does not already exist in global's map of setTimeout and setInterval IDs.
 *   3. If the surrounding agent's event loop's currently running task is a task that
 *      was created by this algorithm, then let nesting level be the task's timer
 *      nesting level. Otherwise, let nesting level be 0.
 *   4. If timeout is less than 0, then set timeout to 0.
 *   5. If nesting level is greater than 5, and timeout is less than 4, then set
 *      timeout to 4.
 *   ... the task: invoke the Function with arguments and callback this value thisArg;
 *      if repeat is true, perform the timer initialization steps again (same id).
 *   9. Increment nesting level by one. 10. Set task's timer nesting level to nesting level.
 * "Perform a microtask checkpoint" sets the currently running task to each microtask,
 * so a timer scheduled from a microtask starts at nesting level 0.
 */
import { describe, expect, test } from "vitest";
import { makeLoop } from "./_helpers.ts";

/** The time (manual clock) at which a timer created at t=0 with `timeout` fires. */
async function firesAt(timeout: unknown): Promise<number> {
  const { loop } = await makeLoop({ profile: "html" });
  let firedAt = -1;
  loop.setTimeout(() => (firedAt = loop.now()), timeout);
  loop.next();
  return firedAt;
}

describe("html: handles (ids)", () => {
  test("setTimeout and setInterval return integers greater than zero", async () => {
    // WPT html/webappapis/timers/settimeout-setinterval-handles.html
    const { loop } = await makeLoop({ profile: "html" });
    const a = loop.setTimeout(() => {});
    const b = loop.setInterval(() => {});
    for (const id of [a, b]) {
      expect(typeof id).toBe("number");
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);
    }
    loop.clearTimeout(a);
    loop.clearInterval(b);
  });

  test("timeouts and intervals share one set of distinct active handles", async () => {
    // WPT settimeout-setinterval-handles.html "Timeouts and intervals share a set of unique active handles"
    const { loop, log } = await makeLoop({ profile: "html" });
    const handles: number[] = [];
    for (const schedule of [loop.setTimeout, loop.setInterval, loop.setTimeout, loop.setInterval]) {
      const handle = schedule.call(loop, () => log.push("cleared timer fired"), 0) as number;
      expect(handles).not.toContain(handle);
      handles.push(handle);
    }
    handles.forEach((h) => {
      loop.clearTimeout(h);
    });
    loop.runAll();
    expect(log).toEqual([]);
  });

  test("ids increase monotonically and are never reused, even after timers fire or are cleared", async () => {
    // semantics.md: "ids: never reused while live; we never reuse at all until 2^31-1".
    const { loop } = await makeLoop({ profile: "html" });
    const seen = new Set<number>();
    let lastTimer = 0;
    let lastImmediate = 0;
    const take = (id: number, kind: "timer" | "immediate"): number => {
      expect(id).toBeGreaterThan(kind === "timer" ? lastTimer : lastImmediate);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      if (kind === "timer") lastTimer = id;
      else lastImmediate = id;
      return id;
    };
    const live: number[] = [];
    for (let round = 0; round < 3000; round++) {
      live.push(
        take(
          loop.setTimeout(() => {}, round % 7),
          "timer",
        ),
      );
      if (round % 3 === 0)
        take(
          loop.setInterval(() => {}, 5),
          "timer",
        );
      if (round % 5 === 0)
        take(
          loop.setImmediate(() => {}),
          "immediate",
        );
      if (round % 2 === 0) loop.clearTimeout(live.shift());
      if (round % 50 === 0) loop.advance(3); // some fire, freeing their slots
    }
  });

  test("clearTimeout clears an interval and clearInterval clears a timeout", async () => {
    // WPT html/webappapis/timers/cleartimeout-clearinterval.any.js;
    // Node test/parallel/test-timers-clear-timeout-interval-equivalent.js
    const { loop, log } = await makeLoop({ profile: "html" });
    const timeout = loop.setTimeout(() => log.push("timeout was not cancelled"), 0);
    loop.clearInterval(timeout);
    const interval = loop.setInterval(() => log.push("interval was not cancelled"), 0);
    loop.clearTimeout(interval);
    loop.setTimeout(() => log.push("done"), 100);
    loop.advance(100);
    expect(log).toEqual(["done"]);
  });

  test("immediates have their own id space: clearTimeout does not cancel an immediate, clearImmediate does not cancel a timer", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    const immediate = loop.setImmediate(() => log.push("immediate"));
    const timer = loop.setTimeout(() => log.push("timer"), 0);
    loop.clearTimeout(immediate);
    loop.clearInterval(immediate);
    loop.clearImmediate(timer);
    loop.runUntilIdle();
    expect(log.sort()).toEqual(["immediate", "timer"]);
  });

  test("clearing unknown, invalid, stale or already-fired ids does nothing and does not throw", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    const fired = loop.setTimeout(() => log.push("fired"), 1);
    loop.advance(1);
    const cleared = loop.setTimeout(() => log.push("cleared"), 1);
    loop.clearTimeout(cleared);
    const keep = loop.setTimeout(() => log.push("kept"), 5);
    loop.setImmediate(() => log.push("kept immediate"));
    for (const id of [
      fired,
      cleared,
      0,
      -1,
      keep + 1000,
      2 ** 31,
      NaN,
      undefined,
      null,
      "abc",
      {},
    ]) {
      expect(() => loop.clearTimeout(id)).not.toThrow();
      expect(() => loop.clearInterval(id)).not.toThrow();
      expect(() => loop.clearImmediate(id)).not.toThrow();
    }
    expect(() => loop.clearTimeout()).not.toThrow();
    loop.advance(10);
    expect(log).toEqual(["fired", "kept immediate", "kept"]);
  });

  test("clearTimeout converts its argument as a WebIDL long: a numeric string or a wrapped value clears the timer", async () => {
    // HTML: clearTimeout(optional long id = 0). ToInt32 wraps modulo 2^32.
    const { loop, log } = await makeLoop({ profile: "html" });
    const a = loop.setTimeout(() => log.push("a"), 1);
    const b = loop.setTimeout(() => log.push("b"), 1);
    const c = loop.setTimeout(() => log.push("c"), 1);
    const d = loop.setTimeout(() => log.push("d"), 1);
    loop.clearTimeout(String(a));
    loop.clearTimeout(b + 2 ** 32);
    loop.clearTimeout({ valueOf: () => c });
    loop.advance(1);
    expect(log).toEqual(["d"]);
    void d;
  });
});

describe("html: delay is converted as a WebIDL long (timer initialization steps 4)", () => {
  // WPT html/webappapis/timers/type-long-settimeout.any.js, negative-settimeout.any.js,
  // missing-timeout-setinterval; WebIDL ConvertToInt (ToNumber, then ToInt32).
  test.each([
    ["omitted (undefined)", undefined, 0],
    ["NaN", NaN, 0],
    ["Infinity", Infinity, 0],
    ["-Infinity", -Infinity, 0],
    ["10.9 (truncated)", 10.9, 10],
    ["-0.9 (truncated to 0)", -0.9, 0],
    ["-100 (negative becomes 0)", -100, 0],
    ["2^31 (wraps to -2^31, then 0)", 2 ** 31, 0],
    ["2^32 (wraps to 0)", 2 ** 32, 0],
    ["2^32 + 7 (wraps to 7)", 2 ** 32 + 7, 7],
    ["-(2^32) + 5 (wraps to 5)", -(2 ** 32) + 5, 5],
    ["2^31 - 1 (the largest long)", 2 ** 31 - 1, 2 ** 31 - 1],
    ['"12" (ToNumber)', "12", 12],
    ['"abc" (NaN)', "abc", 0],
    ['"" (0)', "", 0],
    ["null", null, 0],
    ["true", true, 1],
    ["[15]", [15], 15],
    ["{ valueOf: () => 9 }", { valueOf: () => 9 }, 9],
  ])("%s fires at its WebIDL long value", async (_name, timeout, expected) => {
    expect(await firesAt(timeout)).toBe(expected);
  });

  test("setTimeout(fn, 2^32) fires before a 100 ms timer (type-long-settimeout)", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    let other: unknown;
    loop.setTimeout(() => {
      loop.clearTimeout(other);
      log.push("2^32 fired first");
    }, 2 ** 32);
    other = loop.setTimeout(() => log.push("100 ms timer was not cancelled"), 100);
    loop.advance(200);
    expect(log).toEqual(["2^32 fired first"]);
  });

  test("setTimeout(fn, -100) fires before a 10 ms timer (negative-settimeout)", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    let other: unknown;
    loop.setTimeout(() => {
      loop.clearTimeout(other);
      log.push("negative fired first");
    }, -100);
    other = loop.setTimeout(() => log.push("10 ms timer was not cancelled"), 10);
    loop.advance(100);
    expect(log).toEqual(["negative fired first"]);
  });

  test("setInterval(fn, -100) repeats (negative-setinterval)", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    let i = 0;
    const interval = loop.setInterval(() => {
      if (++i === 20) loop.clearInterval(interval);
    }, -100);
    loop.setTimeout(() => log.push(`1000 ms timer after ${i} beats`), 1000);
    loop.runAll();
    expect(log).toEqual(["1000 ms timer after 20 beats"]);
  });

  test("setInterval with the timeout omitted repeats (missing-timeout-setinterval)", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const times: number[] = [];
    const handle = (loop.setInterval as (fn: () => void) => number)(() => {
      times.push(loop.now());
      if (times.length === 8) loop.clearInterval(handle);
    });
    loop.runAll();
    expect(times).toEqual([0, 0, 0, 0, 0, 0, 4, 8]);
  });

  test("a throwing valueOf propagates from setTimeout and nothing is scheduled", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const boom = new Error("valueOf");
    let calls = 0;
    expect(() =>
      loop.setTimeout(() => {}, {
        valueOf() {
          calls++;
          throw boom;
        },
      }),
    ).toThrow(boom);
    expect(calls).toBe(1);
    expect(loop.pending.timers).toBe(0);
  });

  test("valueOf of the timeout is called exactly once", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    let calls = 0;
    loop.setTimeout(() => {}, {
      valueOf: () => {
        calls++;
        return 5;
      },
    });
    expect(calls).toBe(1);
  });

  test("a Symbol or BigInt timeout throws TypeError (ToNumber)", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    expect(() => loop.setTimeout(() => {}, Symbol("s"))).toThrow(TypeError);
    expect(() => loop.setTimeout(() => {}, 10n)).toThrow(TypeError);
    expect(loop.pending.timers).toBe(0);
  });
});

describe("html: handler, this and arguments", () => {
  test("the callback's this is the global object", async () => {
    // HTML timer initialization steps: thisArg is global (its WindowProxy in a Window).
    const { loop } = await makeLoop({ profile: "html" });
    const thisValues: unknown[] = [];
    loop.setTimeout(function (this: unknown) {
      thisValues.push(this);
    }, 0);
    const interval = loop.setInterval(function (this: unknown) {
      thisValues.push(this);
      loop.clearInterval(interval);
    }, 0);
    loop.setImmediate(function (this: unknown) {
      thisValues.push(this);
    });
    loop.runAll();
    expect(thisValues).toHaveLength(3);
    for (const value of thisValues) expect(value).toBe(globalThis);
  });

  test("extra arguments are passed to the callback, on every interval beat", async () => {
    // WPT html/webappapis/timers/arguments.html
    const { loop } = await makeLoop({ profile: "html" });
    const calls: unknown[][] = [];
    loop.setTimeout((...args: unknown[]) => calls.push(["timeout", ...args]), 100, 1, 2, 3);
    const interval = loop.setInterval(
      (...args: unknown[]) => {
        calls.push(["interval", ...args]);
        if (calls.filter((c) => c[0] === "interval").length === 2) loop.clearInterval(interval);
      },
      100,
      1,
      2,
      3,
    );
    loop.setImmediate((...args: unknown[]) => calls.push(["immediate", ...args]), "x", undefined);
    loop.runAll();
    expect(calls).toEqual([
      ["immediate", "x", undefined],
      ["timeout", 1, 2, 3],
      ["interval", 1, 2, 3],
      ["interval", 1, 2, 3],
    ]);
  });

  test("an explicit undefined extra argument is passed (arguments.length counts it)", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    let length = -1;
    loop.setTimeout(
      function () {
        length = arguments.length;
      },
      0,
      undefined,
    );
    loop.runAll();
    expect(length).toBe(1);
  });

  test("a string handler throws TypeError when the embedder did not opt in, and nothing is scheduled", async () => {
    // semantics.md: "a string handler compiles code: reject it with TypeError unless the embedder opts in".
    const { loop } = await makeLoop({ profile: "html" });
    expect(() => loop.setTimeout("globalThis.__zl_string_handler_ran = true", 0)).toThrow(
      TypeError,
    );
    expect(() => loop.setInterval("1 + 1", 0)).toThrow(TypeError);
    expect(loop.pending.timers).toBe(0);
    loop.runAll();
    expect((globalThis as Record<string, unknown>).__zl_string_handler_ran).toBeUndefined();
  });

  test.each([
    ["undefined", undefined],
    ["null", null],
    ["a number", 5],
    ["an object", {}],
  ])("a non-callable handler (%s) throws TypeError without the opt-in", async (_name, handler) => {
    const { loop } = await makeLoop({ profile: "html" });
    expect(() => loop.setTimeout(handler as never, 0)).toThrow(TypeError);
    expect(() => loop.setInterval(handler as never, 0)).toThrow(TypeError);
    expect(loop.pending.timers).toBe(0);
  });

  test("with the stringHandler option a string handler is compiled once and run when the timer fires", async () => {
    const sources: string[] = [];
    const log: string[] = [];
    const { loop } = await makeLoop({
      profile: "html",
      stringHandler: (source) => {
        sources.push(source);
        return () => log.push(`ran ${source}`);
      },
    });
    loop.setTimeout("code()", 10);
    expect(sources).toEqual(["code()"]);
    expect(log).toEqual([]);
    loop.advance(10);
    expect(log).toEqual(["ran code()"]);
  });

  test("with the stringHandler option a non-callable handler is converted with ToString first (evil-spec-example)", async () => {
    // WPT html/webappapis/timers/evil-spec-example.any.js: TimerHandler is
    // (Function or TrustedScript or DOMString); a non-callable object is converted to a
    // DOMString (calling its toString) during argument conversion, before the timer
    // initialization steps. The toString below schedules a timer first, so "ONE" fires
    // before "TWO" although both wait 100 ms.
    const log: string[] = [];
    const { loop } = await makeLoop({
      profile: "html",
      stringHandler: (source) => () => log.push(source),
    });
    loop.setTimeout(
      {
        toString() {
          loop.setTimeout("ONE", 100);
          return "TWO";
        },
      } as never,
      100,
    );
    loop.advance(100);
    expect(log).toEqual(["ONE", "TWO"]);
  });
});

describe("html: string handlers with the opt-in follow WebIDL DOMString conversion", () => {
  test("a Symbol handler throws TypeError (ToString(Symbol) throws) and nothing is scheduled", async () => {
    const sources: string[] = [];
    const { loop } = await makeLoop({
      profile: "html",
      stringHandler: (source) => {
        sources.push(source);
        return () => {};
      },
    });
    expect(() => loop.setTimeout(Symbol("handler") as never, 0)).toThrow(TypeError);
    expect(sources).toEqual([]);
    expect(loop.pending.timers).toBe(0);
  });

  test("a throwing toString propagates and nothing is scheduled", async () => {
    const { loop } = await makeLoop({ profile: "html", stringHandler: () => () => {} });
    const boom = new Error("toString");
    expect(() =>
      loop.setTimeout(
        {
          toString: () => {
            throw boom;
          },
        } as never,
        0,
      ),
    ).toThrow(boom);
    expect(loop.pending.timers).toBe(0);
  });

  test("the handler is converted before the timeout (WebIDL converts arguments in order)", async () => {
    const order: string[] = [];
    const { loop } = await makeLoop({ profile: "html", stringHandler: () => () => {} });
    loop.setTimeout(
      {
        toString: () => {
          order.push("handler");
          return "x";
        },
      } as never,
      {
        valueOf: () => {
          order.push("timeout");
          return 1;
        },
      },
    );
    expect(order).toEqual(["handler", "timeout"]);
  });
});

describe("html: nesting clamp (timer initialization steps 3, 5, 9, 10)", () => {
  /** Chains `count` timers, each scheduled from the previous one's callback; returns their fire times. */
  async function chain(timeout: number, count: number): Promise<number[]> {
    const { loop } = await makeLoop({ profile: "html" });
    const times: number[] = [];
    const step = (): void => {
      times.push(loop.now());
      if (times.length < count) loop.setTimeout(step, timeout);
    };
    loop.setTimeout(step, timeout);
    loop.runAll();
    return times;
  }

  test("setTimeout(0) chains: the 7th and later timers are clamped to 4 ms (nesting level > 5)", async () => {
    // The first timer's task has level 1; the timer it schedules sees level 1 ... the timer
    // scheduled by the 6th callback sees level 6 > 5 and gets 4 ms.
    expect(await chain(0, 10)).toEqual([0, 0, 0, 0, 0, 0, 4, 8, 12, 16]);
  });

  test("setTimeout(1) chains: 1 ms until the nesting level passes 5, then 4 ms", async () => {
    expect(await chain(1, 9)).toEqual([1, 2, 3, 4, 5, 6, 10, 14, 18]);
  });

  test("setTimeout(3) chains are clamped to 4 ms too, while 4 ms and longer are untouched", async () => {
    expect(await chain(3, 8)).toEqual([3, 6, 9, 12, 15, 18, 22, 26]);
    expect(await chain(4, 8)).toEqual([4, 8, 12, 16, 20, 24, 28, 32]);
    expect(await chain(10, 8)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });

  test("setInterval(0) climbs: six beats at 0 ms, then every 4 ms", async () => {
    // Each beat re-runs the timer initialization steps from inside the interval's task,
    // whose nesting level grows by one per beat.
    const { loop } = await makeLoop({ profile: "html" });
    const times: number[] = [];
    const interval = loop.setInterval(() => {
      times.push(loop.now());
      if (times.length === 10) loop.clearInterval(interval);
    }, 0);
    loop.runAll();
    expect(times).toEqual([0, 0, 0, 0, 0, 0, 4, 8, 12, 16]);
  });

  test("setInterval(1) climbs: 1 ms beats until the level passes 5, then 4 ms beats", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const times: number[] = [];
    const interval = loop.setInterval(() => {
      times.push(loop.now());
      if (times.length === 9) loop.clearInterval(interval);
    }, 1);
    loop.runAll();
    expect(times).toEqual([1, 2, 3, 4, 5, 6, 10, 14, 18]);
  });

  test("a timeout scheduled by a deep interval's callback is clamped", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const times: number[] = [];
    let beats = 0;
    const interval = loop.setInterval(() => {
      if (++beats === 8) {
        loop.clearInterval(interval);
        const scheduledAt = loop.now();
        loop.setTimeout(() => times.push(loop.now() - scheduledAt), 0);
      }
    }, 10);
    loop.runAll();
    expect(times).toEqual([4]);
  });

  test("a timer scheduled from a microtask does not inherit the nesting level (timer-nesting-not-inherited-in-microtask)", async () => {
    // WPT html/webappapis/timers/timer-nesting-not-inherited-in-microtask.html: past the
    // maximum nesting level, a 1 ms timer set from a queueMicrotask callback is not clamped.
    const { loop } = await makeLoop({ profile: "html" });
    const delays: number[] = [];
    let calls = 0;
    const reschedule = (): void => {
      if (++calls > 15) return;
      if (calls > 5) {
        loop.queueMicrotask(() => {
          const scheduledAt = loop.now();
          loop.setTimeout(() => delays.push(loop.now() - scheduledAt), 1);
        });
      }
      loop.setTimeout(reschedule, 8);
    };
    loop.setTimeout(reschedule, 8);
    loop.runAll();
    expect(delays).toHaveLength(10);
    for (const delay of delays) expect(delay).toBe(1);
  });

  test("a timer scheduled from a nested microtask of a deep timer, or from its task or immediate, is not clamped", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    const delays: Record<string, number> = {};
    const measure = (name: string): void => {
      const scheduledAt = loop.now();
      loop.setTimeout(() => (delays[name] = loop.now() - scheduledAt), 0);
    };
    let depth = 0;
    const deep = (): void => {
      if (++depth < 10) {
        loop.setTimeout(deep, 0);
        return;
      }
      loop.queueMicrotask(() => loop.queueMicrotask(() => measure("nested microtask")));
      loop.submit(() => measure("task"));
      loop.setImmediate(() => measure("immediate"));
    };
    loop.setTimeout(deep, 0);
    loop.runAll();
    expect(delays).toEqual({ "nested microtask": 0, task: 0, immediate: 0 });
  });

  test("a timer scheduled from outside any callback starts at level 0 again after a deep chain", async () => {
    const { loop } = await makeLoop({ profile: "html" });
    let depth = 0;
    const deep = (): void => {
      if (++depth < 10) loop.setTimeout(deep, 0);
    };
    loop.setTimeout(deep, 0);
    loop.runAll();
    const start = loop.now();
    let firedAfter = -1;
    loop.setTimeout(() => (firedAfter = loop.now() - start), 0);
    loop.runAll();
    expect(firedAfter).toBe(0);
  });
});
