/**
 * Errors from callbacks and microtasks, queueMicrotask's argument rules, and capacities.
 *
 * Sources:
 * - HTML "perform a microtask checkpoint" and "report an exception": an exception in a
 *   microtask is reported and the checkpoint continues; WPT
 *   html/webappapis/microtask-queuing/queue-microtask.any.js and
 *   queue-microtask-exceptions.any.js; WPT html/webappapis/timers/errors.html (an
 *   exception thrown by a timer callback is reported).
 * - semantics.md "Microtask checkpoints": non-callables throw TypeError synchronously.
 * - conventions.md: "Capacity limits are options, and hitting one is a clear RangeError";
 *   the brief: CapacityError (RangeError subclass) with `capacity` and a message saying
 *   what failed; the loop keeps working afterwards.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { CapacityError } from "../../src-ts/node.ts";
import { makeLoop, profiles } from "./_helpers.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(profiles)(
  "%s profile: uncaught errors go to onError and the loop keeps going",
  (profile) => {
    test("errors from timers, intervals, tasks, immediates and microtasks are reported in order", async () => {
      const { loop, errors, log } = await makeLoop({ profile });
      const fail = (name: string) => () => {
        log.push(name);
        throw new Error(name);
      };
      loop.setTimeout(fail("timer"), 1);
      const interval = loop.setInterval(() => {
        loop.clearInterval(interval);
        fail("interval")();
      }, 2);
      loop.submit(fail("task"));
      loop.setImmediate(fail("immediate"));
      loop.queueMicrotask(fail("microtask"));
      loop.setTimeout(() => log.push("last timer ran"), 3);
      loop.runAll();
      expect(errors.map((e) => (e as Error).message)).toEqual([
        "microtask",
        "task",
        "immediate",
        "timer",
        "interval",
      ]);
      expect(log.at(-1)).toBe("last timer ran");
    });

    test("the checkpoint continues with the next microtask after one throws", async () => {
      // WPT queue-microtask-exceptions.any.js "It rethrows exceptions" (reported, not fatal).
      const { loop, errors, log } = await makeLoop({ profile });
      const boom = new Error("boo");
      loop.setTimeout(() => {
        loop.queueMicrotask(() => {
          log.push("m1");
          loop.queueMicrotask(() => log.push("m1's child"));
          throw boom;
        });
        loop.queueMicrotask(() => log.push("m2"));
      }, 1);
      loop.setTimeout(() => log.push("next timer"), 1);
      loop.advance(1);
      expect(log).toEqual(["m1", "m2", "m1's child", "next timer"]);
      expect(errors).toEqual([boom]);
    });

    test("non-Error values thrown are reported as they are", async () => {
      const { loop, errors } = await makeLoop({ profile });
      const values = ["a string", 42, undefined, null, { plain: true }];
      for (const value of values) {
        loop.submit(() => {
          throw value;
        });
      }
      loop.runUntilIdle();
      expect(errors).toEqual(values);
    });

    test("a throwing onError does not stop the loop", async () => {
      const { loop, log } = await makeLoop({ profile });
      const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
      loop.onError = () => {
        throw new Error("onError itself threw");
      };
      loop.submit(() => {
        throw new Error("first");
      });
      loop.submit(() => log.push("second task ran"));
      loop.setTimeout(() => log.push("timer ran"), 1);
      loop.runAll();
      expect(log).toEqual(["second task ran", "timer ran"]);
      expect(consoleError).toHaveBeenCalled();
    });

    test("without an onError option errors are printed, exitCode becomes 1, and the loop keeps going", async () => {
      const { createEventLoop } = await import("../../src-ts/node.ts");
      const loop = await createEventLoop({ profile, clock: "manual" });
      const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
      const log: string[] = [];
      loop.submit(() => {
        throw new Error("printed");
      });
      loop.submit(() => log.push("next"));
      loop.runUntilIdle();
      expect(log).toEqual(["next"]);
      expect(loop.exitCode).toBe(1);
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(String(consoleError.mock.calls[0]![0])).toContain("printed");
    });
  },
);

describe.each(profiles)("%s profile: queueMicrotask", (profile) => {
  test("throws TypeError for non-functions (queue-microtask.any.js)", async () => {
    const { loop } = await makeLoop({ profile });
    const q = loop.queueMicrotask.bind(loop) as (cb?: unknown) => void;
    for (const value of [undefined, null, 0, { handleEvent() {} }, "globalThis.x = 5;"]) {
      expect(() => q(value)).toThrow(TypeError);
    }
    expect(() => q()).toThrow(TypeError);
    expect(loop.pending.microtasks).toBe(0);
  });

  test("calls the callback asynchronously, with no arguments", async () => {
    const { loop } = await makeLoop({ profile });
    let args: unknown[] | undefined;
    (loop.queueMicrotask as (cb: unknown, ...rest: unknown[]) => void)(
      (...received: unknown[]) => {
        args = received;
      },
      "x",
      "y",
    );
    expect(args).toBeUndefined();
    loop.runUntilIdle();
    expect(args).toEqual([]);
  });

  test("queueMicrotask interleaves with the loop's promise reactions in FIFO order (queue-microtask.any.js)", async () => {
    // WPT "It interleaves with promises as expected": the loop's Promise queues its
    // reactions on the same microtask queue.
    const { loop } = await makeLoop({ profile });
    const P = loop.Promise;
    const happenings: string[] = [];
    P.resolve().then(() => happenings.push("a"));
    loop.queueMicrotask(() => happenings.push("b"));
    P.reject().catch(() => happenings.push("c"));
    loop.queueMicrotask(() => happenings.push("d"));
    loop.runUntilIdle();
    expect(happenings).toEqual(["a", "b", "c", "d"]);
  });

  test("promise reactions queued by a timer run in that timer's checkpoint, before the next timer", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("A");
      loop.Promise.resolve()
        .then(() => log.push("A.then"))
        .then(() => log.push("A.then.then"));
    }, 1);
    loop.setTimeout(() => log.push("B"), 1);
    loop.advance(1);
    expect(log).toEqual(["A", "A.then", "A.then.then", "B"]);
  });

  test("microtasks run in FIFO order", async () => {
    const { loop, log } = await makeLoop({ profile });
    for (let i = 0; i < 2000; i++) loop.queueMicrotask(() => log.push(String(i)));
    loop.runUntilIdle();
    expect(log).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
  });
});

describe.each(profiles)("%s profile: argument validation of submit and setImmediate", (profile) => {
  test.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "code()"],
    ["an object", {}],
  ])(
    "submit and setImmediate with %s throw TypeError ERR_INVALID_ARG_TYPE and queue nothing",
    async (_name, value) => {
      const { loop } = await makeLoop({
        profile,
        stringHandler: profile === "html" ? () => () => {} : undefined,
      });
      for (const schedule of [loop.submit, loop.setImmediate]) {
        let thrown: unknown;
        try {
          (schedule as (fn: unknown) => unknown).call(loop, value);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(TypeError);
        expect((thrown as { code?: string }).code).toBe("ERR_INVALID_ARG_TYPE");
      }
      expect(loop.pending).toMatchObject({ tasks: 0, immediates: 0 });
    },
  );
});

describe.each(profiles)("%s profile: capacities", (profile) => {
  test("the timers capacity counts timeouts, intervals and immediates; exceeding it throws CapacityError", async () => {
    const { loop, log } = await makeLoop({ profile, capacity: { timers: 3 } });
    const a = loop.setTimeout(() => log.push("a"), 5);
    loop.setInterval(() => log.push("b"), 5);
    loop.setImmediate(() => log.push("c"));
    let thrown: unknown;
    try {
      loop.setTimeout(() => log.push("d"), 5);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CapacityError);
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as CapacityError).capacity).toBe("timers");
    expect((thrown as Error).message).toMatch(/setTimeout/);
    expect((thrown as Error).message).toMatch(/capacity\.timers/);
    expect(() => loop.setInterval(() => {}, 5)).toThrow(CapacityError);
    expect(() => loop.setImmediate(() => {})).toThrow(CapacityError);
    expect(loop.pending).toMatchObject({ timers: 2, immediates: 1 });
    // It keeps working: the accepted ones run, and room frees up.
    loop.clearTimeout(a);
    loop.setTimeout(() => log.push("e"), 5);
    loop.advance(5);
    expect(log.sort()).toEqual(["b", "c", "e"]);
  });

  test("the tasks capacity: submit beyond it throws CapacityError; draining frees room", async () => {
    const { loop, log } = await makeLoop({ profile, capacity: { tasks: 2 } });
    loop.submit(() => log.push("1"));
    loop.submit(() => log.push("2"));
    let thrown: unknown;
    try {
      loop.submit(() => log.push("3"));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CapacityError);
    expect((thrown as CapacityError).capacity).toBe("tasks");
    expect((thrown as Error).message).toMatch(/capacity\.tasks/);
    loop.runUntilIdle();
    loop.submit(() => log.push("4"));
    loop.runUntilIdle();
    expect(log).toEqual(["1", "2", "4"]);
  });

  test("the microtasks capacity: queueMicrotask beyond it throws CapacityError; a checkpoint frees room", async () => {
    const { loop, log } = await makeLoop({ profile, capacity: { microtasks: 2 } });
    loop.queueMicrotask(() => log.push("1"));
    loop.queueMicrotask(() => log.push("2"));
    let thrown: unknown;
    try {
      loop.queueMicrotask(() => log.push("3"));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CapacityError);
    expect((thrown as CapacityError).capacity).toBe("microtasks");
    expect((thrown as Error).message).toMatch(/capacity\.microtasks/);
    loop.runUntilIdle();
    loop.queueMicrotask(() => log.push("4"));
    loop.runUntilIdle();
    expect(log).toEqual(["1", "2", "4"]);
  });

  test("a CapacityError thrown inside a callback is reported and the loop keeps going", async () => {
    const { loop, errors, log } = await makeLoop({ profile, capacity: { tasks: 1 } });
    loop.setTimeout(() => {
      loop.submit(() => log.push("accepted"));
      loop.submit(() => log.push("refused"));
    }, 1);
    loop.setTimeout(() => log.push("timer after"), 1);
    loop.runAll();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CapacityError);
    expect(log).toEqual(["timer after", "accepted"]);
  });

  test("a timer that re-arms itself from its own callback fits in a capacity of one", async () => {
    // A fired one-shot is no longer live: re-arming from its callback must not count it twice.
    const { loop, errors } = await makeLoop({ profile, capacity: { timers: 1 } });
    let runs = 0;
    const again = (): void => {
      if (++runs < 5) loop.setTimeout(again, 1);
    };
    loop.setTimeout(again, 1);
    loop.runAll();
    expect(errors).toEqual([]);
    expect(runs).toBe(5);
  });

  test("an immediate that requeues itself from its own callback fits in a capacity of one", async () => {
    const { loop, errors } = await makeLoop({ profile, capacity: { timers: 1 } });
    let runs = 0;
    const again = (): void => {
      if (++runs < 5) loop.setImmediate(again);
    };
    loop.setImmediate(again);
    loop.runUntilIdle();
    expect(errors).toEqual([]);
    expect(runs).toBe(5);
  });

  test.each([0, -1, 1.5, "3", 2 ** 31])(
    "capacity { timers: %s } is rejected with a RangeError",
    async (value) => {
      await expect(
        makeLoop({ profile, capacity: { timers: value as number } }),
      ).rejects.toBeInstanceOf(RangeError);
    },
  );
});
