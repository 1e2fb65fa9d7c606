/**
 * Lifecycle: state, re-entrancy, graceful shutdown, close.
 *
 * Sources: semantics.md "Lifecycle" (graceful shutdown: refuse new work, run the tasks
 * already queued, each with its checkpoint, cancel timers, then resolve; nothing accepted
 * is lost silently; re-entrancy is an error, not a deadlock); the brief's lifecycle
 * decisions; src-zig/loop.zig top comment (open -> stopping -> closed; stopping still
 * accepts microtasks so checkpoints complete).
 */
import { describe, expect, test } from "vitest";
import {
  LoopClosedError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
  TerminationError,
} from "../../src-ts/node.ts";
import { makeFakeHostLoop, makeLoop, profiles } from "./_helpers.ts";

describe.each(profiles)("%s profile: state", (profile) => {
  test("idle when created, running inside every kind of callback, idle again afterwards", async () => {
    const { loop } = await makeLoop({ profile });
    expect(loop.state).toBe("idle");
    const seen: string[] = [];
    loop.setTimeout(() => {
      seen.push(`timer:${loop.state}`);
      loop.queueMicrotask(() => seen.push(`microtask:${loop.state}`));
    }, 1);
    loop.submit(() => seen.push(`task:${loop.state}`));
    loop.setImmediate(() => seen.push(`immediate:${loop.state}`));
    loop.runAll();
    expect(seen.sort()).toEqual([
      "immediate:running",
      "microtask:running",
      "task:running",
      "timer:running",
    ]);
    expect(loop.state).toBe("idle");
  });

  test("closed after close()", async () => {
    const { loop } = await makeLoop({ profile });
    loop.close();
    expect(loop.state).toBe("closed");
  });

  test("stopping inside the tasks a graceful shutdown drains, closed once it resolved", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: string[] = [];
    loop.submit(() => seen.push(loop.state));
    loop.setImmediate(() => seen.push(loop.state));
    await loop.shutdown({ graceful: true });
    expect(seen).toEqual(["stopping", "stopping"]);
    expect(loop.state).toBe("closed");
  });

  test("stopping right after shutdown() returns, until its promise resolves", async () => {
    // shutdown() returns a promise; the loop is "stopping" until it settles (the drained
    // work runs later, not synchronously inside the shutdown() call).
    const { loop, log } = await makeLoop({ profile });
    loop.submit(() => log.push("task"));
    const done = loop.shutdown({ graceful: true });
    expect(loop.state).toBe("stopping");
    expect(log).toEqual([]);
    await done;
    expect(log).toEqual(["task"]);
    expect(loop.state).toBe("closed");
  });
});

describe.each(profiles)("%s profile: re-entrancy", (profile) => {
  test("driving calls from inside a callback throw ReentrancyError; run() rejects with it", async () => {
    const { loop } = await makeLoop({ profile });
    const outcomes: Record<string, unknown> = {};
    let runPromise: Promise<void> | undefined;
    loop.setTimeout(() => {
      for (const [name, call] of [
        ["runUntilIdle", () => loop.runUntilIdle()],
        ["advance", () => loop.advance(1)],
        ["next", () => loop.next()],
        ["runAll", () => loop.runAll()],
        ["runToLast", () => loop.runToLast()],
      ] as const) {
        try {
          call();
          outcomes[name] = "returned";
        } catch (error) {
          outcomes[name] = error;
        }
      }
      runPromise = loop.run();
    }, 1);
    loop.setTimeout(() => (outcomes.after = "later timer still ran"), 2);
    loop.advance(5);
    for (const name of ["runUntilIdle", "advance", "next", "runAll", "runToLast"]) {
      expect(outcomes[name], name).toBeInstanceOf(ReentrancyError);
      expect(outcomes[name], name).toBeInstanceOf(LoopStateError);
    }
    await expect(runPromise).rejects.toBeInstanceOf(ReentrancyError);
    expect(outcomes.after).toBe("later timer still ran");
    expect(loop.now()).toBe(5);
  });

  test("from a microtask, a task or an immediate too", async () => {
    const { loop } = await makeLoop({ profile });
    const errors: unknown[] = [];
    const attempt = (): void => {
      try {
        loop.runUntilIdle();
      } catch (error) {
        errors.push(error);
      }
    };
    loop.queueMicrotask(attempt);
    loop.submit(attempt);
    loop.setImmediate(attempt);
    loop.runUntilIdle();
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error).toBeInstanceOf(ReentrancyError);
  });

  test("real clock: run() from inside a callback rejects with ReentrancyError instead of deadlocking", async () => {
    const { loop } = await makeLoop({ profile, clock: "real" });
    let inner: Promise<unknown> | undefined;
    loop.setTimeout(() => {
      // Handled at once: run() resolves on a later host task, after Node's rejection check.
      inner = loop.run().then(
        () => "resolved",
        (error: unknown) => error,
      );
    }, 1);
    await loop.run();
    expect(await inner).toBeInstanceOf(ReentrancyError);
    loop.close();
  });
});

describe.each(profiles)("%s profile: graceful shutdown", (profile) => {
  test("cancels timers, runs the queued tasks, immediates and microtasks, resolves with a report, then is closed", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("timer"), 0);
    loop.setTimeout(() => log.push("timer 2"), 100);
    loop.setInterval(() => log.push("interval"), 10);
    loop.submit(() => {
      log.push("task 1");
      loop.queueMicrotask(() => log.push("task 1 microtask"));
    });
    loop.submit(() => log.push("task 2"));
    loop.setImmediate(() => log.push("immediate"));
    loop.queueMicrotask(() => log.push("microtask"));
    const report = await loop.shutdown({ graceful: true });
    expect(log).toEqual(["microtask", "task 1", "task 1 microtask", "task 2", "immediate"]);
    expect(report).toEqual({ cancelledTimers: 3, ranTasks: 3, rejectedPromises: 0 });
    expect(loop.state).toBe("closed");
  });

  test("refuses new timers, immediates and tasks from the tasks it drains with LoopShuttingDownError", async () => {
    const { loop, errors } = await makeLoop({ profile });
    const attempts = [
      () => loop.setTimeout(() => {}, 1),
      () => loop.setInterval(() => {}, 1),
      () => loop.setImmediate(() => {}),
      () => loop.submit(() => {}),
    ];
    for (const attempt of attempts) loop.submit(attempt); // each throws inside its task: reported, the shutdown goes on
    const report = await loop.shutdown();
    expect(report.ranTasks).toBe(4);
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      expect(error).toBeInstanceOf(LoopShuttingDownError);
      expect(error).toBeInstanceOf(LoopStateError);
    }
  });

  test("refuses new timers, immediates and tasks from outside with LoopShuttingDownError until it has resolved", async () => {
    const { loop } = await makeLoop({ profile });
    loop.submit(() => {});
    const done = loop.shutdown();
    for (const schedule of [
      () => loop.setTimeout(() => {}, 1),
      () => loop.setInterval(() => {}, 1),
      () => loop.setImmediate(() => {}),
      () => loop.submit(() => {}),
    ]) {
      expect(schedule).toThrow(LoopShuttingDownError);
    }
    await done;
    expect(() => loop.setTimeout(() => {}, 1)).toThrow(LoopClosedError);
  });

  test("microtasks queued by the drained tasks still run (each task gets its checkpoint)", async () => {
    const { loop, log, errors } = await makeLoop({ profile });
    loop.submit(() => {
      log.push("task");
      loop.queueMicrotask(() => {
        log.push("microtask");
        loop.queueMicrotask(() => log.push("nested microtask"));
      });
    });
    loop.setImmediate(() => log.push("immediate"));
    await loop.shutdown();
    expect(log).toEqual(["task", "microtask", "nested microtask", "immediate"]);
    expect(errors).toEqual([]);
  });

  test("rejects pending loop promises that are waited on with a TerminationError and counts them", async () => {
    // semantics.md "Graceful shutdown": reject pending loop promises with a termination error.
    const { loop } = await makeLoop({ profile });
    const reasons: unknown[] = [];
    new loop.Promise(() => {}).catch((reason: unknown) => reasons.push(reason));
    new loop.Promise((resolve: (v: unknown) => void) => loop.setTimeout(resolve, 1000)).then(
      () => reasons.push("resolved?"),
      (reason: unknown) => reasons.push(reason),
    );
    const report = await loop.shutdown();
    expect(report.rejectedPromises).toBe(2);
    expect(report.cancelledTimers).toBe(1);
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) expect(reason).toBeInstanceOf(TerminationError);
  });

  test("clearing during a shutdown is a silent no-op", async () => {
    const { loop } = await makeLoop({ profile });
    const t = loop.setTimeout(() => {}, 5);
    const i = loop.setImmediate(() => {});
    const done = loop.shutdown();
    expect(() => {
      loop.clearTimeout(t);
      loop.clearInterval(t);
      loop.clearImmediate(i);
    }).not.toThrow();
    await done;
  });

  test("a second shutdown() returns the same promise; shutdown after close resolves with zeros", async () => {
    const { loop } = await makeLoop({ profile });
    loop.setTimeout(() => {}, 5);
    const first = loop.shutdown();
    expect(loop.shutdown()).toBe(first);
    await first;
    const other = await makeLoop({ profile });
    other.loop.close();
    await expect(other.loop.shutdown()).resolves.toEqual({
      cancelledTimers: 0,
      ranTasks: 0,
      rejectedPromises: 0,
    });
  });

  test("shutdown({ graceful: false }) is close(): queued work is dropped", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("timer"), 1);
    loop.submit(() => log.push("task"));
    const report = await loop.shutdown({ graceful: false });
    expect(log).toEqual([]);
    expect(report.cancelledTimers).toBe(1);
    expect(report.ranTasks).toBe(0);
    expect(loop.state).toBe("closed");
  });

  test("shutdown() called from inside a timer callback: the other due timers do not run, queued work does", async () => {
    const { loop, log } = await makeLoop({ profile });
    let done: Promise<unknown> | undefined;
    loop.setTimeout(() => {
      log.push("A");
      loop.submit(() => log.push("task queued by A"));
      done = loop.shutdown();
    }, 5);
    loop.setTimeout(() => log.push("B (same deadline)"), 5);
    loop.setTimeout(() => log.push("C (later)"), 10);
    loop.advance(20);
    const report = await done;
    expect(log).toEqual(["A", "task queued by A"]);
    expect(report).toMatchObject({ cancelledTimers: 2 });
    expect(loop.state).toBe("closed");
  });

  test("real clock (fake host): run() waiters resolve when a graceful shutdown completes, without waiting for the cancelled timer", async () => {
    const { loop, host, log } = await makeFakeHostLoop({ profile });
    loop.setTimeout(() => log.push("never"), 10_000);
    loop.submit(() => log.push("task"));
    const running = loop.run();
    const report = await host.until(loop.shutdown());
    await host.until(running);
    expect(host.now).toBe(0);
    expect(log).toEqual(["task"]);
    expect(report).toMatchObject({ cancelledTimers: 1, ranTasks: 1 });
    expect(host.keepsAlive()).toBe(false);
  });
});

describe.each(profiles)("%s profile: close()", (profile) => {
  test("stops at once and reports what it cancelled and dropped", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("timer"), 1);
    loop.setTimeout(() => log.push("timer"), 0);
    loop.setInterval(() => log.push("interval"), 5);
    loop.submit(() => log.push("task"));
    loop.submit(() => log.push("task"));
    loop.setImmediate(() => log.push("immediate"));
    loop.queueMicrotask(() => log.push("microtask"));
    loop.queueMicrotask(() => log.push("microtask"));
    const report = loop.close();
    expect(report).toEqual({ cancelledTimers: 3, droppedTasks: 3, droppedMicrotasks: 2 });
    expect(loop.close()).toEqual(report); // idempotent
    expect(log).toEqual([]);
    expect(loop.state).toBe("closed");
  });

  test("after close, scheduling throws LoopClosedError and clearing is a silent no-op", async () => {
    const { loop } = await makeLoop({ profile });
    const t = loop.setTimeout(() => {}, 1);
    const i = loop.setInterval(() => {}, 1);
    const im = loop.setImmediate(() => {});
    loop.close();
    for (const schedule of [
      () => loop.setTimeout(() => {}, 1),
      () => loop.setInterval(() => {}, 1),
      () => loop.setImmediate(() => {}),
      () => loop.submit(() => {}),
      () => loop.queueMicrotask(() => {}),
    ]) {
      expect(schedule).toThrow(LoopClosedError);
    }
    expect(() => {
      loop.clearTimeout(t);
      loop.clearInterval(i);
      loop.clearImmediate(im);
      loop.clearTimeout(12345);
      loop.clearImmediate(undefined);
    }).not.toThrow();
  });

  test.each([true, false])(
    "close() from inside a timer callback (microtask queued: %s): the rest of the turn does not run and the driving call returns",
    async (withMicrotask) => {
      const { loop, log } = await makeLoop({ profile });
      loop.setTimeout(() => {
        log.push("A");
        if (withMicrotask) loop.queueMicrotask(() => log.push("A's microtask"));
        loop.close();
      }, 5);
      loop.setTimeout(() => log.push("B (same deadline)"), 5);
      loop.submit(() => log.push("task"));
      loop.advance(4); // runs the task first
      expect(() => loop.advance(10)).not.toThrow();
      expect(log).toEqual(["task", "A"]);
      expect(loop.state).toBe("closed");
    },
  );

  test("close() from inside a task or a microtask: the driving call returns", async () => {
    for (const where of ["task", "microtask", "immediate"] as const) {
      const { loop, log } = await makeLoop({ profile });
      const closeIt = (): void => {
        log.push(where);
        loop.close();
      };
      if (where === "task") loop.submit(closeIt);
      else if (where === "immediate") loop.setImmediate(closeIt);
      else loop.queueMicrotask(closeIt);
      loop.submit(() => log.push("task after"));
      loop.setImmediate(() => log.push("immediate after"));
      expect(() => loop.runUntilIdle(), where).not.toThrow();
      // Immediates run after the turn's tasks, so only there did the other task run first.
      expect(log).toEqual(where === "immediate" ? ["task after", "immediate"] : [where]);
    }
  });

  test("close() from a microtask: the microtasks queued behind it are dropped (counted), not run", async () => {
    const { loop, log } = await makeLoop({ profile });
    let report: { droppedMicrotasks: number } | undefined;
    loop.queueMicrotask(() => log.push("first"));
    loop.queueMicrotask(() => {
      log.push("closer");
      loop.queueMicrotask(() => log.push("queued by the closer"));
      report = loop.close();
    });
    loop.queueMicrotask(() => log.push("third"));
    loop.runUntilIdle();
    expect(log).toEqual(["first", "closer"]);
    expect(report!.droppedMicrotasks).toBe(2);
  });

  test("real clock (fake host): close() resolves pending run() promises at once and nothing fires afterwards", async () => {
    const { loop, host, log } = await makeFakeHostLoop({ profile });
    loop.setTimeout(() => log.push("fired"), 20);
    const running = loop.run();
    loop.close();
    await host.until(running);
    expect(host.now).toBe(0);
    await host.advance(40); // past the timer's deadline
    expect(log).toEqual([]);
  });
});

// Timeout objects (refresh, ref, unref, close, dispose) exist only in the node profile.
describe("node profile: close()", () => {
  test("handles are inert after close: refresh/ref/unref/close do not throw or revive", async () => {
    const { loop, log } = await makeLoop({ profile: "node" });
    const t = loop.setTimeout(() => log.push("fired"), 1);
    loop.close();
    expect(() => {
      t.refresh();
      t.unref();
      t.ref();
      t.close();
      t[Symbol.dispose]();
    }).not.toThrow();
    expect(loop.pending).toMatchObject({ timers: 0, refs: 0 });
    expect(log).toEqual([]);
  });
});
