/**
 * setInterval and clearing, shared by both profiles.
 *
 * Sources:
 * - semantics.md "Shared by both": setInterval's next deadline is computed from the time
 *   the callback was due to start (no accumulated drift); clearing a timer inside its
 *   own callback (or an interval from its callback) stops it.
 * - brief: missed beats are skipped, not bunched.
 * - WPT html/webappapis/timers/clearinterval-from-callback.any.js.
 * - HTML timer initialization steps, task step "If repeat is true, perform the timer
 *   initialization steps again" runs after the callback, exceptions included (they are
 *   reported); Node lib/internal/timers.js listOnTimeout re-inserts a repeating timer
 *   in a `finally` block.
 */
import { describe, expect, test } from "vitest";
import { createEventLoop } from "../../src-ts/node.ts";
import { makeFakeHostLoop, makeLoop, profiles } from "./_helpers.ts";

describe.each(profiles)("%s profile: intervals", (profile) => {
  test("an interval fires at every multiple of its period, each beat at its own deadline", async () => {
    const { loop } = await makeLoop({ profile });
    const beats: number[] = [];
    loop.setInterval(() => beats.push(loop.now()), 10);
    loop.advance(35);
    expect(beats).toEqual([10, 20, 30]);
    loop.advance(5);
    expect(beats).toEqual([10, 20, 30, 40]);
  });

  test("clearing an interval from its own callback stops it (clearinterval-from-callback)", async () => {
    const { loop, log } = await makeLoop({ profile });
    let times = 0;
    const handle = loop.setInterval(() => {
      times++;
      loop.clearInterval(handle);
      log.push(`beat ${times}`);
    }, 500);
    loop.setInterval(() => log.push("750"), 750);
    loop.advance(1600);
    expect(log).toEqual(["beat 1", "750", "750"]);
    expect(times).toBe(1);
  });

  test("clearTimeout from an interval's own callback stops it too", async () => {
    const { loop } = await makeLoop({ profile });
    let times = 0;
    const handle = loop.setInterval(() => {
      if (++times === 3) loop.clearTimeout(handle);
    }, 5);
    loop.runAll({ limit: 100 });
    expect(times).toBe(3);
    expect(loop.pending.timers).toBe(0);
  });

  test("clearing a timeout from its own callback is harmless", async () => {
    const { loop, log } = await makeLoop({ profile });
    const handle = loop.setTimeout(() => {
      log.push("self");
      loop.clearTimeout(handle);
    }, 5);
    loop.setTimeout(() => log.push("other"), 5);
    loop.runAll();
    expect(log).toEqual(["self", "other"]);
    expect(loop.pending.timers).toBe(0);
  });

  test("a timer cleared by another callback of the same turn does not run", async () => {
    const { loop, log } = await makeLoop({ profile });
    let victim: unknown;
    let intervalVictim: unknown;
    loop.setTimeout(() => {
      log.push("A");
      loop.clearTimeout(victim);
      loop.clearInterval(intervalVictim);
    }, 10);
    victim = loop.setTimeout(() => log.push("victim timeout"), 10);
    intervalVictim = loop.setInterval(() => log.push("victim interval"), 10);
    loop.advance(50);
    expect(log).toEqual(["A"]);
  });

  test("a timer cleared from a microtask of an earlier callback of the same turn does not run", async () => {
    const { loop, log } = await makeLoop({ profile });
    let victim: unknown;
    loop.setTimeout(() => {
      log.push("A");
      loop.queueMicrotask(() => loop.clearTimeout(victim));
    }, 10);
    victim = loop.setTimeout(() => log.push("victim"), 10);
    loop.advance(10);
    expect(log).toEqual(["A"]);
  });

  test("an interval keeps repeating when its callback throws; each error goes to onError", async () => {
    const { loop, errors } = await makeLoop({ profile });
    let beats = 0;
    const handle = loop.setInterval(() => {
      beats++;
      if (beats === 3) loop.clearInterval(handle);
      throw new Error(`beat ${beats}`);
    }, 10);
    loop.advance(100);
    expect(beats).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(["beat 1", "beat 2", "beat 3"]);
  });

  test("an interval's next beat is ordered after a timer created for the same deadline before that beat was re-armed", async () => {
    // libuv/Node: a repeating timer is re-inserted with a new start sequence (Node renumbers
    // the list id in listOnTimeout); equal deadlines then run in start order.
    const { loop, log } = await makeLoop({ profile });
    const interval = loop.setInterval(() => {
      log.push(`interval@${loop.now()}`);
      if (loop.now() >= 20) loop.clearInterval(interval);
    }, 10);
    loop.setTimeout(() => log.push(`timeout@${loop.now()}`), 20);
    loop.advance(20);
    expect(log).toEqual(["interval@10", "timeout@20", "interval@20"]);
  });
});

describe.each(profiles)("%s profile: a late interval on a real clock (fake host)", (profile) => {
  // The host is busy until `busyUntil`, so the first beat (due 40) runs late, then. What
  // the next beat is armed for is read with nextDeadline() in a microtask of the late
  // beat (the interval is re-armed before or right after its callback). html keeps the
  // 40 ms grid (Chromium's repeating timers): beats the loop missed are skipped, not
  // bunched, and so is one due exactly when the late beat runs. node counts from the
  // late turn (Node re-inserts the interval from the time it ran).
  const cases: Array<[busyUntil: number, html: number, node: number]> = [
    [110, 120, 150], // the beat due at 80 was missed
    [80, 120, 120], // late by exactly one period: the beat due at 80 is skipped too
  ];
  test.each(cases)(
    "busy until %i: the next beat is armed for %i (html) or %i (node)",
    async (busyUntil, html, node) => {
      const { loop, host } = await makeFakeHostLoop({ profile });
      const beats: number[] = [];
      let armedFor = Number.NaN;
      const handle = loop.setInterval(() => {
        beats.push(loop.now());
        loop.queueMicrotask(() => {
          armedFor = loop.nextDeadline();
          loop.clearInterval(handle);
        });
      }, 40);
      host.block(busyUntil); // the script runs until then: the host cannot run the loop
      await host.until(loop.run());
      expect(beats).toEqual([busyUntil]);
      expect(armedFor).toBe(profile === "html" ? html : node);
      loop.close();
    },
  );

  test("a beat that is late by less than a period keeps the grid (html) or counts from when it ran (node)", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile });
    const beats: number[] = [];
    const handle = loop.setInterval(() => {
      beats.push(loop.now());
      if (beats.length === 1) host.block(15); // the first beat takes 15 ms
      if (beats.length === 3) loop.clearInterval(handle);
    }, 10);
    await host.until(loop.run());
    // Both run the beat due at 20 late, at 25 (the host was busy until then). html keeps
    // the grid: 30. node counts the next beat from the turn that ran it: 35.
    expect(beats).toEqual(profile === "html" ? [10, 25, 30] : [10, 25, 35]);
    loop.close();
  });
});

describe("an interval's next beat against a timeout its callback creates for the same deadline", () => {
  // node: Node re-inserts an interval after its callback (listOnTimeout's finally), so
  // the timeout runs first. html: Chromium sets the next fire time before running the
  // callback (TimerBase::RunInternal), so the beat runs first (test/differential fixture
  // interval_with_timeout_created_in_first_beat measures both runtimes).
  const expected = {
    html: ["interval 10", "interval 20", "timeout 20"],
    node: ["interval 10", "timeout 20", "interval 20"],
  };
  for (const profile of ["html", "node"] as const) {
    test(`${profile}: ${expected[profile].join(", ")}`, async () => {
      const loop = await createEventLoop({ profile, clock: "manual" });
      const seen: string[] = [];
      let first = true;
      const interval = loop.setInterval(() => {
        seen.push(`interval ${loop.now()}`);
        if (first) {
          first = false;
          loop.setTimeout(() => seen.push(`timeout ${loop.now()}`), 10);
        }
      }, 10);
      loop.advance(20);
      loop.clearInterval(interval);
      expect(seen).toEqual(expected[profile]);
    });
  }

  test("html: the beat is sequenced when it runs, not when it was collected: a timeout an earlier callback of the same turn created goes first", async () => {
    const loop = await createEventLoop({ profile: "html", clock: "manual" });
    const seen: string[] = [];
    loop.setTimeout(() => loop.setTimeout(() => seen.push("timeout"), 10), 10);
    const interval = loop.setInterval(() => seen.push(`interval ${loop.now()}`), 10);
    loop.advance(20);
    loop.clearInterval(interval);
    expect(seen).toEqual(["interval 10", "timeout", "interval 20"]);
  });
});

describe("timerStart (fake host)", () => {
  // A timer callback runs 30 ms (from 0 to 30) and then schedules a 20 ms timer.
  async function scheduledAfterALongCallback(timerStart: "turn" | "call" | undefined) {
    const { loop, host } = await makeFakeHostLoop(timerStart === undefined ? {} : { timerStart });
    let firedAt = Number.NaN;
    loop.setTimeout(() => {
      host.block(30);
      loop.setTimeout(() => (firedAt = loop.now()), 20);
    }, 0);
    await host.until(loop.run());
    loop.close();
    return firedAt;
  }

  test('"call": the delay counts from the call, at 30: the timer fires at 50', async () => {
    expect(await scheduledAfterALongCallback("call")).toBe(50);
  });

  test('"turn" (default): the delay counts from the turn, at 0, like libuv: due at 20, it fires in the next turn, at 30', async () => {
    expect(await scheduledAfterALongCallback(undefined)).toBe(30);
    expect(await scheduledAfterALongCallback("turn")).toBe(30);
  });

  test("an unknown timerStart is a TypeError", async () => {
    await expect(createEventLoop({ timerStart: "soon" as never })).rejects.toThrow(TypeError);
  });
});
