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
 *     {t:"rearm",via,count}    a 0 ms timeout that re-arms itself `count` times from a
 *                              microtask, task, loop promise or immediate (via)
 *     {t:"clear",via,target}   via: clearTimeout|clearInterval|clearImmediate|close|dispose
 *                              target: {k:"own",pick}|{k:"num",pick}|{k:"self"}|{k:"bogus",v}|{k:"foreign",which}
 *     {t:"pnew",handled,body} {t:"psettle",pick,reject,adopt,hv} {t:"pthen",pick,body}
 *                              hv: reject with a hostile value of that kind (model.mjs HOSTILE_KINDS)
 *     {t:"ref",pick,ref} {t:"refresh",pick}   (node profile; no-ops in html)
 *     {t:"metrics"} {t:"resetMetrics"}
 *     {t:"watch",types,failAt,onRemove,body}  an EventEmitter-like source; its on() throws for
 *                              the failAt-th listener (0: never); onRemove: removing a listener
 *                              calls back into the loop (submit)
 *     {t:"emit",pick,type} {t:"wclose",pick} {t:"wref",pick,ref}
 *     {t:"install",who,target,promise} {t:"uninstall",pick}   installGlobals of this loop
 *                              (who 0) or a helper loop (1, 2) onto one of two targets
 *     {t:"shutdown"} {t:"close"}
 *   only inside callbacks: {t:"throw",v} (v: a hostile kind, or null for a string) {t:"reenter",call} {t:"verify"}
 *   only at top level: {t:"advance",ms,limit} {t:"advanceEnd",d,limit} {t:"runUntilIdle",limit}
 *     {t:"next"} {t:"runAll",limit} {t:"runToLast",limit} {t:"run"} (run() only in runs built for it)
 *
 * A run also says how its hooks behave (model.mjs `Hooks`): onError records errors, or
 * records them and throws a hostile value, or is left to the default printer (whose
 * console.error calls the runner records); the unhandledrejection listener may throw.
 *
 * Invariants the traces check after every operation, besides every callback, error and
 * refused call: the pending counts, `state` (never "running" outside a callback), the
 * time and next deadline, `verifyCore() === 0`, the metrics counts and queue depths the
 * model derives (never negative, peaks never below current), `exitCode`, and the close
 * and shutdown reports (nothing accepted is lost without being counted). A drive that
 * does not end within its limit makes the run fail (RUNAWAY), not hang.
 *
 * @module
 */
import fc from "fast-check";
export type Family = {
  forRun: boolean;
  nearEnd: boolean;
};
/** Watch event types: "readable" coalesces while one is queued, the others do not. */
export declare const WATCH_TYPES: readonly string[];
/**
 * An action a callback (or the top level) performs; `depth` bounds how deep bodies nest.
 * `forRun`: for runs that call `run()` at top level, which only ends when no ref'd work is
 * left: every interval stops itself after 1-4 beats, and callbacks do not shut down (a
 * shutdown racing run() interleaves two drivers over host macrotasks), nor refresh timers
 * (a callback that refreshes its own timer would run forever; top-level refresh is kept).
 * @param {number} depth
 * @param {Family} [family]
 * @returns {fc.Arbitrary<any>}
 */
export declare function actionArb(depth: number, family?: Family): fc.Arbitrary<any>;
/** A top-level operation of the runs without `run()`. */
export declare const topOpArb: fc.Arbitrary<any>;
/**
 * Runs: the start time, capacity.timers (small, so CapacityError happens, or the default),
 * metrics on or off (they change nothing observable on the manual clock), the hooks, and
 * the operations. Three families: plain, with run(), and near the end of virtual time.
 * @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} [options]
 */
export declare function runArbOf(options?: {
  maxOps?: number;
  size?: "small" | "medium" | "large";
}): fc.Arbitrary<{
  startTime: number;
  timersCap: number | undefined;
  metrics: boolean;
  hooks: {
    onError: "collect" | "default" | "throws";
    secondary: string;
    listener: string | null;
  };
  ops: any[];
}>;
/** The runs `npm test` checks. */
export declare const runArb: fc.Arbitrary<{
  startTime: number;
  timersCap: number | undefined;
  metrics: boolean;
  hooks: {
    onError: "collect" | "default" | "throws";
    secondary: string;
    listener: string | null;
  };
  ops: any[];
}>;
/** Counts every action in a run, nested bodies included. */
export declare function countActions(/** @type {any[]} */ ops: any[]): number;
/**
 * What a run exercises, for the soak's summary: actions by type (nested included), hostile
 * values thrown or rejected with, and how its hooks behave.
 * @param {Run} run @param {Record<string, number>} into
 */
export declare function tallyRun(run: Run, into: Record<string, number>): void;
export type RunHooks = {
  onError: "collect" | "throws" | "default";
  secondary: string;
  listener: string | null;
};
export type Run = {
  startTime: number;
  timersCap?: number;
  metrics?: boolean;
  hooks?: RunHooks;
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
  rearm: null | {
    via: string;
    left: number;
    k: number;
  };
  ref: any;
};
export type IWatch = {
  label: number;
  types: string[];
  failAt: number;
  onRemove: boolean;
  body: any[];
  fired: number;
  ref: any;
  source: any;
};
/**
 * The trace label of a thrown loop error: its name, and for a RangeError of virtual
 * time which end it hit (":eor" an advance past the end of the range, ":eovt" a timer
 * due after it).
 * @param {any} error
 */
export declare function errorLabel(error: any): string;
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
 * Runs both and throws (with a readable excerpt) when the traces differ, or when a drive
 * did not end within its limit (RUNAWAY in either trace).
 * @param {RealApi} api @param {"html"|"node"} profile @param {Run} run
 */
export declare function checkRun(api: RealApi, profile: "html" | "node", run: Run): Promise<number>;
