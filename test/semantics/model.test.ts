/**
 * Model-based property test: random timeouts, intervals, clears (from outside and
 * from callbacks) and clock advances, on a manual-clock loop and on a trivially correct
 * reference model; both must fire the same timers at the same times in the same order.
 *
 * The rules the model encodes: a timer fires at now + delay (node: delays below 1 are 1);
 * due timers run in (deadline, start sequence) order; an interval's next beat is due one
 * period after the beat was due, with a new start sequence taken when it fires; a
 * cleared timer never fires, even when it was already due in the same turn. Periods are
 * >= 4 ms and timers are created outside callbacks, so the html nesting clamp never
 * applies. (conventions.md: "model-based property tests (fast-check) for the loop as a
 * whole against a small reference model"; the heap's middle removal is what clears hit.)
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { propertySeed } from "../property_seed.ts";
import { makeLoop, type Profile, profiles } from "./_helpers.ts";

/** ZIGLOOP_SEED, or a new seed per run (test/property_seed.ts). */
const SEED = propertySeed(import.meta.url);

type Op =
  | { kind: "timeout"; delay: number }
  | { kind: "interval"; period: number }
  | { kind: "clear"; pick: number }
  | { kind: "victim"; pick: number; victim: number }
  | { kind: "advance"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("timeout" as const),
      delay: fc.integer({ min: 0, max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("interval" as const),
      period: fc.integer({ min: 4, max: 15 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("clear" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("victim" as const),
      pick: fc.nat(),
      victim: fc.nat(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 40 }),
    }),
  },
);

interface ModelTimer {
  deadline: number;
  seq: number;
  period: number | null;
  live: boolean;
  victim: number | null;
}

/** The reference: a list scanned for the minimum; no heap, no batches. */
function runModel(profile: Profile, ops: Op[]): string[] {
  const log: string[] = [];
  const timers: ModelTimer[] = [];
  let now = 0;
  let seq = 0;
  const live = (): number[] => timers.flatMap((t, i) => (t.live ? [i] : []));
  const fireUntil = (target: number): void => {
    for (;;) {
      let next = Infinity;
      for (const t of timers) if (t.live && t.deadline < next) next = t.deadline;
      if (next > target) break;
      now = next;
      // One turn: the timers due now that existed when it began, in (deadline, seq) order.
      const due = timers
        .map((t, i) => ({ t, i }))
        .filter(({ t }) => t.live && t.deadline <= now)
        .sort((a, b) => a.t.deadline - b.t.deadline || a.t.seq - b.t.seq);
      for (const { t, i } of due) {
        if (!t.live) continue; // cleared by an earlier callback of this turn
        log.push(`${i}@${now}`);
        if (t.period !== null) {
          t.deadline += t.period;
          t.seq = seq++;
        } else {
          t.live = false;
        }
        if (t.victim !== null) timers[t.victim]!.live = false;
      }
    }
    now = target;
  };
  for (const op of ops) {
    switch (op.kind) {
      case "timeout": {
        const delay = profile === "node" ? Math.max(op.delay, 1) : op.delay;
        timers.push({ deadline: now + delay, seq: seq++, period: null, live: true, victim: null });
        break;
      }
      case "interval":
        timers.push({
          deadline: now + op.period,
          seq: seq++,
          period: op.period,
          live: true,
          victim: null,
        });
        break;
      case "clear": {
        const ids = live();
        if (ids.length > 0) timers[ids[op.pick % ids.length]!]!.live = false;
        break;
      }
      case "victim":
        if (timers.length > 0) timers[op.pick % timers.length]!.victim = op.victim % timers.length;
        break;
      case "advance":
        fireUntil(now + op.ms);
        break;
    }
  }
  fireUntil(now + 100);
  return log;
}

async function runLoop(profile: Profile, ops: Op[]): Promise<string[]> {
  const { loop, errors } = await makeLoop({ profile });
  const log: string[] = [];
  const handles: unknown[] = [];
  const victims: Array<number | null> = [];
  const liveModel: boolean[] = []; // which handles the test still considers live (for "clear" picks)
  const make = (index: number, repeating: boolean) => () => {
    log.push(`${index}@${loop.now()}`);
    if (!repeating) liveModel[index] = false;
    const victim = victims[index];
    if (victim !== null && victim !== undefined) {
      loop.clearTimeout(handles[victim]);
      liveModel[victim] = false;
    }
  };
  for (const op of ops) {
    switch (op.kind) {
      case "timeout": {
        const index = handles.length;
        victims.push(null);
        liveModel.push(true);
        handles.push(loop.setTimeout(make(index, false), op.delay));
        break;
      }
      case "interval": {
        const index = handles.length;
        victims.push(null);
        liveModel.push(true);
        handles.push(loop.setInterval(make(index, true), op.period));
        break;
      }
      case "clear": {
        const ids = liveModel.flatMap((l, i) => (l ? [i] : []));
        if (ids.length > 0) {
          const index = ids[op.pick % ids.length]!;
          loop.clearTimeout(handles[index]);
          liveModel[index] = false;
        }
        break;
      }
      case "victim":
        if (handles.length > 0) victims[op.pick % handles.length] = op.victim % handles.length;
        break;
      case "advance":
        loop.advance(op.ms);
        break;
    }
  }
  loop.advance(100);
  expect(errors).toEqual([]);
  return log;
}

describe.each(profiles)("%s profile: loop vs reference model", (profile) => {
  test("random timeouts, intervals, clears and advances fire exactly like the model", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 120, size: "max" }),
        async (ops) => {
          expect(await runLoop(profile, ops)).toEqual(runModel(profile, ops));
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe.each(profiles)("%s profile: clearing from the middle of the timer heap", (profile) => {
  // conventions.md: "removing from the middle of a heap must sift up *or* down; an older
  // std version got this wrong. That is exactly timer cancellation." Every shape of a
  // small heap: n timers with scrambled deadlines, clear each one in turn, and the rest
  // must still fire in (deadline, creation) order.
  test("after clearing any one of n timers (n <= 40, scrambled deadlines) the rest fire in deadline order", async () => {
    const { loop, errors } = await makeLoop({ profile });
    for (let n = 1; n <= 40; n++) {
      for (let cleared = 0; cleared < n; cleared++) {
        const delays = Array.from({ length: n }, (_, i) => 1 + ((i * 37 + n * 11) % (3 * n + 7)));
        const fired: number[] = [];
        const handles = delays.map((delay, i) => loop.setTimeout(() => fired.push(i), delay));
        loop.clearTimeout(handles[cleared]);
        loop.advance(4 * n + 10);
        const expected = delays
          .map((delay, i) => ({ delay, i }))
          .filter(({ i }) => i !== cleared)
          .sort((a, b) => a.delay - b.delay || a.i - b.i)
          .map(({ i }) => i);
        expect(fired, `n=${n} cleared=${cleared}`).toEqual(expected);
      }
    }
    expect(errors).toEqual([]);
  });

  test("after clearing several timers the rest fire in deadline order", async () => {
    const { loop, errors } = await makeLoop({ profile });
    for (let n = 4; n <= 60; n += 7) {
      const delays = Array.from({ length: n }, (_, i) => 1 + ((i * 53 + n) % (2 * n + 3)));
      const fired: number[] = [];
      const handles = delays.map((delay, i) => loop.setTimeout(() => fired.push(i), delay));
      const clearedSet = new Set<number>();
      for (let k = 1; k < n; k += 3) {
        loop.clearTimeout(handles[k]);
        clearedSet.add(k);
      }
      const expected = delays
        .map((delay, i) => ({ delay, i }))
        .filter(({ i }) => !clearedSet.has(i))
        .sort((a, b) => a.delay - b.delay || a.i - b.i)
        .map(({ i }) => i);
      loop.advance(3 * n + 10);
      expect(fired, `n=${n}`).toEqual(expected);
    }
    expect(errors).toEqual([]);
  });
});

// ---- nothing accepted is lost: random work scheduled from callbacks -----------------------------

type Action =
  | { kind: "timeout"; delay: number }
  | { kind: "interval"; period: number }
  | { kind: "immediate" }
  | { kind: "task" }
  | { kind: "microtask" }
  | { kind: "clear"; pick: number }
  | { kind: "refresh"; pick: number }
  | { kind: "advance"; ms: number }
  | { kind: "burst"; timers: boolean; size: number };

/** A burst queues many tasks (or creates many timers) at once: the core's memory grows mid-batch. */

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("timeout" as const),
      delay: fc.integer({ min: 0, max: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("interval" as const),
      period: fc.integer({ min: 1, max: 10 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("immediate" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("task" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("microtask" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("clear" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refresh" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 0, max: 15 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("burst" as const),
      timers: fc.boolean(),
      size: fc.integer({ min: 1000, max: 30_000 }),
    }),
  },
);

interface Tracked {
  kind: "timeout" | "interval" | "immediate" | "task" | "microtask" | "burst";
  handle: unknown;
  runs: number;
  cleared: boolean;
  refreshed: number;
}

describe.each(profiles)("%s profile: nothing accepted is lost (semantics.md)", (profile) => {
  test("every timeout, immediate, task and microtask scheduled (from outside or from callbacks) runs exactly once unless cleared first", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(actionArb, { minLength: 1, maxLength: 150, size: "max" }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 50 }),
        async (actions, fanout) => {
          const { loop, errors } = await makeLoop({ profile });
          const tracked: Tracked[] = [];
          let cursor = 0;
          let fan = 0;
          const perform = (action: Action, fromCallback: boolean): void => {
            switch (action.kind) {
              case "timeout":
              case "interval": {
                const entry: Tracked = {
                  kind: action.kind,
                  handle: undefined,
                  runs: 0,
                  cleared: false,
                  refreshed: 0,
                };
                const callback = (): void => {
                  entry.runs++;
                  work();
                };
                entry.handle =
                  action.kind === "timeout"
                    ? loop.setTimeout(callback, action.delay)
                    : loop.setInterval(callback, action.period);
                tracked.push(entry);
                break;
              }
              case "immediate": {
                const entry: Tracked = {
                  kind: "immediate",
                  handle: undefined,
                  runs: 0,
                  cleared: false,
                  refreshed: 0,
                };
                entry.handle = loop.setImmediate(() => {
                  entry.runs++;
                  work();
                });
                tracked.push(entry);
                break;
              }
              case "task":
              case "microtask": {
                const entry: Tracked = {
                  kind: action.kind,
                  handle: undefined,
                  runs: 0,
                  cleared: false,
                  refreshed: 0,
                };
                const callback = (): void => {
                  entry.runs++;
                  work();
                };
                if (action.kind === "task") loop.submit(callback);
                else loop.queueMicrotask(callback);
                tracked.push(entry);
                break;
              }
              case "clear": {
                const clearable = tracked.filter(
                  (t) => t.kind === "timeout" || t.kind === "interval" || t.kind === "immediate",
                );
                if (clearable.length === 0) break;
                const target = clearable[action.pick % clearable.length]!;
                if (target.kind === "immediate") loop.clearImmediate(target.handle);
                else loop.clearTimeout(target.handle);
                if (target.kind === "interval" || target.runs === 0 || target.refreshed > 0)
                  target.cleared = true;
                break;
              }
              case "refresh": {
                if (profile !== "node") break;
                const refreshable = tracked.filter((t) => t.kind === "timeout" && !t.cleared);
                if (refreshable.length === 0) break;
                const target = refreshable[action.pick % refreshable.length]!;
                (target.handle as { refresh(): void }).refresh();
                target.refreshed++;
                break;
              }
              case "advance":
                if (!fromCallback) loop.advance(action.ms);
                break;
              case "burst": {
                const entry: Tracked = {
                  kind: "burst",
                  handle: action.size,
                  runs: 0,
                  cleared: false,
                  refreshed: 0,
                };
                const count = (): void => void entry.runs++;
                for (let i = 0; i < action.size; i++) {
                  if (action.timers) loop.setTimeout(count, 1 + (i % 7));
                  else loop.submit(count);
                }
                tracked.push(entry);
                break;
              }
            }
          };
          // A callback performs the next 0-3 actions of the list (advance is skipped inside callbacks).
          const work = (): void => {
            const n = fanout[fan++ % fanout.length]!;
            for (let i = 0; i < n && cursor < actions.length; i++)
              perform(actions[cursor++]!, true);
          };
          while (cursor < actions.length) perform(actions[cursor++]!, false);
          expect(loop.verifyCore()).toBe(0);
          for (const t of tracked) if (t.kind === "interval") loop.clearInterval(t.handle);
          loop.runAll({ limit: 100_000 });
          for (const t of tracked) if (t.kind === "interval") loop.clearInterval(t.handle); // intervals created late
          loop.runAll({ limit: 100_000 });
          expect(loop.verifyCore()).toBe(0);
          expect(errors).toEqual([]);
          expect(loop.pending).toEqual({
            timers: 0,
            immediates: 0,
            tasks: 0,
            microtasks: 0,
            refs: 0,
          });
          for (const [index, t] of tracked.entries()) {
            const where = `#${index} ${t.kind} runs=${t.runs} cleared=${t.cleared} refreshed=${t.refreshed}`;
            if (t.kind === "burst") expect(t.runs, where).toBe(t.handle);
            else if (t.kind === "task" || t.kind === "microtask") expect(t.runs, where).toBe(1);
            else if (t.kind === "immediate") expect(t.runs, where).toBe(t.cleared ? 0 : 1);
            else if (t.kind === "timeout" && t.refreshed === 0)
              expect(t.runs, where).toBe(t.cleared ? 0 : 1);
            else if (t.kind === "timeout")
              expect(t.runs, where).toBeLessThanOrEqual(1 + t.refreshed);
          }
        },
      ),
      { numRuns: 60, seed: SEED + 1 },
    );
  });
});
