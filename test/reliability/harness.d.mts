/**
 * The model-based property test of the whole loop: the operation records and their
 * fast-check arbitraries, one interpreter that turns records into calls, and two
 * backends for it: the reference model (model.mjs) and a real zigloop loop on the
 * manual clock. Both produce a trace; `checkRun` runs both and throws on the first
 * difference. Plain JavaScript with JSDoc types (harness.d.mts is generated from them, see
 * tsconfig.json here) so that the vitest suite and `scripts/soak.mjs` share it.
 *
 * Operation records (JSON, shrinkable by fast-check):
 *   scheduling (top level or inside callbacks; `body` is what the callback does):
 *     {t:"timeout",delay,body} {t:"interval",delay,stopAfter,body} {t:"chain",delay,depth,body}
 *     {t:"immediate",body} {t:"task",body} {t:"micro",body}
 *     {t:"clear",via,target}   via: clearTimeout|clearInterval|clearImmediate|close|dispose
 *                              target: {k:"own",pick}|{k:"num",pick}|{k:"self"}|{k:"bogus",v}|{k:"foreign",which}
 *     {t:"pnew",handled,body} {t:"psettle",pick,reject,adopt} {t:"pthen",pick,body}
 *     {t:"ref",pick,ref} {t:"refresh",pick}   (node profile; no-ops in html)
 *     {t:"shutdown"}
 *   only inside callbacks: {t:"throw"} {t:"reenter",call} {t:"verify"}
 *   only at top level: {t:"advance",ms,limit} {t:"runUntilIdle",limit} {t:"next"} {t:"runAll",limit}
 *     {t:"runToLast"} {t:"run"} (run() only in runs built for it, see actionArb)
 *
 * @module
 */
import fc from "fast-check";
/**
 * An action a callback (or the top level) performs; `depth` bounds how deep bodies nest.
 * `forRun`: for runs that call `run()` at top level, which only ends when no ref'd work is
 * left: every interval stops itself after 1-4 beats, and callbacks do not shut down (a
 * shutdown racing run() interleaves two drivers over host macrotasks), nor refresh timers
 * (a callback that refreshes its own timer would run forever; top-level refresh is kept).
 * @param {number} depth
 * @param {boolean} [forRun]
 * @returns {fc.Arbitrary<any>}
 */
export declare function actionArb(depth: number, forRun?: boolean): fc.Arbitrary<any>;
/** A top-level operation of the runs without `run()`. */
export declare const topOpArb: fc.Arbitrary<any>;
/**
 * Runs: the start time, capacity.timers (small, so CapacityError happens, or the default),
 * metrics on or off (they change nothing observable on the manual clock) and the operations.
 * @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} [options]
 */
export declare function runArbOf(options?: {
  maxOps?: number;
  size?: "small" | "medium" | "large";
}): fc.Arbitrary<{
  startTime: 0 | 1000.75;
  timersCap: number | undefined;
  metrics: boolean;
  ops: any[];
}>;
/** The runs `npm test` checks. */
export declare const runArb: fc.Arbitrary<{
  startTime: 0 | 1000.75;
  timersCap: number | undefined;
  metrics: boolean;
  ops: any[];
}>;
/** Counts every action in a run, nested bodies included. */
export declare function countActions(/** @type {any[]} */ ops: any[]): number;
export type Run = {
  startTime: number;
  timersCap?: number;
  metrics?: boolean;
  ops: any[];
};
export type IHandle = {
  label: number;
  kind: "timeout" | "interval" | "immediate";
  body: any[];
  stopAfter: number;
  beats: number;
  chain: null | {
    k: number;
    depth: number;
    delay: any;
  };
  ref: any;
};
export type RealApi = {
  createLoop: (options: any) => any;
  foreign?: {
    timeout: any;
    immediate: any;
  };
};
/**
 * Runs `ops` on the model. @param {"html"|"node"} profile @param {Run} run
 */
export declare function traceModel(profile: "html" | "node", run: Run): Promise<string[]>;
/**
 * Runs `ops` on a fresh zigloop loop (manual clock). @param {RealApi} api @param {"html"|"node"} profile
 * @param {Run} run
 */
export declare function traceReal(
  api: RealApi,
  profile: "html" | "node",
  run: Run,
): Promise<string[]>;
/** The first index where two traces differ, or -1. */
export declare function firstDifference(
  /** @type {string[]} */ a: string[],
  /** @type {string[]} */ b: string[],
): number;
/** A side-by-side excerpt of two traces around their first difference. */
export declare function describeDifference(
  /** @type {string[]} */ expected: string[],
  /** @type {string[]} */ actual: string[],
): string;
/**
 * Runs both and throws (with a readable excerpt) when the traces differ.
 * @param {RealApi} api @param {"html"|"node"} profile @param {Run} run
 */
export declare function checkRun(api: RealApi, profile: "html" | "node", run: Run): Promise<number>;
