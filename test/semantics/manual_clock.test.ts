/**
 * The manual (virtual) clock: advance, next, runAll, runToLast, runUntilIdle, and run()
 * on virtual time.
 *
 * Sources: the brief's "Manual clock" decisions; src-ts/event_loop.ts doc comments of
 * advance/next/runAll/runToLast/runUntilIdle/run; the precedent of
 * @sinonjs/fake-timers (tick fires each timer at its own time, `now` inside a callback
 * is its deadline; runAll throws after `loopLimit`; runToLast).
 */
import { describe, expect, test } from "vitest";
import { ClockModeError, LoopLimitError } from "../../src-ts/node.ts";
import { makeLoop, profiles } from "./_helpers.ts";

describe.each(profiles)("%s profile: advance(ms)", (profile) => {
  test("fires every timer that falls due, in order, each at its own deadline, and returns the new time", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(() => seen.push(["c", loop.now()]), 15);
    loop.setTimeout(() => seen.push(["a", loop.now()]), 5);
    loop.setTimeout(() => seen.push(["b", loop.now()]), 10);
    loop.setTimeout(() => seen.push(["late", loop.now()]), 31);
    expect(loop.advance(30)).toBe(30);
    expect(loop.now()).toBe(30);
    expect(seen).toEqual([
      ["a", 5],
      ["b", 10],
      ["c", 15],
    ]);
  });

  test("runs the tasks, immediates and microtasks a timer queues at that timer's time, before later timers", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(() => {
      seen.push(["A", loop.now()]);
      loop.queueMicrotask(() => seen.push(["A.microtask", loop.now()]));
      loop.submit(() => seen.push(["A.task", loop.now()]));
      loop.setImmediate(() => seen.push(["A.immediate", loop.now()]));
    }, 10);
    loop.setTimeout(() => seen.push(["B", loop.now()]), 20);
    loop.advance(20);
    expect(seen).toEqual([
      ["A", 10],
      ["A.microtask", 10],
      ["A.task", 10],
      ["A.immediate", 10],
      ["B", 20],
    ]);
  });

  test("runs work queued before the call at the current time first", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.advance(3);
    loop.submit(() => seen.push(["task", loop.now()]));
    loop.setImmediate(() => seen.push(["immediate", loop.now()]));
    loop.queueMicrotask(() => seen.push(["microtask", loop.now()]));
    loop.setTimeout(() => seen.push(["timer", loop.now()]), 4);
    loop.advance(10);
    expect(seen).toEqual([
      ["microtask", 3],
      ["task", 3],
      ["immediate", 3],
      ["timer", 7],
    ]);
  });

  test("fires timers created during the advance that fall due within it, at their own deadlines", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(() => {
      seen.push(["A", loop.now()]);
      loop.setTimeout(() => seen.push(["C (A + 5)", loop.now()]), 5);
      loop.setTimeout(() => seen.push(["D (A + 50)", loop.now()]), 50);
    }, 10);
    loop.setTimeout(() => seen.push(["B", loop.now()]), 20);
    loop.advance(20);
    expect(seen).toEqual([
      ["A", 10],
      ["C (A + 5)", 15],
      ["B", 20],
    ]);
    loop.advance(40);
    expect(seen.at(-1)).toEqual(["D (A + 50)", 60]);
  });

  test("a timer's microtasks see the timer's deadline as now", async () => {
    const { loop } = await makeLoop({ profile });
    const times: number[] = [];
    loop.setTimeout(
      () => loop.queueMicrotask(() => loop.queueMicrotask(() => times.push(loop.now()))),
      12,
    );
    loop.advance(100);
    expect(times).toEqual([12]);
  });

  test("advance(0) runs queued work and due timers without moving the clock", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.advance(5);
    loop.submit(() => log.push("task"));
    loop.setTimeout(() => log.push("future"), 1);
    expect(loop.advance(0)).toBe(5);
    expect(log).toEqual(["task"]);
  });

  test.each([-1, NaN, Infinity, "5"])(
    "advance(%s) throws RangeError and moves nothing",
    async (ms) => {
      const { loop } = await makeLoop({ profile });
      expect(() => loop.advance(ms as number)).toThrow(RangeError);
      expect(loop.now()).toBe(0);
    },
  );

  test("the startTime option sets the virtual clock's origin", async () => {
    const { loop } = await makeLoop({ profile, startTime: 1000 });
    expect(loop.now()).toBe(1000);
    let at = -1;
    loop.setTimeout(() => (at = loop.now()), 10);
    loop.advance(10);
    expect(at).toBe(1010);
  });
});

describe.each(profiles)("%s profile: next()", (profile) => {
  test("moves to the earliest timer and fires just that one, returning the new time", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("b@20"), 20);
    loop.setTimeout(() => log.push("a@10"), 10);
    loop.setTimeout(() => log.push("a2@10"), 10);
    expect(loop.next()).toBe(10);
    expect(log).toEqual(["a@10"]);
    expect(loop.next()).toBe(10);
    expect(log).toEqual(["a@10", "a2@10"]);
    expect(loop.next()).toBe(20);
    expect(log).toEqual(["a@10", "a2@10", "b@20"]);
  });

  test("runs the fired timer's microtask checkpoint", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("timer");
      loop.queueMicrotask(() => log.push("microtask"));
    }, 10);
    loop.next();
    expect(log).toEqual(["timer", "microtask"]);
  });

  test("runs pending microtasks first", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("timer"), 10);
    loop.queueMicrotask(() => log.push("microtask"));
    loop.next();
    expect(log).toEqual(["microtask", "timer"]);
  });

  test("with no timer it does nothing and returns the current time", async () => {
    const { loop } = await makeLoop({ profile });
    loop.advance(7);
    expect(loop.next()).toBe(7);
    expect(loop.now()).toBe(7);
  });

  test("fires one beat of an interval per call", async () => {
    const { loop } = await makeLoop({ profile });
    const beats: number[] = [];
    loop.setInterval(() => beats.push(loop.now()), 10);
    loop.next();
    loop.next();
    expect(beats).toEqual([10, 20]);
  });
});

describe.each(profiles)("%s profile: runAll()", (profile) => {
  test("runs until no timer is left, following chains, and returns the final time", async () => {
    const { loop } = await makeLoop({ profile });
    const times: number[] = [];
    const step = (): void => {
      times.push(loop.now());
      if (times.length < 5) loop.setTimeout(step, 100);
    };
    loop.setTimeout(step, 100);
    expect(loop.runAll()).toBe(500);
    expect(times).toEqual([100, 200, 300, 400, 500]);
    expect(loop.pending.timers).toBe(0);
  });

  test("throws LoopLimitError (a RangeError) after `limit` time steps on an interval, and the loop stays usable", async () => {
    const { loop } = await makeLoop({ profile });
    let beats = 0;
    const handle = loop.setInterval(() => beats++, 10);
    let thrown: unknown;
    try {
      loop.runAll({ limit: 5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LoopLimitError);
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as LoopLimitError).limit).toBe(5);
    expect(beats).toBeGreaterThanOrEqual(4);
    expect(beats).toBeLessThanOrEqual(6);
    expect(loop.state).toBe("idle");
    loop.clearInterval(handle);
    loop.setTimeout(() => beats++, 1);
    const before = beats;
    loop.runAll();
    expect(beats).toBe(before + 1);
  });

  test("throws LoopLimitError on a timer that re-arms itself forever", async () => {
    const { loop } = await makeLoop({ profile });
    const again = (): void => void loop.setTimeout(again, 1);
    loop.setTimeout(again, 1);
    expect(() => loop.runAll({ limit: 50 })).toThrow(LoopLimitError);
  });

  test.each([0, -1, NaN, "3"])("runAll({ limit: %s }) is a RangeError", async (limit) => {
    const { loop } = await makeLoop({ profile });
    expect(() => loop.runAll({ limit: limit as number })).toThrow(RangeError);
  });
});

describe.each(profiles)("%s profile: runToLast()", (profile) => {
  test("advances to the latest deadline existing at the call; later timers fire only if due by then", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(() => {
      seen.push(["A", loop.now()]);
      loop.setTimeout(() => seen.push(["C (due 15)", loop.now()]), 5);
      loop.setTimeout(() => seen.push(["D (due 40)", loop.now()]), 30);
    }, 10);
    loop.setTimeout(() => seen.push(["B", loop.now()]), 30);
    expect(loop.runToLast()).toBe(30);
    expect(seen).toEqual([
      ["A", 10],
      ["C (due 15)", 15],
      ["B", 30],
    ]);
    expect(loop.pending.timers).toBe(1);
  });

  test("terminates with an interval, firing its beats up to the latest deadline", async () => {
    const { loop } = await makeLoop({ profile });
    const beats: number[] = [];
    loop.setInterval(() => beats.push(loop.now()), 10);
    loop.setTimeout(() => {}, 25);
    expect(loop.runToLast()).toBe(25);
    expect(beats).toEqual([10, 20]);
  });

  test("with no timer it runs queued work without moving the clock", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.advance(4);
    loop.submit(() => log.push("task"));
    expect(loop.runToLast()).toBe(4);
    expect(log).toEqual(["task"]);
  });
});

describe.each(profiles)("%s profile: runUntilIdle()", (profile) => {
  test("runs everything runnable now, turn after turn, without moving the clock", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.advance(10);
    loop.submit(() => {
      log.push("task");
      loop.submit(() => log.push("task from task"));
      loop.setImmediate(() => {
        log.push("immediate");
        loop.setImmediate(() => log.push("immediate from immediate"));
      });
    });
    loop.setTimeout(() => log.push("future timer"), 1);
    loop.runUntilIdle();
    expect(log).toEqual(["task", "immediate", "task from task", "immediate from immediate"]);
    expect(loop.now()).toBe(10);
    expect(loop.pending.timers).toBe(1);
  });

  test("throws LoopLimitError after `limit` turns when work keeps requeueing itself, and the loop stays usable", async () => {
    const { loop } = await makeLoop({ profile });
    let runs = 0;
    let stop = false;
    const again = (): void => {
      runs++;
      if (!stop) loop.submit(again);
    };
    loop.submit(again);
    expect(() => loop.runUntilIdle({ limit: 20 })).toThrow(LoopLimitError);
    expect(runs).toBeGreaterThanOrEqual(19);
    expect(runs).toBeLessThanOrEqual(21);
    stop = true;
    loop.runUntilIdle();
    expect(loop.pending.tasks).toBe(0);
    expect(loop.state).toBe("idle");
  });

  test("a self-requeueing immediate is bounded the same way", async () => {
    const { loop } = await makeLoop({ profile });
    const again = (): void => void loop.setImmediate(again);
    loop.setImmediate(again);
    expect(() => loop.runUntilIdle({ limit: 10 })).toThrow(LoopLimitError);
  });
});

describe.each(profiles)("%s profile: manual-clock methods on a real clock", (profile) => {
  test.each(["advance", "next", "runAll", "runToLast"] as const)(
    "%s() throws ClockModeError (a TypeError)",
    async (method) => {
      const { loop } = await makeLoop({ profile, clock: "real" });
      let thrown: unknown;
      try {
        (loop[method] as (arg?: unknown) => unknown).call(
          loop,
          method === "advance" ? 10 : undefined,
        );
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ClockModeError);
      expect(thrown).toBeInstanceOf(TypeError);
      loop.close();
    },
  );
});

describe.each(profiles)("%s profile: run() on a manual clock", (profile) => {
  test("runs everything, moving virtual time from deadline to deadline, and resolves when nothing ref'd is left", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(() => seen.push(["a", loop.now()]), 100);
    loop.setTimeout(() => seen.push(["b", loop.now()]), 5000);
    await loop.run();
    expect(seen).toEqual([
      ["a", 100],
      ["b", 5000],
    ]);
    expect(loop.now()).toBe(5000);
  });

  test("lets native promise continuations schedule more work within the same run()", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: Array<[string, number]> = [];
    loop.setTimeout(async () => {
      seen.push(["a", loop.now()]);
      await Promise.resolve();
      await null;
      loop.setTimeout(() => seen.push(["after await", loop.now()]), 10);
    }, 10);
    await loop.run();
    expect(seen).toEqual([
      ["a", 10],
      ["after await", 20],
    ]);
  });
});

// ref/unref exist only in the node profile.
describe("node profile: run() on a manual clock", () => {
  test("an unref'd timer fires while virtual time passes it, but does not keep run() going", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    loop.setTimeout(() => log.push("unref'd 50"), 50).unref();
    loop.setTimeout(() => log.push("ref'd 100"), 100);
    loop.setTimeout(() => log.push("unref'd 200"), 200).unref();
    await loop.run();
    expect(log).toEqual(["unref'd 50", "ref'd 100"]);
    expect(loop.now()).toBe(100);
  });
});
