/**
 * The `node` profile: Node's lib/timers.js and lib/internal/timers.js, and the edge
 * cases of Node's test/parallel/test-timers-*.js.
 *
 * lib/internal/timers.js, `Timeout` constructor:
 *   after *= 1; // Coalesce to number or NaN
 *   if (!(after >= 1 && after <= TIMEOUT_MAX)) { ...warnings...; after = 1; }
 * and `insert`: msecs = MathTrunc(msecs).
 * lib/timers.js: `clearTimeout(timer)` accepts a Timeout, or a number/string found in
 * `knownTimersById`, which `Timeout.prototype[SymbolToPrimitive]` fills.
 */
import { describe, expect, test } from "vitest";
import { Immediate, Timeout } from "../../src-ts/node.ts";
import { makeFakeHostLoop, makeLoop } from "./_helpers.ts";

/** The time (manual clock) at which a node-profile timer created at t=0 with `after` fires. */
async function firesAt(after: unknown): Promise<{ at: number; warnings: string[] }> {
  const { loop, warnings } = await makeLoop({ profile: "node" });
  let at = -1;
  loop.setTimeout(() => (at = loop.now()), after);
  loop.next();
  return { at, warnings: warnings.map((w) => w.name) };
}

describe("node: Timeout and Immediate objects", () => {
  test("setTimeout and setInterval return Timeout objects with the Node methods", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    for (const t of [loop.setTimeout(() => {}, 1), loop.setInterval(() => {}, 1)]) {
      expect(t).toBeInstanceOf(Timeout);
      for (const method of ["ref", "unref", "hasRef", "refresh", "close"])
        expect(typeof t[method]).toBe("function");
      expect(typeof t[Symbol.toPrimitive]).toBe("function");
      expect(typeof t[Symbol.dispose]).toBe("function");
      loop.clearTimeout(t);
    }
  });

  test("ref/unref/refresh/close return the Timeout and hasRef follows ref/unref", async () => {
    // Node test/parallel/test-timers-unref.js, test-timers-refresh.js (`strictEqual(timer.refresh(), timer)`).
    const { loop } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => {}, 10);
    expect(t.hasRef()).toBe(true);
    expect(t.unref()).toBe(t);
    expect(t.hasRef()).toBe(false);
    expect(t.ref()).toBe(t);
    expect(t.hasRef()).toBe(true);
    expect(t.refresh()).toBe(t);
    expect(t.close()).toBe(t);
  });

  test("setImmediate returns an Immediate with ref/unref/hasRef", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const immediate = loop.setImmediate(() => {});
    expect(immediate).toBeInstanceOf(Immediate);
    expect(immediate.hasRef()).toBe(true);
    expect(immediate.unref()).toBe(immediate);
    expect(immediate.hasRef()).toBe(false);
    expect(immediate.ref()).toBe(immediate);
    expect(immediate.hasRef()).toBe(true);
    loop.clearImmediate(immediate);
  });

  test("this in a timeout or interval callback is its Timeout, in an immediate its Immediate", async () => {
    // Node test/parallel/test-timers-this.js
    const { loop } = await makeLoop({ profile: "node" });
    const seen: Array<[unknown, unknown]> = [];
    const timeout = loop.setTimeout(function (this: unknown) {
      seen.push([this, timeout]);
    }, 1);
    const interval = loop.setInterval(function (this: unknown) {
      seen.push([this, interval]);
      loop.clearInterval(interval);
    }, 1);
    const immediate = loop.setImmediate(function (this: unknown) {
      seen.push([this, immediate]);
    });
    loop.runAll();
    expect(seen).toHaveLength(3);
    for (const [self, handle] of seen) expect(self).toBe(handle);
  });

  test("extra arguments are passed to timeouts, intervals and immediates", async () => {
    // Node test/parallel/test-timers-args.js
    const { loop } = await makeLoop({ profile: "node" });
    const calls: unknown[][] = [];
    loop.setTimeout((...args: unknown[]) => calls.push(["timeout", ...args]), 1, "a", 2);
    const interval = loop.setInterval(
      (...args: unknown[]) => {
        calls.push(["interval", ...args]);
        loop.clearInterval(interval);
      },
      1,
      "b",
      3,
    );
    loop.setImmediate((...args: unknown[]) => calls.push(["immediate", ...args]), "c", 4);
    loop.runAll();
    expect(calls).toEqual([
      ["immediate", "c", 4],
      ["timeout", "a", 2],
      ["interval", "b", 3],
    ]);
  });

  test("Symbol.dispose cancels a timeout, an interval and an immediate", async () => {
    // Node test/parallel/test-timers-dispose.js
    const { loop, log } = await makeLoop({ profile: "node" });
    const timer = loop.setTimeout(() => log.push("timeout"), 10);
    const interval = loop.setInterval(() => log.push("interval"), 10);
    const immediate = loop.setImmediate(() => log.push("immediate"));
    timer[Symbol.dispose]();
    interval[Symbol.dispose]();
    immediate[Symbol.dispose]();
    loop.runAll();
    expect(log).toEqual([]);
    expect(loop.pending).toMatchObject({ timers: 0, immediates: 0 });
  });

  test("close() cancels like clearTimeout", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => log.push("timeout"), 10).close();
    loop.setInterval(() => log.push("interval"), 10).close();
    loop.runAll();
    expect(log).toEqual([]);
  });

  test("clearTimeout clears an interval and clearInterval a timeout", async () => {
    // Node test/parallel/test-timers-clear-timeout-interval-equivalent.js
    const { loop, log } = await makeLoop({ profile: "node" });
    loop.clearTimeout(loop.setInterval(() => log.push("interval"), 1));
    loop.clearInterval(loop.setTimeout(() => log.push("timeout"), 1));
    loop.runAll();
    expect(log).toEqual([]);
  });

  test("clearing null, undefined, objects, fired or foreign timers does nothing and does not throw", async () => {
    // Node test/parallel/test-timers-clear-null-does-not-throw-error.js,
    // test-timers-clear-object-does-not-throw-error.js
    const { loop, log } = await makeLoop({ profile: "node" });
    const other = await makeLoop({ profile: "node" });
    const fired = loop.setTimeout(() => log.push("fired"), 1);
    loop.advance(1);
    const keep = loop.setTimeout(() => log.push("kept"), 5);
    const foreign = other.loop.setTimeout(() => other.log.push("foreign kept"), 5);
    for (const value of [null, undefined, {}, [], 0, -1, "x", fired, foreign]) {
      expect(() => loop.clearTimeout(value)).not.toThrow();
      expect(() => loop.clearInterval(value)).not.toThrow();
      expect(() => loop.clearImmediate(value)).not.toThrow();
    }
    loop.clearTimeout(+foreign); // a number known only to the other loop
    loop.clearTimeout(loop.setImmediate(() => log.push("immediate kept")));
    loop.advance(10);
    other.loop.advance(10);
    expect(log).toEqual(["fired", "immediate kept", "kept"]);
    expect(other.log).toEqual(["foreign kept"]);
    void keep;
  });
});

describe("node: Symbol.toPrimitive and numeric ids (knownTimersById)", () => {
  test("+timeout is a stable number usable as a key, and clearTimeout(+t) clears it", async () => {
    // Node test/parallel/test-timers-to-primitive.js
    const { loop, log } = await makeLoop({ profile: "node" });
    for (const t of [
      loop.setTimeout(() => log.push("timeout"), 1),
      loop.setInterval(() => log.push("interval"), 1),
    ]) {
      expect(Number.isNaN(+t)).toBe(false);
      expect(+t).toBe(t[Symbol.toPrimitive]());
      expect(`${t}`).toBe(t[Symbol.toPrimitive]().toString());
      expect(Object.keys({ [t]: t })).toEqual([`${t}`]);
      loop.clearTimeout(+t);
    }
    loop.runAll();
    expect(log).toEqual([]);
  });

  test("clearTimeout accepts the id as a string", async () => {
    // Node test/parallel/test-timers-to-primitive.js "Check that clearTimeout works with string id."
    const { loop, log } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => log.push("fired"), 1);
    loop.clearTimeout(`${t}`);
    const i = loop.setInterval(() => log.push("interval fired"), 1);
    loop.clearInterval(String(+i));
    loop.runAll();
    expect(log).toEqual([]);
  });

  test("a numeric id clears nothing unless Symbol.toPrimitive was called on that Timeout", async () => {
    // Node lib/timers.js: clearTimeout(number) looks the id up in knownTimersById, which only
    // Timeout.prototype[SymbolToPrimitive] fills.
    const { loop, log } = await makeLoop({ profile: "node" });
    const first = loop.setTimeout(() => {}, 1);
    const base = +first;
    const second = loop.setTimeout(() => log.push("second fired"), 1);
    for (let id = base - 50; id <= base + 50; id++) {
      loop.clearTimeout(id);
      loop.clearTimeout(String(id));
    }
    loop.advance(1);
    expect(log).toEqual(["second fired"]);
    // The guess range did contain the second timer's id.
    const secondId = +second;
    expect(Math.abs(secondId - base)).toBeLessThanOrEqual(50);
  });

  test("a fired one-shot's numeric id is forgotten: clearing it later affects no other timer", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => log.push("first"), 1);
    const id = +t;
    loop.advance(1);
    const later = loop.setTimeout(() => log.push("later"), 1);
    expect(+later).not.toBe(id);
    loop.clearTimeout(id);
    loop.advance(1);
    expect(log).toEqual(["first", "later"]);
  });
});

describe("node: delay coercion (after *= 1; outside [1, 2^31-1] becomes 1; truncation)", () => {
  test.each([
    ["omitted", undefined, 1, []],
    ["0", 0, 1, []],
    ["0.5", 0.5, 1, []],
    ["1.7 (truncated)", 1.7, 1, []],
    ["2.9 (truncated)", 2.9, 2, []],
    ["null (0)", null, 1, []],
    ["true (1)", true, 1, []],
    ['"10"', "10", 10, []],
    ["{ valueOf: () => 5 }", { valueOf: () => 5 }, 5, []],
    ["2^31 - 1", 2 ** 31 - 1, 2 ** 31 - 1, []],
    ["2^31", 2 ** 31, 1, ["TimeoutOverflowWarning"]],
    ["Infinity", Infinity, 1, ["TimeoutOverflowWarning"]],
    ["-5", -5, 1, ["TimeoutNegativeWarning"]],
    ["-Infinity", -Infinity, 1, ["TimeoutNegativeWarning"]],
    ["NaN", NaN, 1, ["TimeoutNaNWarning"]],
    ['"abc" (NaN)', "abc", 1, ["TimeoutNaNWarning"]],
  ])(
    "%s: fires at the coerced delay, with Node's warning if any",
    async (_name, after, expectedAt, expectedWarnings) => {
      const { at, warnings } = await firesAt(after);
      expect(at).toBe(expectedAt);
      expect(warnings).toEqual(expectedWarnings);
    },
  );

  test("a 0 ms and a 1 ms timeout are the same delay and fire in creation order", async () => {
    // Node test/parallel/test-timers-zero-timeout.js; "Schedule on next tick, follows browser behavior".
    const { loop, log } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => log.push("1 ms"), 1);
    loop.setTimeout(() => log.push("0 ms"), 0);
    loop.setTimeout(() => log.push("1.9 ms"), 1.9);
    loop.setTimeout(() => log.push("2 ms"), 2);
    loop.advance(1);
    expect(log).toEqual(["1 ms", "0 ms", "1.9 ms"]);
    loop.advance(1);
    expect(log).toEqual(["1 ms", "0 ms", "1.9 ms", "2 ms"]);
  });

  test("the delay's valueOf is called exactly once (after *= 1), even when it is out of range", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    let inRange = 0;
    let outOfRange = 0;
    loop.setTimeout(() => {}, {
      valueOf: () => {
        inRange++;
        return 5;
      },
    });
    loop.setTimeout(() => {}, {
      valueOf: () => {
        outOfRange++;
        return -5;
      },
    });
    expect(inRange).toBe(1);
    expect(outOfRange).toBe(1);
  });

  test("a throwing valueOf or a Symbol delay throws and schedules nothing", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const boom = new Error("valueOf");
    expect(() =>
      loop.setTimeout(() => {}, {
        valueOf: () => {
          throw boom;
        },
      }),
    ).toThrow(boom);
    expect(() => loop.setTimeout(() => {}, Symbol("s"))).toThrow(TypeError);
    expect(loop.pending.timers).toBe(0);
  });

  test("no nesting clamp: chained 1 ms timeouts and a 1 ms interval keep their 1 ms", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const chained: number[] = [];
    const step = (): void => {
      chained.push(loop.now());
      if (chained.length < 10) loop.setTimeout(step, 1);
    };
    loop.setTimeout(step, 1);
    loop.runAll();
    expect(chained).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const { loop: loop2 } = await makeLoop({ profile: "node" });
    const beats: number[] = [];
    const interval = loop2.setInterval(() => {
      beats.push(loop2.now());
      if (beats.length === 10) loop2.clearInterval(interval);
    }, 0);
    loop2.runAll();
    expect(beats).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("node: warnings go to loop.onWarning", () => {
  test("TimeoutOverflowWarning every time, with Node's message", async () => {
    // Node test/parallel/test-timers-max-duration-warning.js (3 warnings for 3 timers).
    const { loop, warnings } = await makeLoop({ profile: "node" });
    const overflow = 2 ** 31;
    loop.clearTimeout(loop.setTimeout(() => {}, overflow));
    loop.clearInterval(loop.setInterval(() => {}, overflow));
    loop.clearTimeout(loop.setTimeout(() => {}, overflow));
    expect(warnings).toHaveLength(3);
    for (const warning of warnings) {
      expect(warning).toBeInstanceOf(Error);
      expect(warning.name).toBe("TimeoutOverflowWarning");
      const lines = warning.message.split("\n");
      expect(lines[0]).toBe(`${overflow} does not fit into a 32-bit signed integer.`);
      expect(lines).toHaveLength(2);
    }
  });

  test("TimeoutNegativeWarning once per loop, with Node's message", async () => {
    // Decision (brief): negative and NaN warn once per loop. Message lines per Node
    // test/parallel/test-timers-negative-duration-warning.js.
    const { loop, warnings } = await makeLoop({ profile: "node" });
    loop.clearTimeout(loop.setTimeout(() => {}, -1));
    loop.clearInterval(loop.setInterval(() => {}, -1));
    const t = loop.setTimeout(() => {}, -1);
    t.refresh();
    loop.clearTimeout(t);
    expect(warnings.map((w) => w.name)).toEqual(["TimeoutNegativeWarning"]);
    const lines = warnings[0]!.message.split("\n");
    expect(lines[0]).toBe("-1 is a negative number.");
    expect(lines).toHaveLength(2);
    // Another loop warns again (the "once" is per loop).
    const other = await makeLoop({ profile: "node" });
    other.loop.setTimeout(() => {}, -1);
    expect(other.warnings.map((w) => w.name)).toEqual(["TimeoutNegativeWarning"]);
  });

  test("TimeoutNaNWarning once per loop, with Node's message", async () => {
    // Node test/parallel/test-timers-nan-duration-warning.js (message lines).
    const { loop, warnings } = await makeLoop({ profile: "node" });
    loop.clearTimeout(loop.setTimeout(() => {}, NaN));
    loop.clearInterval(loop.setInterval(() => {}, NaN));
    loop.clearTimeout(loop.setTimeout(() => {}, "not a number"));
    expect(warnings.map((w) => w.name)).toEqual(["TimeoutNaNWarning"]);
    const lines = warnings[0]!.message.split("\n");
    expect(lines[0]).toBe("NaN is not a number.");
    expect(lines).toHaveLength(2);
  });

  test("no warning for an omitted delay, 0, fractions below 1 or null", async () => {
    const { loop, warnings } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => {});
    loop.setInterval(() => {});
    loop.setTimeout(() => {}, undefined);
    loop.setTimeout(() => {}, 0);
    loop.setTimeout(() => {}, 0.5);
    loop.setTimeout(() => {}, null);
    expect(warnings).toEqual([]);
  });

  test("a throwing onWarning is reported to onError and the timer is still created", async () => {
    const { loop, errors } = await makeLoop({ profile: "node" });
    const boom = new Error("onWarning threw");
    loop.onWarning = () => {
      throw boom;
    };
    let fired = false;
    loop.setTimeout(() => (fired = true), 2 ** 31);
    loop.runAll();
    expect(fired).toBe(true);
    expect(errors).toEqual([boom]);
  });
});

describe("node: callback validation", () => {
  // Node test/parallel/test-timers-throw-when-cb-not-function.js
  const bad: Array<[string, unknown]> = [
    ["'foo'", "foo"],
    ["{ foo: 'bar' }", { foo: "bar" }],
    ["undefined", undefined],
    ["null", null],
    ["false", false],
  ];
  test.each(bad)(
    "setTimeout/setInterval/setImmediate(%s) throw TypeError ERR_INVALID_ARG_TYPE",
    async (_name, callback) => {
      const { loop } = await makeLoop({ profile: "node" });
      for (const schedule of [loop.setTimeout, loop.setInterval, loop.setImmediate]) {
        let thrown: unknown;
        try {
          schedule.call(loop, callback as never, 0);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(TypeError);
        expect((thrown as { code?: string }).code).toBe("ERR_INVALID_ARG_TYPE");
        expect((thrown as Error).message).toMatch(/"callback" argument must be/);
      }
      expect(loop.pending).toMatchObject({ timers: 0, immediates: 0 });
    },
  );

  test("a string handler is a TypeError in the node profile even with the stringHandler option", async () => {
    const { loop } = await makeLoop({ profile: "node", stringHandler: () => () => {} });
    expect(() => loop.setTimeout("code()", 1)).toThrow(TypeError);
    expect(loop.pending.timers).toBe(0);
  });
});

describe("node: refresh()", () => {
  test("refresh restarts the delay from now", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    let firedAt = -1;
    const t = loop.setTimeout(() => (firedAt = loop.now()), 10);
    loop.advance(6);
    t.refresh();
    loop.advance(9);
    expect(firedAt).toBe(-1);
    loop.advance(1);
    expect(firedAt).toBe(16);
  });

  test("a refreshed timer goes behind timers of the same deadline created before the refresh", async () => {
    // Node test/parallel/test-timers-refresh.js ("regular timer", "unref()'d timer", "interval").
    for (const kind of ["regular", "unref", "interval"] as const) {
      const { loop, log } = await makeLoop({ profile: "node" });
      const timer =
        kind === "interval"
          ? loop.setInterval(() => {
              log.push("refreshed");
              loop.clearInterval(timer);
            }, 1)
          : loop.setTimeout(() => log.push("refreshed"), 1);
      if (kind === "unref") timer.unref();
      loop.setTimeout(() => log.push("other"), 1);
      expect(timer.refresh()).toBe(timer);
      loop.advance(1);
      expect(log).toEqual(["other", "refreshed"]);
    }
  });

  test("refresh() of a timer that is due in the same turn but has not run yet postpones it", async () => {
    // Node lib/internal/timers.js: refresh() re-inserts the timer with _idleStart = now;
    // listOnTimeout then finds it not yet due (diff < msecs) and leaves it for later.
    const { loop } = await makeLoop({ profile: "node" });
    const seen: Array<[string, number]> = [];
    let b: any;
    loop.setTimeout(() => {
      seen.push(["A", loop.now()]);
      b.refresh();
    }, 10);
    b = loop.setTimeout(() => seen.push(["B", loop.now()]), 10);
    loop.advance(30);
    expect(seen).toEqual([
      ["A", 10],
      ["B", 20],
    ]);
    expect(loop.pending.timers).toBe(0);
  });

  test("refresh() of an interval that is due in the same turn but has not run yet postpones it", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const seen: Array<[string, number]> = [];
    let b: any;
    const a = loop.setInterval(() => {
      seen.push(["A", loop.now()]);
      if (seen.length === 1) b.refresh();
    }, 10);
    b = loop.setInterval(() => seen.push(["B", loop.now()]), 10);
    loop.advance(25);
    loop.clearInterval(a);
    loop.clearInterval(b);
    // Node (lib/internal/timers.js listOnTimeout): A is removed from the 10 ms list to
    // run; B.refresh() re-appends B; A is re-inserted in the `finally` after its callback,
    // behind B. Both expire at 20, so B runs first.
    expect(seen).toEqual([
      ["A", 10],
      ["B", 20],
      ["A", 20],
    ]);
  });

  test("refresh() of an interval restarts its period from now", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const beats: number[] = [];
    const t = loop.setInterval(() => beats.push(loop.now()), 10);
    loop.advance(5);
    t.refresh();
    loop.advance(30);
    expect(beats).toEqual([15, 25, 35]);
  });

  test("refresh revives a fired one-shot", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const times: number[] = [];
    const t = loop.setTimeout(() => times.push(loop.now()), 10);
    loop.advance(20);
    expect(times).toEqual([10]);
    t.refresh();
    expect(loop.pending.timers).toBe(1);
    loop.advance(10);
    expect(times).toEqual([10, 30]);
  });

  test("refresh inside its own callback runs it again (test-timers-refresh-in-callback)", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const times: number[] = [];
    const t = loop.setTimeout(() => {
      times.push(loop.now());
      if (times.length === 1) t.refresh();
    }, 1);
    loop.runAll();
    expect(times).toEqual([1, 2]);
  });

  test("a revived timer can be cleared by clearTimeout(timeout) and by a numeric id taken before it fired", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    const a = loop.setTimeout(() => log.push("a"), 1);
    loop.advance(1);
    a.refresh();
    loop.clearTimeout(a);
    loop.advance(5);
    expect(log).toEqual(["a"]);
    expect(loop.pending.timers).toBe(0);
  });

  test("refresh after clearTimeout does nothing", async () => {
    // Node: clearTimeout sets _onTimeout = null; a refreshed cleared timer never calls back.
    const { loop, log } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => log.push("fired"), 5);
    loop.clearTimeout(t);
    t.refresh();
    loop.runAll();
    expect(log).toEqual([]);
    expect(loop.pending.timers).toBe(0);
  });

  test("refresh keeps a timer's unref state", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => {}, 5).unref();
    t.refresh();
    expect(t.hasRef()).toBe(false);
    expect(loop.pending.refs).toBe(0);
    loop.advance(5);
    t.refresh(); // revived, still unref'd
    expect(t.hasRef()).toBe(false);
    expect(loop.pending.refs).toBe(0);
  });
});

describe("node: orderings measured against Node 20 and 24", () => {
  // Each row is what real Node prints for the same script (test/differential runs them).

  test("a timer callback queues a microtask and throws; the next timer of the phase runs before the microtask", async () => {
    // Node: A | uncaught | B | mA | C. processTimers lets the exception out; C++ (src/env.cc
    // RunTimers) reports it and re-enters processTimers, whose first timer runs before
    // runNextTicks. The checkpoint runs after B, before C.
    const { loop, log, errors } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => {
      log.push("A");
      loop.queueMicrotask(() => log.push("mA"));
      throw new Error("A");
    }, 5);
    loop.setTimeout(() => log.push("B"), 5);
    loop.setTimeout(() => log.push("C"), 5);
    loop.advance(5);
    expect(log).toEqual(["A", "B", "mA", "C"]);
    expect(errors).toHaveLength(1);
  });

  test("a throwing timer that ends the timers phase: its microtasks run before the task phase", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => {
      loop.queueMicrotask(() => log.push("mA"));
      loop.submit(() => log.push("task"));
      throw new Error("A");
    }, 5);
    loop.setImmediate(() => log.push("immediate"));
    loop.advance(5);
    expect(log).toEqual(["immediate", "mA", "task"]);
  });

  test("an unhandled rejection raised in a timer callback is reported before the next timer", async () => {
    // Node's processTicksAndRejections runs between timers (runNextTicks).
    const { loop, log } = await makeLoop({ profile: "node", unhandledRejections: "warn" });
    loop.addEventListener("unhandledrejection", () => log.push("unhandled"));
    loop.setTimeout(() => {
      log.push("A");
      void loop.Promise.reject(new Error("r"));
    }, 5);
    loop.setTimeout(() => log.push("B"), 5);
    loop.advance(5);
    expect(log).toEqual(["A", "unhandled", "B"]);
  });

  test("a rejection handled later: rejectionhandled at the end of the next checkpoint, not from a task", async () => {
    const { loop, log } = await makeLoop({ profile: "node", unhandledRejections: "warn" });
    loop.addEventListener("unhandledrejection", () => log.push("unhandled"));
    loop.addEventListener("rejectionhandled", () => log.push("handled"));
    let p: Promise<never> | undefined;
    loop.setTimeout(() => {
      p = loop.Promise.reject(new Error("r"));
    }, 5);
    loop.setTimeout(() => {
      log.push("B");
      p!.catch(() => log.push("caught"));
    }, 5);
    loop.setTimeout(() => log.push("C"), 5);
    loop.advance(5);
    expect(log).toEqual(["unhandled", "B", "caught", "handled", "C"]);
  });

  test("hasRef() inside an Immediate's own callback is false, and stays false after it ran", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    let inside: boolean | undefined;
    const immediate = loop.setImmediate(function (this: Immediate) {
      inside = this.hasRef();
    });
    expect(immediate.hasRef()).toBe(true);
    loop.runUntilIdle();
    expect(inside).toBe(false);
    immediate.ref();
    expect(immediate.hasRef()).toBe(false); // Node: kRefed is null once it ran
    expect(loop.pending.refs).toBe(0);
  });

  test("a cleared Immediate: hasRef() false, ref() changes nothing", async () => {
    const { loop } = await makeLoop({ profile: "node" });
    const immediate = loop.setImmediate(() => {});
    loop.clearImmediate(immediate);
    expect(immediate.hasRef()).toBe(false);
    immediate.ref();
    expect(immediate.hasRef()).toBe(false);
    expect(loop.pending.refs).toBe(0);
  });

  test("real clock: an interval and a same-delay timeout created in its first beat: the timeout runs before beat 2", async () => {
    // Node re-inserts the interval after its callback (listOnTimeout's finally) into the
    // same duration list, after the timeout: on a real clock too, whatever the lateness.
    const { loop, log } = await makeLoop({ profile: "node", clock: "real" });
    let beats = 0;
    const interval = loop.setInterval(() => {
      beats++;
      log.push(`beat ${beats}`);
      if (beats === 1) loop.setTimeout(() => log.push("timeout"), 10);
      if (beats === 2) loop.clearInterval(interval);
    }, 10);
    await loop.run();
    expect(log).toEqual(["beat 1", "timeout", "beat 2"]);
    loop.close();
  });

  test("driftFreeIntervals: true keeps the grid in the node profile too (fake host)", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile: "node", driftFreeIntervals: true });
    let armedFor = Number.NaN;
    let ranAt = Number.NaN;
    const interval = loop.setInterval(() => {
      ranAt = loop.now();
      loop.queueMicrotask(() => {
        armedFor = loop.nextDeadline();
        loop.clearInterval(interval);
      });
    }, 40);
    host.block(110); // the script runs until 110: the beat due at 40 runs late
    await host.until(loop.run());
    // The first point of the 40 ms grid after the late beat (node counts from 110: 150).
    expect(ranAt).toBe(110);
    expect(armedFor).toBe(120);
    loop.close();
  });
});
