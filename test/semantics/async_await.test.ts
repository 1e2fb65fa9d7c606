/**
 * Native async/await on the loop's schedule (issue "Native async/await on the loop's
 * schedule"): `await` always runs on the runtime's own job queue, so the loop must let
 * those jobs run before it decides it is idle, must not make microtasks wait for virtual
 * time, and must offer drives that let native continuations run between callbacks.
 *
 * Sources: README "Virtual time" and "Lifecycle"; ECMA-262 Await (native promises, one
 * job per await); @sinonjs/fake-timers' tickAsync as the reference for async driving.
 */
import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, test } from "vitest";
import { createEventLoop, DriveInProgressError, ReentrancyError } from "../../src-ts/node.ts";

describe("real clock: run() sees native continuations", () => {
  test("a timer callback that awaits and then schedules more work: run() waits for it", async () => {
    const loop = await createEventLoop();
    const log: string[] = [];
    loop.setTimeout(async () => {
      log.push("step1");
      await null;
      loop.setTimeout(() => log.push("step2"), 1);
    }, 1);
    await loop.run();
    expect(log).toEqual(["step1", "step2"]);
    expect(loop.pending).toEqual({ timers: 0, immediates: 0, tasks: 0, microtasks: 0, refs: 0 });
    loop.close();
  });

  test("a chain of awaits (native promises resolved by loop timers) runs to the end", async () => {
    const loop = await createEventLoop();
    const sleep = (ms: number) => new Promise<void>((resolve) => loop.setTimeout(resolve, ms));
    const log: number[] = [];
    loop.setTimeout(async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(1);
        await Promise.resolve();
        log.push(i);
      }
    }, 0);
    await loop.run();
    expect(log).toEqual([0, 1, 2, 3, 4]);
    loop.close();
  });
});

describe("manual clock: microtasks are not time", () => {
  test("awaiting a loop promise settled by runAll() resolves (no silent hang)", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const p = new loop.Promise<string>((resolve) => loop.setTimeout(() => resolve("done"), 5000));
    loop.runAll();
    await expect(p).resolves.toBe("done");
    expect(loop.now()).toBe(5000);
  });

  test("an async function that returns a loop promise resolves", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const settled = loop.Promise.resolve(42);
    const f = async () => settled;
    await expect(f()).resolves.toBe(42);
  });

  test("a loop microtask queued from outside any drive runs on the host's microtask queue", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    loop.queueMicrotask(() => log.push("micro"));
    expect(log).toEqual([]); // synchronous code first
    await null;
    expect(log).toEqual(["micro"]);
    expect(loop.now()).toBe(0);
  });

  test("timers, tasks and immediates still wait for a drive", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    loop.setTimeout(() => log.push("timer"), 0);
    loop.submit(() => log.push("task"));
    loop.setImmediate(() => log.push("immediate"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    loop.runUntilIdle();
    expect(log).toEqual(["timer", "task", "immediate"]);
  });
});

/** An async job queue: each job sleeps on a loop timer wrapped in a native promise. */
function jobQueue(
  loop: { setTimeout(fn: () => void, ms: number): unknown; now(): number },
  log: string[],
) {
  const sleep = (ms: number) => new Promise<void>((resolve) => loop.setTimeout(resolve, ms));
  return (async () => {
    for (const job of ["a", "b", "c", "d", "e"]) {
      log.push(`start ${job} @${loop.now()}`);
      await sleep(250);
      log.push(`end ${job} @${loop.now()}`);
    }
  })();
}

const TIMELINE_TO_1000 = [
  "start a @0",
  "end a @250",
  "start b @250",
  "end b @500",
  "start c @500",
  "end c @750",
  "start d @750",
  "end d @1000",
  "start e @1000",
];

describe("async driving of virtual time", () => {
  test("advanceAsync: an async job queue follows the virtual timeline (0, 250, 500, ...)", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    void jobQueue(loop, log);
    expect(await loop.advanceAsync(1000)).toBe(1000);
    expect(log).toEqual(TIMELINE_TO_1000);
  });

  test("the same timeline as @sinonjs/fake-timers' tickAsync on the same code", async () => {
    const clock = FakeTimers.createClock(0);
    const fakeLog: string[] = [];
    void jobQueue(
      { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), now: () => clock.now },
      fakeLog,
    );
    await clock.tickAsync(1000);
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    void jobQueue(loop, log);
    await loop.advanceAsync(1000);
    expect(fakeLog).toEqual(TIMELINE_TO_1000);
    expect(log).toEqual(fakeLog);
  });

  test("sync advance() cannot run native continuations: the queue waits (why the async forms exist)", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    void jobQueue(loop, log);
    loop.advance(1000);
    expect(log).toEqual(["start a @0"]);
  });

  test("runAllAsync runs the whole queue; nextAsync steps one timer at a time", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    const done = jobQueue(loop, log);
    expect(await loop.nextAsync()).toBe(250);
    expect(log).toEqual(["start a @0", "end a @250", "start b @250"]);
    expect(await loop.runAllAsync()).toBe(1250);
    await done;
    expect(log.at(-1)).toBe("end e @1250");
  });

  test("runToLastAsync and runUntilIdleAsync", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    void jobQueue(loop, log);
    expect(loop.nextDeadline()).toBe(250);
    expect(await loop.runToLastAsync()).toBe(250);
    expect(log).toEqual(["start a @0", "end a @250", "start b @250"]);
    loop.submit(async () => {
      await null;
      log.push(`task continuation @${loop.now()}`);
    });
    await loop.runUntilIdleAsync();
    expect(log.at(-1)).toBe("task continuation @250");
    expect(loop.nextDeadline()).toBe(500);
  });

  test("run() on a manual clock lets native continuations schedule more work", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    await Promise.all([jobQueue(loop, log), loop.run()]);
    expect(log.at(-1)).toBe("end e @1250");
    expect(loop.now()).toBe(1250);
  });

  test("native jobs between callbacks of one turn run before the next callback", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    loop.setTimeout(async () => {
      log.push("A");
      await null;
      log.push("A after await");
    }, 10);
    loop.setTimeout(() => log.push("B"), 10);
    await loop.advanceAsync(10);
    expect(log).toEqual(["A", "A after await", "B"]);
  });

  test("one drive at a time: another drive meanwhile is a DriveInProgressError; from a callback, ReentrancyError", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const seen: string[] = [];
    loop.setTimeout(async () => {
      try {
        loop.advance(1);
      } catch (error) {
        seen.push((error as Error).name);
      }
      await null;
      try {
        loop.advance(1);
      } catch (error) {
        seen.push((error as Error).name);
      }
      await loop.advanceAsync(1).catch((error: Error) => seen.push(error.name));
    }, 5);
    await loop.advanceAsync(10);
    expect(seen).toEqual([
      ReentrancyError.name,
      DriveInProgressError.name,
      DriveInProgressError.name,
    ]);
    expect(loop.advance(1)).toBe(11); // usable again once the drive ended
  });

  test("async drives on a real clock are a ClockModeError (rejected promise)", async () => {
    const loop = await createEventLoop();
    await expect((loop as any).advanceAsync(1)).rejects.toMatchObject({ name: "ClockModeError" });
    loop.close();
  });
});

describe('real clock: nativeJobs "after-callback" runs native continuations before the next callback', () => {
  const script = async (loop: Awaited<ReturnType<typeof createEventLoop>>) => {
    const log: string[] = [];
    loop.setTimeout(async () => {
      log.push("A");
      await null;
      log.push("A1");
      loop.queueMicrotask(() => log.push("A1 loop microtask"));
      await null;
      log.push("A2");
    }, 1);
    loop.setTimeout(() => log.push("B"), 1);
    await loop.run();
    loop.close();
    return log.join(" ");
  };

  test('"after-turn" (default): the continuation runs after the turn', async () => {
    expect(await script(await createEventLoop())).toBe("A B A1 A1 loop microtask A2");
  });

  test('"after-callback": before the next callback, and a loop microtask a continuation queues runs in order with them, as in Node and Chromium', async () => {
    expect(await script(await createEventLoop({ nativeJobs: "after-callback" }))).toBe(
      "A A1 A1 loop microtask A2 B",
    );
  });

  test("an unknown value is a TypeError naming the choices", async () => {
    await expect(createEventLoop({ nativeJobs: "sometimes" as never })).rejects.toThrow(
      /nativeJobs/,
    );
  });
});
