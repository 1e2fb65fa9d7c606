/**
 * `runAll`'s limit error, naming the timer that kept re-arming (an interval, or a
 * timeout that schedules itself again).
 *
 * By default timers go straight to the loop, and the error names the callback that
 * most of the pending timers have (the one that kept coming back), read from the
 * loop's handle mirror once the limit is hit. With `trackTimerCreation`, every timer
 * runs through one trampoline (`fireTimer`) with a record of its creation stack, and
 * runs are counted per callback while `runAll` runs, so the error names the callback
 * that ran most, how often, and where it was created.
 *
 * @module
 */

import { LoopLimitError } from "../errors.ts";

/** One timer created through the clock: its callback, arguments and origin. */
export interface TimerRecord {
  readonly fn: (...args: unknown[]) => unknown;
  readonly args: readonly unknown[];
  /** The clock method that created it (`"setTimeout"`). */
  readonly kind: string;
  readonly delay: unknown;
  /** Where it was created, when recorded. */
  readonly stack: string | undefined;
  readonly counter: RunCounter;
}

interface Runs {
  count: number;
  last: TimerRecord;
}

/** Counts callback runs while a `runAll` is in progress. */
export class RunCounter {
  /** Counting (a runAll is running). */
  on = false;
  /** `trackTimerCreation`: timers go through `fireTimer` with their creation stack. */
  readonly tracking: boolean;
  #runs = new Map<unknown, Runs>();

  constructor(trackTimerCreation: boolean) {
    this.tracking = trackTimerCreation;
  }

  start(): void {
    this.on = this.tracking;
    this.#runs.clear();
  }

  stop(): void {
    this.on = false;
    this.#runs.clear();
  }

  count(record: TimerRecord): void {
    const runs = this.#runs.get(record.fn);
    if (runs === undefined) this.#runs.set(record.fn, { count: 1, last: record });
    else {
      runs.count++;
      runs.last = record;
    }
  }

  /**
   * fake-timers' message ("Aborting after running N timers, assuming an infinite
   * loop!"), naming the callback that ran most; `cause` is the loop's error.
   */
  limitError(
    loopLimit: number,
    cause: LoopLimitError,
    pending: readonly { fn: unknown; interval: boolean; delay: number }[],
  ): LoopLimitError {
    let message = `Aborting after running ${loopLimit} timers, assuming an infinite loop!`;
    let top: Runs | undefined;
    for (const runs of this.#runs.values())
      if (top === undefined || runs.count > top.count) top = runs;
    if (top !== undefined) {
      const r = top.last;
      message +=
        ` The timer that kept re-arming: ${r.kind}(${nameOf(r.fn)}, ${String(r.delay)})` +
        `, which ran ${top.count} times.`;
      if (r.stack !== undefined) message += `\nIt was created at:\n${r.stack}`;
    } else {
      const culprit = mostPending(pending);
      if (culprit !== undefined) {
        message +=
          ` The timer that kept re-arming: ${culprit.interval ? "setInterval" : "setTimeout"}` +
          `(${nameOf(culprit.fn)}, ${culprit.delay}). Install with { trackTimerCreation: true } ` +
          "to see where it was created.";
      }
    }
    const error = new LoopLimitError("runAll()", loopLimit, "");
    error.message = message;
    Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
    return error;
  }
}

function nameOf(fn: unknown): string {
  return (typeof fn === "function" && fn.name) || "anonymous";
}

/** The pending timer whose callback most pending timers share (an interval first). */
function mostPending<T extends { fn: unknown; interval: boolean }>(
  pending: readonly T[],
): T | undefined {
  const counts = new Map<unknown, number>();
  let best: T | undefined;
  let bestScore = -1;
  for (const timer of pending) {
    const count = (counts.get(timer.fn) ?? 0) + 1;
    counts.set(timer.fn, count);
    const score = count * 2 + (timer.interval ? 1 : 0);
    if (score > bestScore) {
      best = timer;
      bestScore = score;
    }
  }
  return best;
}

/** Creation stack (without the first lines, which are the clock's own frames). */
export function creationStack(): string | undefined {
  const stack = new Error().stack;
  return stack === undefined ? undefined : stack.split("\n").slice(4).join("\n");
}

/** The one callback every clock timer runs: counts it, then calls the user's function. */
export function fireTimer(this: unknown, record: TimerRecord): unknown {
  const counter = record.counter;
  if (counter.on) counter.count(record);
  const args = record.args;
  return args.length === 0 ? record.fn.call(this) : Reflect.apply(record.fn, this, args);
}
