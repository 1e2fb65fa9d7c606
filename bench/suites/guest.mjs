// Suite "guest" (issue 17): what realm confinement costs. A guest in a vm context calls
// functions made in its own realm (src-ts/loop/guest.ts), which call the loop through one
// host function and answer through a guest-realm box; an in-process caller calls the
// loop's methods directly. Same loop, same workload, side by side in one process.
// What each benchmark measures and why: docs/BENCHMARKS.md.

import vm from "node:vm";
import { compareThroughput, roundRatios, speedNote, speedRow } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { createLoop } from "../lib/loop.mjs";

export const name = "guest";
export const title = "Guests in a vm context against in-process calls (the cost of confinement)";
export const issue = 17;

const PAIR_DELAY_MS = 1000;
const BURST = 1000;

/** A loop installed into a fresh vm context, as `zigloop run` does, and guest-side workloads. */
async function guestLoop(profile) {
  const loop = await createLoop({ profile });
  const context = vm.createContext({}, { microtaskMode: "afterEvaluate" });
  loop.installGlobals(context);
  const guest = vm.runInContext(
    `({
      pairs(ops) {
        const fn = () => {};
        for (let i = 0; i < ops; i++) clearTimeout(setTimeout(fn, ${PAIR_DELAY_MS}));
      },
      microtasks(ops, done) {
        let ran = 0;
        const job = () => { if (++ran === ops) done(); };
        for (let i = 0; i < ops; i++) queueMicrotask(job);
      },
    })`,
    context,
  );
  return { loop, guest };
}

/** Child: setTimeout + clearTimeout pairs, guest against in-process, one profile. */
export async function comparePairs({ reps, minCpuMs, profile }, ctx) {
  const { loop, guest } = await guestLoop(profile);
  const fn = () => {};
  const result = await compareThroughput(ctx, {
    label: `setTimeout + clearTimeout (${profile})`,
    subjects: [
      { name: "guest (vm context)", run: (ops) => guest.pairs(ops) },
      {
        name: "in-process",
        run(ops) {
          for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(fn, PAIR_DELAY_MS));
        },
      },
    ],
    opsPerCall: 8192,
    reps,
    minCpuMs,
  });
  if (loop.pending.timers !== 0) throw new Error(`pairs left ${loop.pending.timers} timers`);
  loop.close();
  return { subjects: result.subjects, ratios: roundRatios(result, 2) };
}

/**
 * Child: queueMicrotask bursts run by a loop turn: the guest's queue on its realm's job
 * queue (drained at the checkpoint), the in-process one on the loop's ring.
 */
export async function compareMicrotasks({ reps, minCpuMs }, ctx) {
  const { loop, guest } = await guestLoop("html");
  let ran = 0;
  const job = () => ran++;
  const burst = (queue) => () =>
    new Promise((resolve) => {
      loop.submit(() => queue(resolve));
    });
  const result = await compareThroughput(ctx, {
    label: `queueMicrotask, bursts of ${BURST}`,
    subjects: [
      { name: "guest (vm context)", run: burst((done) => guest.microtasks(BURST, done)) },
      {
        name: "in-process",
        run: burst((done) => {
          for (let i = 0; i < BURST; i++) loop.queueMicrotask(job);
          loop.queueMicrotask(done);
        }),
      },
    ],
    opsPerCall: BURST,
    reps,
    minCpuMs,
    unit: "ns/job",
  });
  if (ran % BURST !== 0) throw new Error(`in-process microtasks ran: ${ran}`);
  loop.close();
  return { subjects: result.subjects, ratios: roundRatios(result, 2) };
}

export async function run(ctx) {
  const reps = ctx.quick ? 2 : 7;
  const minCpuMs = ctx.quick ? 60 : 200;
  const rows = [];
  const notes = [];
  for (const profile of ["html", "node"]) {
    const result = await runIsolated(ctx, import.meta.url, "comparePairs", {
      reps,
      minCpuMs,
      profile,
    });
    rows.push(
      speedRow(
        `setTimeout + clearTimeout pair (${profile}): a guest against the in-process API`,
        result,
        1,
        { ratioLabel: "faster" },
      ),
    );
    notes.push(speedNote(`pairs, ${profile} profile, guest and in-process`, result));
  }
  const micro = await runIsolated(ctx, import.meta.url, "compareMicrotasks", { reps, minCpuMs });
  rows.push(
    speedRow(
      `queueMicrotask enqueue + run, bursts of ${BURST}: a guest against the in-process API`,
      micro,
      1,
      { unit: "ns/job", ratioLabel: "faster" },
    ),
  );
  notes.push(
    speedNote(`queueMicrotask bursts of ${BURST}, guest and in-process`, micro, "M jobs/s"),
  );
  return { rows, notes };
}
