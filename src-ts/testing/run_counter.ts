/**
 * What a fake clock knows about its timers for `runAll`'s limit error: every timer the
 * clock creates runs through one trampoline (`fireTimer`) with a small record, and
 * while `runAll` runs, the counter counts runs per callback function. When the limit
 * stops `runAll`, the error names the callback that ran most: the timer that kept
 * re-arming (an interval, or a timeout that schedules itself again), with its creation
 * stack when one was recorded.
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
  /** Runs counted since `start`. */
  fired = 0;
  /** Record creation stacks (always, or only once `fired` nears the limit). */
  readonly always: boolean;
  #limit = Infinity;
  #runs = new Map<unknown, Runs>();

  constructor(trackTimerCreation: boolean) {
    this.always = trackTimerCreation;
  }

  start(limit: number): void {
    this.on = true;
    this.fired = 0;
    this.#limit = limit;
    this.#runs.clear();
  }

  stop(): void {
    this.on = false;
    this.#runs.clear();
  }

  /** Whether a timer created now should record its creation stack. */
  wantsStack(): boolean {
    return this.always || (this.on && this.fired * 2 > this.#limit);
  }

  count(record: TimerRecord): void {
    this.fired++;
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
  limitError(loopLimit: number, cause: LoopLimitError): LoopLimitError {
    let top: Runs | undefined;
    for (const runs of this.#runs.values())
      if (top === undefined || runs.count > top.count) top = runs;
    let message = `Aborting after running ${loopLimit} timers, assuming an infinite loop!`;
    if (top !== undefined) {
      const r = top.last;
      message +=
        ` The timer that kept re-arming: ${r.kind}(${r.fn.name || "anonymous"}, ${String(r.delay)})` +
        `, which ran ${top.count} times.`;
      if (r.stack !== undefined) message += `\nIt was created at:\n${r.stack}`;
    }
    const error = new LoopLimitError("runAll()", loopLimit, "");
    error.message = message;
    Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
    return error;
  }
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
  return Reflect.apply(record.fn, this, record.args);
}
