// Suite "testing" (issue 14): zigloop/testing against @sinonjs/fake-timers, the same
// fake-timers API on both sides, side by side in one process per comparison:
// install + uninstall on globalThis, 1e5 timers through runAll, tickAsync over an async
// job queue, and Date.now() under fake time. Every workload's result is checked to be
// the same on both before anything is timed.
// What each benchmark measures and why: docs/BENCHMARKS.md.

import FakeTimers from "@sinonjs/fake-timers";
import { compareWorkloads, formatCount, speedNote, speedRow } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
// The same job queue as the async_drive suite's.
import { JOBS, jobQueue, SLEEP_MS, WORKERS } from "./async_drive.mjs";

export const name = "testing";
export const title = "zigloop/testing against @sinonjs/fake-timers (the same API on both)";
export const issue = 14;

const testingUrl = new URL("../../dist/testing/node.js", import.meta.url);

/** Both sides' module: zigloop/testing (built) and fake-timers. */
async function sides() {
  const zig = await import(testingUrl.href);
  return [
    { name: "zigloop/testing", ft: zig },
    { name: "@sinonjs/fake-timers", ft: FakeTimers },
  ];
}

function compare(ctx, label, subjects, opsPerCall, { reps, minCpuMs }, unit) {
  return compareWorkloads(ctx, { label, subjects, opsPerCall, reps, minCpuMs, unit });
}

/** Child: install() then uninstall() on globalThis, every fakeable global. */
export async function compareInstall(options, ctx) {
  const subjects = (await sides()).map(({ name, ft }) => ({
    name,
    run: () => ft.install({ now: 1000 }).uninstall(),
  }));
  return compare(ctx, "install + uninstall", subjects, 1, options, "ns/op");
}

const TIMERS = 100_000;

/** Child: 1e5 timeouts at 1..1000 ms, then runAll. */
export async function compareRunAll(options, ctx) {
  let fired = 0;
  const callback = () => {
    fired++;
  };
  const subjects = (await sides()).map(({ name, ft }) => ({
    name,
    run: () => {
      const clock = ft.createClock(0, 1_000_000);
      for (let i = 0; i < TIMERS; i++) clock.setTimeout(callback, 1 + (i % 1000));
      clock.runAll();
      return clock;
    },
  }));
  for (const s of subjects) {
    fired = 0;
    const clock = s.run();
    if (fired !== TIMERS || clock.now !== 1000)
      throw new Error(`runAll on ${s.name}: ${fired} fired, ends at ${clock.now}`);
  }
  ctx.progress(
    `runAll cross-check: ${formatCount(TIMERS)} timers fired on both, both end at 1000 ms`,
  );
  return compare(
    ctx,
    `${formatCount(TIMERS)} timers: runAll`,
    subjects,
    TIMERS,
    options,
    "ns/timer",
  );
}

/** Child: an async job queue (10 workers x 20 sleeps, 3 awaits each), tickAsync to its end. */
export async function compareTickAsync(options, ctx) {
  const subjects = (await sides()).map(({ name, ft }) => ({
    name,
    run: async () => {
      const clock = ft.createClock(0, 100_000);
      const queue = jobQueue(
        (fn, ms) => clock.setTimeout(fn, ms),
        () => clock.now,
      );
      await clock.tickAsync(SLEEP_MS * JOBS);
      await queue.all;
      return { done: queue.result().done, now: clock.now };
    },
  }));
  for (const s of subjects) {
    const r = await s.run();
    if (r.done !== WORKERS * JOBS || r.now !== SLEEP_MS * JOBS)
      throw new Error(`tickAsync on ${s.name}: ${JSON.stringify(r)}`);
  }
  ctx.progress(`tickAsync cross-check: ${WORKERS * JOBS} jobs done on both`);
  return compare(
    ctx,
    `async job queue (${WORKERS} workers x ${JOBS} sleeps): tickAsync`,
    subjects,
    WORKERS * JOBS,
    options,
    "ns/callback",
  );
}

const CALLS = 100_000;

/** Child: Date.now() under fake time (the clock's Date, which install puts on globalThis). */
export async function compareDateNow(options, ctx) {
  let sink = 0;
  const subjects = (await sides()).map(({ name, ft }) => {
    const clock = ft.createClock(1_700_000_000_000);
    clock.tick(1234);
    if (clock.Date.now() !== 1_700_000_001_234) throw new Error(`Date.now on ${name}`);
    const FakeDate = clock.Date;
    return {
      name,
      run: () => {
        for (let i = 0; i < CALLS; i++) sink += FakeDate.now();
      },
    };
  });
  const result = await compare(ctx, "Date.now()", subjects, CALLS, options, "ns/call");
  if (sink === 0) throw new Error("unreachable");
  return result;
}

export async function run(ctx) {
  const options = { reps: ctx.quick ? 2 : 7, minCpuMs: ctx.quick ? 100 : 400 };
  const rows = [];
  const notes = [];
  const benches = [
    ["compareInstall", "install() + uninstall() on globalThis", "ns/op", "install"],
    ["compareRunAll", `${formatCount(TIMERS)} timers: runAll`, "ns/timer", "runAll"],
    [
      "compareTickAsync",
      `async job queue (${WORKERS} workers x ${JOBS} sleeps, 3 awaits each): tickAsync`,
      "ns/callback",
      "tickAsync",
    ],
    ["compareDateNow", "Date.now() under fake time", "ns/call", "Date.now"],
  ];
  for (const [exportName, benchmark, unit, short] of benches) {
    const result = await runIsolated(ctx, import.meta.url, exportName, options);
    rows.push(
      speedRow(benchmark, result, 1, {
        unit,
        goal: "faster than fake-timers",
        met: result.ratios[1].median > 1,
        goalRatio: 1,
      }),
    );
    notes.push(speedNote(short, result, "k ops/s").replace(/(\d[\d.]*) k ops/g, "$1 k ops"));
  }
  return { rows, notes };
}
