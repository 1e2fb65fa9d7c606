/**
 * Options → a frozen {@linkcode LoopConfig}. Every option a loop reads is checked
 * here, once, when the loop is created: a wrong type is a `TypeError`, a value out of
 * range a `RangeError`, and an unknown option name a `TypeError` that names it and
 * suggests the closest known one (`{ clok: "manual" }` must not quietly give a
 * real-clock loop). Limits come only from the generated ABI.
 *
 * @module
 */

import {
  BATCH_CAPACITY,
  QUEUE_MAX_LIMIT,
  RING_CAPACITY_MAX,
  RING_CAPACITY_MIN,
  TIME_US_LIMIT,
  TIMERS_MAX_LIMIT,
} from "../core/abi.generated.ts";
import { type CapacityError, describeValue, invalidArgType } from "../errors.ts";
import type { StringHandlerCompiler } from "../profile/html.ts";
import type { UnhandledRejectionsMode } from "../promise/rejection_tracker.ts";

/** Timer semantics: the HTML Standard's, or Node.js's. */
export type Profile = "html" | "node";

/** Capacities of one loop's core. Exhausting one throws a `CapacityError`. */
export interface CapacityOptions {
  /** Live timers, intervals and immediates together. Default 4,194,304 (at most 2^25). */
  timers?: number;
  /** Queued tasks (submit, I/O). Default 4,194,304 (at most 2^30). */
  tasks?: number;
  /** Queued microtasks and promise jobs. Default 4,194,304 (at most 2^30). */
  microtasks?: number;
  /** Slots of the microtask ring (a power of two, 16 to 2^20); jobs beyond it overflow into chunks. Default 1024. */
  microtaskRing?: number;
}

/** The clock of a loop: host time, or virtual time that moves only when driven. */
export type ClockKind = "real" | "manual";

/** Options of `createEventLoop`. Unknown names are a `TypeError`. */
export interface EventLoopOptions {
  /** Timer semantics: `"html"` (HTML Standard, the default) or `"node"` (Node.js). */
  profile?: Profile;
  /** `"real"` (host time, the default) or `"manual"` (virtual time moved by advance/next/runAll). */
  clock?: ClockKind;
  /** Start of a manual clock, in ms. Default 0. */
  startTime?: number;
  /** Capacities of the core's structures. */
  capacity?: CapacityOptions;
  /**
   * Collect metrics (see `metrics()`). Off by default, and then free. With a real clock,
   * the loop reads its clock again before every `latencyGroup` callbacks of a turn
   * (default 64), so a task waiting behind a slow task in the same turn is measured
   * when it starts; `latencyGroup: 1` reads it before every callback (exact, ~45 ns each).
   */
  metrics?: boolean | { latencyGroup?: number };
  /**
   * Most microtasks one checkpoint runs before yielding to the host (real clock
   * only); the checkpoint resumes, in order, before any other task runs. Default:
   * no budget (a budget lets the host breathe under a microtask flood but changes
   * observable order, so it is opt-in).
   */
  microtaskBudget?: number;
  /**
   * What a timer's delay counts from. `"turn"` (default): the loop time, read once per
   * turn and once per host task outside turns, like libuv's `uv_now`. `"call"`: a fresh
   * clock reading at every schedule, HTML's "current high resolution time" (about 45 ns
   * more per call). Manual clocks are the same either way.
   */
  timerStart?: "turn" | "call";
  /**
   * Whether an interval's next beat counts from when the beat was due (drift-free: a
   * late beat does not delay the next one, and beats a late loop missed are skipped)
   * or from the time its callback ran (lateness accumulates). Default: `true` in the
   * html profile (Chromium's repeating timers), `false` in the node profile (Node
   * re-inserts an interval from the time it ran).
   */
  driftFreeIntervals?: boolean;
  /**
   * Real clock: when the runtime's own promise jobs (native `await` continuations,
   * `.then` on native promises) get to run. `"after-turn"` (default): the loop runs a
   * whole turn in one host task and they run after it. `"after-callback"`: the loop gives
   * the host a task after every callback's checkpoint, so they run before the next
   * callback, as in Node and browsers (a host macrotask per callback: see
   * docs/BENCHMARKS.md). The manual clock's async drives always do the latter; a vm
   * guest's jobs run at every checkpoint either way.
   */
  nativeJobs?: "after-turn" | "after-callback";
  /** html profile: compiles string handlers (`setTimeout("code")`). Without it they throw TypeError. */
  stringHandler?: StringHandlerCompiler;
  /**
   * Runs a microtask queue the embedder owns, e.g. a `node:vm` context created with
   * `microtaskMode: "afterEvaluate"` (call `new vm.Script("").runInContext(context)`).
   * Called at every checkpoint after the loop's own microtasks, repeatedly until
   * both queues are empty.
   */
  drainHostMicrotasks?: () => void;
  /**
   * How `loop.Promise` rejections nobody handles are reported: `"html"` (the html
   * profile's default: an `unhandledrejection` event on the loop, then `onError` unless
   * cancelled), or one of Node's `--unhandled-rejections` modes (`"throw"`, the node
   * profile's default, `"strict"`, `"warn"`, `"warn-with-error-code"`, `"none"`).
   */
  unhandledRejections?: UnhandledRejectionsMode;
  /** Debug: record where each loop promise was created and attach it to rejection reports. */
  trackPromiseCreation?: boolean;
  /**
   * Called with every `CapacityError` before it is thrown to the caller, e.g. to stop a
   * guest that hit a budget even if it catches the error (`zigloop run` does).
   */
  onCapacity?: (error: CapacityError) => void;
  /** Uncaught errors from callbacks and microtasks. Default: print like the runtime, set `exitCode = 1`, keep running. */
  onError?: (error: unknown) => void;
  /** Warnings (node profile delay coercion, unhandled-rejection warnings). Default: the runtime's warning channel. */
  onWarning?: (warning: Error) => void;
}

/** Everything a loop reads from its options, checked and frozen. */
export interface LoopConfig {
  readonly profile: Profile;
  readonly manual: boolean;
  readonly startTime: number;
  readonly timersMax: number;
  readonly tasksMax: number;
  readonly microtasksMax: number;
  readonly microtaskRing: number;
  readonly metrics: boolean;
  /** Callbacks per clock reading when metrics are on (BATCH_CAPACITY when off). */
  readonly latencyGroup: number;
  readonly microtaskBudget: number;
  /** Read the clock at every schedule (real clock with timerStart "call"). */
  readonly startAtCall: boolean;
  readonly driftFreeIntervals: boolean;
  /** Real clock, nativeJobs "after-callback": a host task after every callback. */
  readonly pauseAfterCallback: boolean;
  readonly stringHandler: StringHandlerCompiler | undefined;
  readonly drainHostMicrotasks: (() => void) | undefined;
  readonly unhandledRejections: UnhandledRejectionsMode;
  readonly trackPromiseCreation: boolean;
  readonly onCapacity: ((error: CapacityError) => void) | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly onWarning: ((warning: Error) => void) | undefined;
}

const OPTION_NAMES = [
  "profile",
  "clock",
  "startTime",
  "capacity",
  "metrics",
  "microtaskBudget",
  "timerStart",
  "driftFreeIntervals",
  "nativeJobs",
  "stringHandler",
  "drainHostMicrotasks",
  "unhandledRejections",
  "trackPromiseCreation",
  "onCapacity",
  "onError",
  "onWarning",
] as const satisfies readonly (keyof EventLoopOptions)[];
const CAPACITY_NAMES = ["timers", "tasks", "microtasks", "microtaskRing"] as const;
const METRICS_NAMES = ["latencyGroup"] as const;
const UNHANDLED_REJECTION_MODES: readonly UnhandledRejectionsMode[] = [
  "html",
  "throw",
  "strict",
  "warn",
  "warn-with-error-code",
  "none",
];

const DEFAULT_CAPACITY = 1 << 22;
const DEFAULT_RING = 1024;
const DEFAULT_LATENCY_GROUP = 64;

/**
 * Checks `options` and returns the loop's frozen configuration.
 * @param options What the caller passed to `createEventLoop` (anything).
 * @param extraNames Option names an entry point consumes itself (`module` of createEventLoopSync).
 * @throws {TypeError} for a non-object, an unknown option name, or a value of the wrong type.
 * @throws {RangeError} for a number out of range.
 */
export function resolveConfig(options: unknown, extraNames: readonly string[] = []): LoopConfig {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object") {
    throw optionsError(`options must be an object, got ${describeValue(options)}.`);
  }
  const o = options as EventLoopOptions;
  checkNames(o, [...OPTION_NAMES, ...extraNames], "");
  const profile = oneOf(o.profile ?? "html", ["html", "node"], "profile");
  const clock = oneOf(o.clock ?? "real", ["real", "manual"], "clock");
  const manual = clock === "manual";
  const capacity = o.capacity ?? {};
  if (capacity === null || typeof capacity !== "object") {
    throw optionsError(`capacity must be an object, got ${describeValue(capacity)}.`);
  }
  checkNames(capacity, CAPACITY_NAMES, "capacity.");
  const { metrics, latencyGroup } = metricsOption(o.metrics, manual);
  const budget = o.microtaskBudget ?? Infinity;
  if (typeof budget !== "number" || !(budget >= 1)) {
    throw new RangeError(`microtaskBudget must be a number >= 1, got ${describeValue(budget)}.`);
  }
  const timerStart = oneOf(o.timerStart ?? "turn", ["turn", "call"], "timerStart");
  const nativeJobs = oneOf(
    o.nativeJobs ?? "after-turn",
    ["after-turn", "after-callback"],
    "nativeJobs",
  );
  const unhandledRejections = oneOf(
    o.unhandledRejections ?? (profile === "node" ? "throw" : "html"),
    UNHANDLED_REJECTION_MODES,
    "unhandledRejections",
  );
  for (const name of ["trackPromiseCreation", "driftFreeIntervals"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "boolean") {
      throw invalidArgType(name, "a boolean", o[name], "createEventLoop(options)");
    }
  }
  return Object.freeze({
    profile,
    manual,
    startTime: manual ? startTimeOption(o.startTime) : 0,
    timersMax: capacityOption(capacity.timers, "timers", TIMERS_MAX_LIMIT),
    tasksMax: capacityOption(capacity.tasks, "tasks", QUEUE_MAX_LIMIT),
    microtasksMax: capacityOption(capacity.microtasks, "microtasks", QUEUE_MAX_LIMIT),
    microtaskRing: ringOption(capacity.microtaskRing),
    metrics,
    latencyGroup,
    microtaskBudget: budget,
    startAtCall: timerStart === "call" && !manual,
    driftFreeIntervals: o.driftFreeIntervals ?? profile === "html",
    pauseAfterCallback: nativeJobs === "after-callback" && !manual,
    stringHandler: functionOption(o.stringHandler, "stringHandler"),
    drainHostMicrotasks: functionOption(o.drainHostMicrotasks, "drainHostMicrotasks"),
    unhandledRejections,
    trackPromiseCreation: o.trackPromiseCreation === true,
    onCapacity: functionOption(o.onCapacity, "onCapacity"),
    onError: functionOption(o.onError, "onError"),
    onWarning: functionOption(o.onWarning, "onWarning"),
  });
}

/** A TypeError about createEventLoop's options, with Node's argument-type code. */
function optionsError(message: string): TypeError {
  const error = new TypeError(`createEventLoop(options): ${message}`);
  Object.defineProperty(error, "code", {
    value: "ERR_INVALID_ARG_TYPE",
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return error;
}

/** Unknown option names are mistakes: say which, and what was probably meant. */
function checkNames(object: object, known: readonly string[], prefix: string): void {
  for (const name of Object.keys(object)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    const hint =
      guess === undefined
        ? `Known options: ${known.join(", ")}.`
        : `Did you mean "${prefix}${guess}"?`;
    throw optionsError(`unknown option "${prefix}${name}". ${hint}`);
  }
}

/** The known name nearest to `name` by edit distance, if it is near enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  const list = allowed.map((v) => `"${v}"`);
  const expected = list.length === 2 ? `${list[0]} or ${list[1]}` : `one of ${list.join(", ")}`;
  throw new TypeError(`Unknown ${name} ${describeValue(value)}: expected ${expected}.`);
}

function functionOption<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw invalidArgType(name, "a function", value, "createEventLoop(options)");
  }
  return value;
}

/** The latest loop time in ms: the core's exact range (2^53 µs) less the longest delay. */
export const TIME_MS_LIMIT = Math.floor(TIME_US_LIMIT / 1000);

function startTimeOption(value: unknown): number {
  const start = value ?? 0;
  if (typeof start !== "number" || !(start >= 0) || !(start <= TIME_MS_LIMIT)) {
    throw new RangeError(
      `startTime must be a finite number >= 0 and at most ${TIME_MS_LIMIT} (ms, about 285 years: the range in which every microsecond is exact), got ${describeValue(start)}.`,
    );
  }
  return start + 0; // -0 → 0
}

function capacityOption(value: unknown, name: string, max: number): number {
  if (value === undefined) return Math.min(DEFAULT_CAPACITY, max);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `capacity.${name} must be an integer from 1 to ${max}, got ${describeValue(value)}.`,
    );
  }
  return value;
}

function ringOption(value: unknown): number {
  if (value === undefined) return DEFAULT_RING;
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < RING_CAPACITY_MIN ||
    value > RING_CAPACITY_MAX ||
    (value & (value - 1)) !== 0
  ) {
    throw new RangeError(
      `capacity.microtaskRing must be a power of two from ${RING_CAPACITY_MIN} to 2^${Math.log2(RING_CAPACITY_MAX)}, ` +
        `got ${describeValue(value)}.`,
    );
  }
  return value;
}

function metricsOption(
  value: unknown,
  manual: boolean,
): { metrics: boolean; latencyGroup: number } {
  if (value === undefined || value === false)
    return { metrics: false, latencyGroup: BATCH_CAPACITY };
  if (value === true)
    return { metrics: true, latencyGroup: manual ? BATCH_CAPACITY : DEFAULT_LATENCY_GROUP };
  if (value === null || typeof value !== "object") {
    throw optionsError(
      `metrics must be a boolean or { latencyGroup }, got ${describeValue(value)}.`,
    );
  }
  checkNames(value, METRICS_NAMES, "metrics.");
  const group = (value as { latencyGroup?: unknown }).latencyGroup ?? DEFAULT_LATENCY_GROUP;
  if (
    typeof group !== "number" ||
    !Number.isInteger(group) ||
    group < 1 ||
    group > BATCH_CAPACITY
  ) {
    throw new RangeError(
      `metrics.latencyGroup must be an integer from 1 to ${BATCH_CAPACITY}, got ${describeValue(group)}.`,
    );
  }
  return { metrics: true, latencyGroup: manual ? BATCH_CAPACITY : group };
}
