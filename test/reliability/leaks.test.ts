/**
 * Leaks (issue 7, part 5): a million schedule/fire cycles and a million settled promise
 * chains bring the core's live counts and chunk usage, and the host's tables (`pending`),
 * back to their baseline after every round; linear memory (`arena_bytes`, the buffer size)
 * stops growing after the first round. Every check is a bound on a count, never a timing.
 */
import { afterAll, describe, expect, test } from "vitest";
import { Stat } from "../../src-ts/core/abi.generated.ts";
import type { EventLoop, Timeout } from "../../src-ts/node.ts";
import { collectingLoop } from "./_helpers.ts";

const totals = { cycles: 0, chains: 0 };

afterAll(() => {
  console.log(
    `[leaks] ${totals.cycles} schedule/fire cycles and ${totals.chains} promise chains; live counts back to baseline after every round`,
  );
});

const EMPTY = { timers: 0, immediates: 0, tasks: 0, microtasks: 0, refs: 0 };

interface Snapshot {
  handlesLive: number;
  chunksInUse: number;
  arenaBytes: number;
  bufferBytes: number;
  handleCapacity: number;
}

function snapshot(loop: EventLoop): Snapshot {
  return {
    handlesLive: loop.coreStat(Stat.handles_live),
    chunksInUse: loop.coreStat(Stat.chunks_in_use),
    arenaBytes: loop.coreStat(Stat.arena_bytes),
    bufferBytes: loop.metrics().memory.linearBytes,
    handleCapacity: loop.coreStat(Stat.handles_capacity),
  };
}

/** After every round: nothing live, and nothing larger than after the first round. */
function expectBaseline(loop: EventLoop, first: Snapshot | undefined): Snapshot {
  expect(loop.pending).toEqual(EMPTY);
  expect(loop.verifyCore()).toBe(0);
  const now = snapshot(loop);
  expect(now.handlesLive).toBe(0);
  // A drained FIFO keeps one chunk for reuse: tasks, immediates, microtask overflow.
  expect(now.chunksInUse).toBeLessThanOrEqual(3);
  if (first) {
    expect(now.chunksInUse).toBeLessThanOrEqual(first.chunksInUse);
    expect(now.arenaBytes).toBe(first.arenaBytes);
    expect(now.bufferBytes).toBe(first.bufferBytes);
    expect(now.handleCapacity).toBe(first.handleCapacity);
  }
  return now;
}

// The 600 s timeouts of the 1e5-1e6 cycle tests below guard against a hang; they are not
// a speed requirement. Each takes seconds on an idle machine, but beside busy processes on
// a small one they took 70-235 s and failed the 60 s they had.
describe.each(["html", "node"] as const)("leaks (%s profile)", (profile) => {
  test("1e6 schedule/fire cycles of every kind return to the baseline after every round; memory stops growing", () => {
    const ROUNDS = 250;
    const PER_ROUND = 4000; // 1e6 cycles in all
    const { loop, errors } = collectingLoop({ profile, metrics: true });
    let ran = 0;
    let first: Snapshot | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const handles: unknown[] = [];
      for (let i = 0; i < PER_ROUND; i++) {
        switch (i % 8) {
          case 0:
          case 1:
          case 2:
            handles.push(loop.setTimeout(() => ran++, i % 17));
            break;
          case 3: {
            let beats = 0;
            const interval: any = loop.setInterval(
              () => {
                ran++;
                if (++beats === 3) loop.clearInterval(interval);
              },
              1 + (i % 5),
            );
            handles.push(interval);
            break;
          }
          case 4:
            handles.push(loop.setImmediate(() => ran++));
            break;
          case 5:
            loop.submit(() => ran++);
            break;
          case 6:
            loop.queueMicrotask(() => ran++);
            break;
          default: {
            // scheduled, then cancelled before it fires (half of them from a callback)
            const victim = loop.setTimeout(() => {
              throw new Error("a cancelled timer fired");
            }, 3);
            if (i % 16 === 7) loop.clearTimeout(victim);
            else loop.setTimeout(() => loop.clearTimeout(victim), 1);
            if (profile === "node" && i % 32 === 15) (victim as Timeout).unref();
          }
        }
      }
      if (profile === "node") {
        // Timeout objects: take some numeric ids (knownTimersById) before they fire
        for (let i = 0; i < handles.length; i += 50) Number(handles[i]);
      }
      loop.runAll();
      totals.cycles += PER_ROUND;
      const now = expectBaseline(loop, first);
      first ??= now;
    }
    expect(errors).toEqual([]);
    const expectedRan = ROUNDS * (PER_ROUND / 8) * (3 + 3 + 1 + 1 + 1);
    expect(ran).toBe(expectedRan);
  }, 600_000);

  test(`${profile === "html" ? "1e6" : "2e5"} settled promise chains leave no queued jobs and no growth; only race losers stay registered`, async () => {
    const ROUNDS = profile === "html" ? 100 : 20;
    const PER_ROUND = 10_000; // html: 1e6 chains (the node profile differs only in rejection reporting)
    const { loop, errors } = collectingLoop({
      profile,
      unhandledRejections: profile === "node" ? "throw" : "html",
    });
    const P = loop.Promise;
    let settled = 0;
    let first: Snapshot | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER_ROUND; i++) {
        const { promise, resolve, reject } = P.withResolvers<number>();
        let chain: Promise<unknown>;
        switch (i % 5) {
          case 0:
            chain = promise.then((v) => v + 1).then((v) => v * 2);
            break;
          case 1:
            chain = promise
              .then(() => {
                throw new Error("handled below");
              })
              .catch(() => 0);
            break;
          case 2:
            chain = P.all([promise, P.resolve(i), i]).then(() => 1);
            break;
          case 3:
            chain = promise.finally(() => undefined).then(() => P.resolve(2));
            break;
          default:
            chain = P.race([promise, new P<number>(() => {})]).then(
              () => 3,
              () => 4,
            );
        }
        chain.then(() => settled++);
        // settle from a task, a timer or directly, half resolved and half rejected-and-caught
        const settle = () =>
          i % 5 === 4 && i % 2 === 0 ? reject(new Error("caught")) : resolve(i);
        if (i % 3 === 0) loop.submit(settle);
        else if (i % 3 === 1) loop.setTimeout(settle, i % 4);
        else settle();
      }
      loop.runAll();
      totals.chains += PER_ROUND;
      const now = expectBaseline(loop, first);
      first ??= now;
    }
    expect(settled).toBe(ROUNDS * PER_ROUND);
    expect(errors).toEqual([]);
    // The only promises left waiting are the race losers (`new P(() => {})`, one per five
    // chains): race() attached a reaction to each, so the registry holds them until shutdown
    // (see the open bug below: unlike native promises they can never be collected).
    const report = await loop.shutdown();
    expect(report).toEqual({
      cancelledTimers: 0,
      ranTasks: 0,
      rejectedPromises: (ROUNDS * PER_ROUND) / 5,
    });
  }, 600_000);

  test("ids keep increasing and are never reused across 1e5 cycles; a timer table that grew is reused, not regrown", () => {
    const { loop } = collectingLoop({ profile });
    let last = 0;
    const seen = new Set<number>();
    let capacityAfterPeak = 0;
    for (let round = 0; round < 100; round++) {
      const batch: unknown[] = [];
      const size = round === 0 ? 5000 : 1000; // a peak first, then a smaller steady load
      for (let i = 0; i < size; i++) batch.push(loop.setTimeout(() => {}, i % 3));
      for (const handle of batch) {
        const id = Number(handle);
        expect(id).toBeGreaterThan(0);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        if (id > last) last = id;
      }
      loop.runAll();
      if (round === 0) capacityAfterPeak = loop.coreStat(Stat.handles_capacity);
      else expect(loop.coreStat(Stat.handles_capacity)).toBe(capacityAfterPeak);
      expect(loop.coreStat(Stat.handles_live)).toBe(0);
    }
    expect(seen.size).toBe(5000 + 99 * 1000);
  }, 600_000);
});

/** The engine's gc(), exposed at run time (vitest does not pass --expose-gc). */
async function collectGarbage(): Promise<void> {
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

describe("abandoned promises", () => {
  test("control: an abandoned pending native promise with a reaction is garbage-collected", async () => {
    let ref: WeakRef<object>;
    (() => {
      const p = new Promise(() => {});
      void p.then(() => {});
      ref = new WeakRef(p);
    })();
    await collectGarbage();
    expect(ref!.deref()).toBeUndefined();
  });

  test("an abandoned pending loop promise with a reaction is garbage-collected (the shutdown registry holds it weakly)", async () => {
    // promise.ts links every pending promise that has a reaction into a strong intrusive list
    // (for terminatePending at shutdown). A promise nobody can settle any more — a race loser,
    // an abandoned `new loop.Promise(() => {}).then(...)` — stays reachable until shutdown: an
    // unbounded leak in a long-running loop. Suggested fix: hold the registry weakly (WeakRef
    // entries + FinalizationRegistry), or register only promises whose resolving functions are
    // still reachable.
    const { loop } = collectingLoop();
    let ref: WeakRef<object>;
    (() => {
      const p = new loop.Promise(() => {});
      void p.then(() => {});
      ref = new WeakRef(p);
    })();
    loop.runUntilIdle();
    await collectGarbage();
    expect(ref!.deref()).toBeUndefined();
  });

  test("same on a real clock, with no driving call: the registry's nursery is emptied by the checkpoint it queues", async () => {
    const { loop } = collectingLoop({ clock: "real" });
    let ref: WeakRef<object>;
    (() => {
      const p = new loop.Promise(() => {});
      void p.then(() => {});
      ref = new WeakRef(p);
    })();
    await collectGarbage();
    expect(ref!.deref()).toBeUndefined();
    loop.close();
  });
});
