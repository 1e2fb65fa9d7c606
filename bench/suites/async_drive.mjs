// Suite "async_drive" (issue 11): driving virtual time under async/await code, against
// @sinonjs/fake-timers' async API, side by side in one process.
//
// Both sides give the host a macrotask after every timer callback (fake-timers: its
// original setImmediate; zigloop: the host's setImmediate after each callback's
// checkpoint) so that native `await` continuations run before time moves on. The rows are
// the cost of that per timer callback, on the same workload, with the same results
// checked before anything is timed.
// What each benchmark measures and why: docs/BENCHMARKS.md.

import FakeTimers from "@sinonjs/fake-timers";
import { compareWorkloads, formatCount, speedNote, speedRow } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { createLoop } from "../lib/loop.mjs";

export const name = "async_drive";
export const title =
  "Async driving of virtual time (advanceAsync, runAllAsync) against fake-timers";
export const issue = 11;

export const WORKERS = 10;
export const JOBS = 20;
export const SLEEP_MS = 250;

/**
 * An async job queue: `WORKERS` workers each run `JOBS` jobs; a job sleeps on a timer
 * wrapped in a native promise, then awaits twice more. Returns a promise for the log
 * length and the number of timer callbacks it will take.
 */
export function jobQueue(setTimeout, now) {
  let done = 0;
  let lastEnd = 0;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const worker = async () => {
    for (let j = 0; j < JOBS; j++) {
      await sleep(SLEEP_MS);
      await null;
      await Promise.resolve();
      done++;
      lastEnd = now();
    }
  };
  const all = Promise.all(Array.from({ length: WORKERS }, worker));
  return { all, result: () => ({ done, lastEnd }) };
}

/** Both subjects side by side, in ns per timer callback. */
function perCallback(ctx, label, subjects, opsPerCall, { reps, minCpuMs }) {
  return compareWorkloads(ctx, {
    label,
    subjects,
    opsPerCall,
    reps,
    minCpuMs,
    unit: "ns/callback",
  });
}

const TOTAL_MS = SLEEP_MS * JOBS;
const CALLBACKS = WORKERS * JOBS;

/** Child: the job queue to its end, advanceAsync against tickAsync. */
export async function compareJobQueue({ reps, minCpuMs }, ctx) {
  const loop = await createLoop({ clock: "manual" });
  const zigloop = async () => {
    const q = jobQueue(
      (fn, ms) => loop.setTimeout(fn, ms),
      () => loop.now(),
    );
    await loop.advanceAsync(TOTAL_MS);
    await q.all;
    return q.result();
  };
  const fake = async () => {
    const clock = FakeTimers.createClock(0, 100_000);
    const q = jobQueue(
      (fn, ms) => clock.setTimeout(fn, ms),
      () => clock.now,
    );
    await clock.tickAsync(TOTAL_MS);
    await q.all;
    return q.result();
  };
  // The same timeline on both before anything is timed.
  const base = loop.now();
  const [a, b] = [await zigloop(), await fake()];
  if (
    a.done !== CALLBACKS ||
    b.done !== CALLBACKS ||
    a.lastEnd - base !== TOTAL_MS ||
    b.lastEnd !== TOTAL_MS
  ) {
    throw new Error(`job queue: zigloop ${JSON.stringify(a)}, fake-timers ${JSON.stringify(b)}`);
  }
  ctx.progress(
    `job queue cross-check: ${CALLBACKS} jobs, both end at ${TOTAL_MS} ms of virtual time`,
  );
  const result = await perCallback(
    ctx,
    `async job queue (${WORKERS} workers x ${JOBS} sleeps)`,
    [
      { name: "zigloop advanceAsync", run: zigloop },
      { name: "@sinonjs/fake-timers tickAsync", run: fake },
    ],
    CALLBACKS,
    { reps, minCpuMs },
  );
  loop.close();
  return result;
}

const TIMERS = 1_000;

/** Child: 1,000 timers with async callbacks (each awaits once), runAllAsync on both sides. */
export async function compareRunAll({ reps, minCpuMs }, ctx) {
  const loop = await createLoop({ clock: "manual" });
  let ran = 0;
  const cb = async () => {
    await null;
    ran++;
  };
  const zigloop = async () => {
    for (let i = 0; i < TIMERS; i++) loop.setTimeout(cb, i % 97);
    await loop.runAllAsync();
  };
  const fake = async () => {
    const clock = FakeTimers.createClock(0, 100_000);
    for (let i = 0; i < TIMERS; i++) clock.setTimeout(cb, i % 97);
    await clock.runAllAsync();
  };
  await zigloop();
  await fake();
  if (ran !== 2 * TIMERS)
    throw new Error(`runAllAsync: ${ran} callbacks finished, expected ${2 * TIMERS}`);
  const result = await perCallback(
    ctx,
    `${formatCount(TIMERS)} timers with async callbacks: runAllAsync`,
    [
      { name: "zigloop runAllAsync", run: zigloop },
      { name: "@sinonjs/fake-timers runAllAsync", run: fake },
    ],
    TIMERS,
    { reps, minCpuMs },
  );
  loop.close();
  return result;
}

/** Child: what the async form costs over the sync one, per callback (sync callbacks). */
export async function compareSyncAsync({ reps, minCpuMs }, ctx) {
  const loop = await createLoop({ clock: "manual" });
  const noop = () => {};
  const schedule = () => {
    for (let i = 0; i < TIMERS; i++) loop.setTimeout(noop, 1 + (i % 97));
  };
  const result = await perCallback(
    ctx,
    `${formatCount(TIMERS)} timers: runAllAsync against runAll`,
    [
      {
        name: "zigloop runAllAsync",
        run: async () => {
          schedule();
          await loop.runAllAsync();
        },
      },
      {
        name: "zigloop runAll (sync)",
        run: () => {
          schedule();
          loop.runAll();
        },
      },
    ],
    TIMERS,
    { reps, minCpuMs },
  );
  loop.close();
  return result;
}

export async function run(ctx) {
  const reps = ctx.quick ? 2 : 7;
  const minCpuMs = ctx.quick ? 100 : 400;
  const rows = [];
  const notes = [];
  const queue = await runIsolated(ctx, import.meta.url, "compareJobQueue", { reps, minCpuMs });
  rows.push(
    speedRow(
      `async job queue to its end (${WORKERS} workers x ${JOBS} sleeps, 3 awaits each): advanceAsync`,
      queue,
      1,
      {
        unit: "ns/callback",
        goal: "faster than fake-timers",
        met: queue.ratios[1].median > 1,
        goalRatio: 1,
      },
    ),
  );
  notes.push(speedNote("async job queue", queue, "k callbacks/s"));
  const all = await runIsolated(ctx, import.meta.url, "compareRunAll", { reps, minCpuMs });
  rows.push(
    speedRow(`${formatCount(TIMERS)} timers with async callbacks: runAllAsync`, all, 1, {
      unit: "ns/callback",
      goal: "faster than fake-timers",
      met: all.ratios[1].median > 1,
      goalRatio: 1,
    }),
  );
  const cost = await runIsolated(ctx, import.meta.url, "compareSyncAsync", { reps, minCpuMs });
  rows.push(
    speedRow(
      `cost of async driving per callback: runAllAsync against runAll (${formatCount(TIMERS)} timers)`,
      cost,
      1,
      {
        unit: "ns/callback",
        ratioLabel: "faster",
      },
    ),
  );
  notes.push(
    `async driving costs ${(cost.subjects[0].nsPerOp - cost.subjects[1].nsPerOp).toFixed(0)} ns per callback over the sync drive: one host macrotask (setImmediate) after each callback's checkpoint.`,
  );
  return { rows, notes };
}
