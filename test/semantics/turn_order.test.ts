/**
 * The turn and its phases, and the microtask checkpoint after every callback.
 *
 * Sources:
 * - /work/shared/semantics.md "Microtask checkpoints"; src-ts/event_loop.ts and
 *   src-zig/loop.zig top comments (the turn: clock read once; timers due at that
 *   time in (deadline, start) order; tasks submitted before that phase began;
 *   immediates queued before that phase began; a checkpoint after every callback).
 * - HTML Standard, event loop processing model and "perform a microtask checkpoint"
 *   (the checkpoint drains microtasks queued by microtasks too).
 * - libuv src/unix/core.c `uv_run` / src/timer.c: the loop time is updated once per
 *   iteration, due timers are taken in (timeout, start_id) order.
 * - Node test/parallel/test-timers-immediate-queue.js: immediates queued while the
 *   immediate queue runs go to the next turn.
 * - Node lib/internal/timers.js `listOnTimeout`/`processImmediate`: `runNextTicks()`
 *   (a microtask checkpoint) between two timer callbacks and between two immediates.
 */
import { describe, expect, test } from "vitest";
import { busyWait, makeLoop, profiles, waitFor } from "./_helpers.ts";

describe.each(profiles)("%s profile: phases of a turn", (profile) => {
  // node delays below 1 become 1, so use 1 ms everywhere and move the clock there first.
  test("a turn runs the due timers, then the tasks, then the immediates, each phase whole", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("timer A");
      loop.submit(() => log.push("task T1"));
      loop.setImmediate(() => log.push("immediate I1"));
    }, 1);
    loop.setTimeout(() => log.push("timer B"), 1);
    loop.advance(1);
    // T1 and I1 were queued during the timer phase, i.e. before their phases began,
    // so they run in this same turn, after every due timer.
    expect(log).toEqual(["timer A", "timer B", "task T1", "immediate I1"]);
  });

  test("tasks submitted during the task phase and immediates queued during the immediate phase wait for the next turn", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("A");
      loop.submit(() => {
        log.push("T1");
        loop.submit(() => log.push("T2")); // task phase running: next turn
        loop.setImmediate(() => log.push("I2")); // immediate phase not begun: this turn
      });
      loop.setImmediate(() => {
        log.push("I1");
        loop.setImmediate(() => log.push("I3")); // immediate phase running: next turn
        loop.submit(() => log.push("T3")); // task phase over: next turn
      });
    }, 1);
    loop.advance(1);
    // turn 1: A | T1 | I1 I2 ; turn 2: T2 T3 | I3
    expect(log).toEqual(["A", "T1", "I1", "I2", "T2", "T3", "I3"]);
  });

  test("a microtask checkpoint runs after every timer callback, draining microtasks queued by microtasks", async () => {
    const { loop, log } = await makeLoop({ profile });
    for (const name of ["A", "B"]) {
      loop.setTimeout(() => {
        log.push(name);
        loop.queueMicrotask(() => {
          log.push(`${name}.m1`);
          loop.queueMicrotask(() => {
            log.push(`${name}.m2`);
            loop.queueMicrotask(() => log.push(`${name}.m3`));
          });
        });
      }, 1);
    }
    loop.advance(1);
    expect(log).toEqual(["A", "A.m1", "A.m2", "A.m3", "B", "B.m1", "B.m2", "B.m3"]);
  });

  test("a microtask checkpoint runs after every task and after every immediate", async () => {
    const { loop, log } = await makeLoop({ profile });
    for (const name of ["T1", "T2"]) {
      loop.submit(() => {
        log.push(name);
        loop.queueMicrotask(() => {
          log.push(`${name}.m`);
          loop.queueMicrotask(() => log.push(`${name}.mm`));
        });
      });
    }
    for (const name of ["I1", "I2"]) {
      loop.setImmediate(() => {
        log.push(name);
        loop.queueMicrotask(() => {
          log.push(`${name}.m`);
          loop.queueMicrotask(() => log.push(`${name}.mm`));
        });
      });
    }
    loop.runUntilIdle();
    expect(log).toEqual([
      "T1",
      "T1.m",
      "T1.mm",
      "T2",
      "T2.m",
      "T2.mm",
      "I1",
      "I1.m",
      "I1.mm",
      "I2",
      "I2.m",
      "I2.mm",
    ]);
  });

  test("a microtask queued by a microtask runs before the next timer even when it queues a task", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("A");
      loop.queueMicrotask(() => {
        log.push("A.m");
        loop.submit(() => log.push("task from A.m"));
      });
    }, 1);
    loop.setTimeout(() => log.push("B"), 1);
    loop.advance(1);
    expect(log).toEqual(["A", "A.m", "B", "task from A.m"]);
  });

  test("equal deadlines fire in creation order, interleaved with other delays by deadline", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("a10"), 10);
    loop.setTimeout(() => log.push("b5"), 5);
    loop.setTimeout(() => log.push("c10"), 10);
    loop.setTimeout(() => log.push("d5"), 5);
    loop.setTimeout(() => log.push("e10"), 10);
    loop.advance(10);
    expect(log).toEqual(["b5", "d5", "a10", "c10", "e10"]);
  });

  test("a timer created later for the same absolute deadline fires after the earlier one (start order)", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => log.push("first, 10 ms at t=0"), 10);
    loop.advance(4);
    loop.setTimeout(() => log.push("second, 6 ms at t=4"), 6);
    loop.advance(6);
    expect(log).toEqual(["first, 10 ms at t=0", "second, 6 ms at t=4"]);
  });

  test("many timers due together (more than one core batch) all run in creation order", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: number[] = [];
    const count = 1300; // the core hands timers over in batches of 512
    for (let i = 0; i < count; i++) loop.setTimeout(() => seen.push(i), 3);
    loop.advance(3);
    expect(seen.length).toBe(count);
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  test("clearing other due timers from a callback prevents them, within the batch and beyond it", async () => {
    const { loop } = await makeLoop({ profile });
    const seen: number[] = [];
    const handles: unknown[] = [];
    const count = 700;
    for (let i = 0; i < count; i++) {
      handles.push(
        loop.setTimeout(() => {
          seen.push(i);
          if (i === 0) {
            loop.clearTimeout(handles[1]); // collected in the same batch, not yet run
            loop.clearTimeout(handles[600]); // still in the heap (second batch)
            loop.clearInterval(handles[650]); // clearInterval clears a timeout too
          }
        }, 2),
      );
    }
    loop.advance(2);
    expect(seen.length).toBe(count - 3);
    expect(seen).not.toContain(1);
    expect(seen).not.toContain(600);
    expect(seen).not.toContain(650);
  });

  test("an immediate cleared by an earlier immediate of the same turn does not run", async () => {
    // Node test/parallel/test-timers-clearImmediate.js (clearing a queued immediate).
    const { loop, log } = await makeLoop({ profile });
    let second: unknown;
    loop.setImmediate(() => {
      log.push("first");
      loop.clearImmediate(second);
    });
    second = loop.setImmediate(() => log.push("second"));
    loop.setImmediate(() => log.push("third"));
    loop.runUntilIdle();
    expect(log).toEqual(["first", "third"]);
  });

  test("clearing other queued immediates from an immediate prevents them, within the batch and beyond it", async () => {
    // Node test/parallel/test-timers-clearImmediate.js; the core hands immediates over in batches of 512.
    const { loop } = await makeLoop({ profile });
    const seen: number[] = [];
    const handles: unknown[] = [];
    const count = 700;
    for (let i = 0; i < count; i++) {
      handles.push(
        loop.setImmediate(() => {
          seen.push(i);
          if (i === 0) {
            loop.clearImmediate(handles[1]); // same batch, not yet run
            loop.clearImmediate(handles[600]); // still queued in the core (second batch)
          }
        }),
      );
    }
    loop.runUntilIdle();
    expect(seen).toEqual(
      Array.from({ length: count }, (_, i) => i).filter((i) => i !== 1 && i !== 600),
    );
    expect(loop.pending.immediates).toBe(0);
  });

  test("immediates queued while the immediate queue runs go to the next turn, even across core batches", async () => {
    // Node test/parallel/test-timers-immediate-queue.js. A task submitted by the first
    // immediate runs in the next turn's task phase, so it marks where turn 1 ended.
    const { loop } = await makeLoop({ profile });
    const queue = 1000; // the core hands immediates over in batches of 512
    let hit = 0;
    let hitWhenMarkerRan = -1;
    const run = (): void => {
      if (hit === 0) loop.submit(() => (hitWhenMarkerRan = hit));
      if (hitWhenMarkerRan >= 0) return;
      hit++;
      loop.setImmediate(run);
    };
    for (let i = 0; i < queue; i++) loop.setImmediate(run);
    loop.runUntilIdle();
    expect(hitWhenMarkerRan).toBe(queue);
    expect(hit).toBe(queue);
  });
});

describe.each(profiles)("%s profile: batches survive growth of the core's memory", (profile) => {
  // The core hands each phase's work over in a batch in linear memory; a callback may
  // make that memory grow (many new tasks, timers or immediates). The rest of the batch
  // must still run: no timer, task or immediate accepted by the loop is silently lost.
  const MANY = 40_000;

  test("timers: a timer that queues many tasks does not lose the timers due with it", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setTimeout(() => {
      log.push("A");
      for (let i = 0; i < MANY; i++) loop.submit(() => {});
    }, 1);
    loop.setTimeout(() => log.push("B"), 1);
    loop.advance(1);
    expect(log).toEqual(["A", "B"]);
    expect(loop.pending).toMatchObject({ timers: 0, tasks: 0 });
  });

  test("timers: a timer that creates many timers does not lose the timers due with it", async () => {
    const { loop, log } = await makeLoop({ profile });
    const handles: unknown[] = [];
    loop.setTimeout(() => {
      log.push("A");
      for (let i = 0; i < MANY; i++) handles.push(loop.setTimeout(() => {}, 1000));
    }, 1);
    loop.setTimeout(() => log.push("B"), 1);
    loop.advance(1);
    expect(log).toEqual(["A", "B"]);
    handles.forEach((h) => {
      loop.clearTimeout(h);
    });
    expect(loop.pending.timers).toBe(0);
  });

  test("tasks: a task that queues many tasks does not lose the tasks queued with it", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.submit(() => {
      log.push("T1");
      for (let i = 0; i < MANY; i++) loop.submit(() => {});
    });
    loop.submit(() => log.push("T2"));
    loop.runUntilIdle();
    expect(log).toEqual(["T1", "T2"]);
  });

  test("immediates: an immediate that queues many immediates does not lose the immediates queued with it", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.setImmediate(() => {
      log.push("I1");
      for (let i = 0; i < MANY; i++) loop.setImmediate(() => {});
    });
    loop.setImmediate(() => log.push("I2"));
    loop.runUntilIdle();
    expect(log).toEqual(["I1", "I2"]);
  });

  test("microtasks: a microtask that queues many tasks does not lose the microtasks queued with it", async () => {
    const { loop, log } = await makeLoop({ profile });
    loop.queueMicrotask(() => {
      log.push("m1");
      for (let i = 0; i < MANY; i++) loop.submit(() => {});
    });
    loop.queueMicrotask(() => log.push("m2"));
    loop.runUntilIdle();
    expect(log).toEqual(["m1", "m2"]);
  });
});

describe("html profile: timers started during a turn", () => {
  test("setTimeout(0) from a timer callback does not fire in the same turn: the turn's immediates run first", async () => {
    // HTML timers: a timer's task is queued when its timeout elapses, and the turn
    // snapshot (loop.zig turn_begin) keeps new timers out of the running turn.
    const { loop, log } = await makeLoop({ profile: "html" });
    loop.setTimeout(() => {
      log.push("A");
      loop.setTimeout(() => log.push("B (0 ms, from A)"), 0);
    }, 0);
    loop.setImmediate(() => log.push("immediate"));
    loop.runUntilIdle();
    expect(log).toEqual(["A", "immediate", "B (0 ms, from A)"]);
  });

  test("setTimeout(0) from a microtask of a timer callback does not fire in the same turn either", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    loop.setTimeout(() => {
      log.push("A");
      loop.queueMicrotask(() => loop.setTimeout(() => log.push("B (0 ms, from A's microtask)"), 0));
    }, 0);
    loop.setTimeout(() => log.push("C"), 0);
    loop.setImmediate(() => log.push("immediate"));
    loop.runUntilIdle();
    expect(log).toEqual(["A", "C", "immediate", "B (0 ms, from A's microtask)"]);
  });

  test("setTimeout(0) from a task or an immediate runs in the next turn's timer phase, before that turn's tasks", async () => {
    const { loop, log } = await makeLoop({ profile: "html" });
    loop.submit(() => {
      log.push("T1");
      loop.setTimeout(() => log.push("timer from T1"), 0);
      loop.submit(() => log.push("T2 (next turn)"));
    });
    loop.runUntilIdle();
    expect(log).toEqual(["T1", "timer from T1", "T2 (next turn)"]);
  });
});

describe("real clock: one clock read per turn", () => {
  test.each(profiles)(
    "%s: due timers of one turn run in (deadline, start) order, not creation order",
    async (profile) => {
      const { loop, log } = await makeLoop({ profile, clock: "real" });
      loop.setTimeout(() => log.push("A 8 ms"), 8);
      loop.setTimeout(() => log.push("B 3 ms"), 3);
      loop.setTimeout(() => log.push("C 3 ms"), 3);
      loop.submit(() => log.push("task"));
      busyWait(15); // every deadline passes before the host runs the loop at all
      await waitFor(() => log.length === 4);
      // The task was queued before the first turn; the first turn's clock read sees all three timers due.
      expect(log).toEqual(["B 3 ms", "C 3 ms", "A 8 ms", "task"]);
      loop.close();
    },
  );

  test.each(profiles)(
    "%s: a 1 ms timer created by a callback that ran long does not fire in that turn",
    async (profile) => {
      // The clock is read once per turn (libuv uv_update_time; loop.zig set_now only between
      // turns): after A's busy wait the 1 ms timer is really due, but only the next turn sees it.
      const { loop, log } = await makeLoop({ profile, clock: "real" });
      loop.setTimeout(() => {
        log.push("A");
        busyWait(5);
        loop.setTimeout(() => log.push("B"), 1);
        loop.setImmediate(() => log.push("immediate from A"));
      }, 1);
      loop.setTimeout(() => log.push("C (same deadline as A)"), 1);
      await waitFor(() => log.length === 4);
      expect(log).toEqual(["A", "C (same deadline as A)", "immediate from A", "B"]);
      loop.close();
    },
  );
});
