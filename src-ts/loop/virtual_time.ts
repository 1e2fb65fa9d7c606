/**
 * Virtual time (a manual clock): nothing runs until the embedder drives the loop, and
 * time moves only when it says so. Every step is a turn at one deadline, so `now()`
 * inside a callback is that timer's deadline.
 *
 * @module
 */

import { TIME_MS_LIMIT } from "../core/abi.generated.ts";
import { describeValue, LoopLimitError } from "../errors.ts";
import type { Engine } from "./engine.ts";
import { hostMacrotask } from "./host_driver.ts";
import type { Turn } from "./turn.ts";

/** Turns a synchronous drive runs at one time before `LoopLimitError` (runUntilIdle, advance). */
export const DEFAULT_DRIVE_LIMIT = 100_000;
/** Time steps `runAll` takes before `LoopLimitError`. */
export const DEFAULT_RUN_ALL_LIMIT = 1_000_000;

export class VirtualTime {
  readonly #engine: Engine;
  readonly #turn: Turn;

  constructor(engine: Engine, turn: Turn) {
    this.#engine = engine;
    this.#turn = turn;
  }

  /** advance(ms): fires every timer due by now + ms, each at its own deadline. */
  advance(ms: unknown, limit: number): number {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(
        `advance(ms): ms must be a finite number >= 0, got ${describeValue(ms)}.`,
      );
    }
    const now = this.#engine.clock.now();
    const target = now + ms;
    if (!(target <= TIME_MS_LIMIT)) {
      throw new RangeError(
        `advance(ms): the loop time would pass ${TIME_MS_LIMIT} ms (now ${now}, ms ${ms}).`,
      );
    }
    this.#advanceTo(target, "advance()", limit, Infinity);
    return this.#engine.clock.now();
  }

  /** next(): pending microtasks, then the earliest timer alone, at its deadline. */
  next(): number {
    const engine = this.#engine;
    this.#turn.runCheckpointNow();
    const next = engine.core.exports.zl_timers_next_deadline();
    if (next === Infinity) return engine.clock.now();
    engine.manual!.set(next);
    engine.core.guard("next()", () => this.#turn.runOneTimer());
    return engine.clock.now();
  }

  /** runAll(): deadline to deadline until no timer is left, at most `maxSteps` steps. */
  runAll(maxSteps: number): number {
    this.#advanceTo(Infinity, "runAll()", DEFAULT_DRIVE_LIMIT, maxSteps);
    return this.#engine.clock.now();
  }

  /** runToLast(): to the latest deadline that exists now. */
  runToLast(limit: number): number {
    const engine = this.#engine;
    const last = engine.core.guard("runToLast()", () =>
      engine.core.exports.zl_timers_last_deadline(),
    );
    const now = engine.clock.now();
    return this.advance(last > now ? last - now : 0, limit);
  }

  /**
   * Runs what is runnable now, then steps from deadline to deadline up to `target`
   * (each step is one turn at that deadline), and finally moves to `target`.
   */
  #advanceTo(target: number, action: string, drainLimit: number, maxSteps: number): void {
    const engine = this.#engine;
    const turn = this.#turn;
    turn.drainNow(action, drainLimit);
    const exports = engine.core.exports;
    const manual = engine.manual!;
    let steps = 0;
    engine.core.guard(action, () => {
      for (;;) {
        if (engine.closed) return;
        const next = exports.zl_timers_next_deadline();
        if (next === Infinity || next > target) break;
        if (steps++ >= maxSteps) {
          throw new LoopLimitError(
            action,
            maxSteps,
            `${engine.pending().timers} timers still pending at ${manual.now()} ms`,
          );
        }
        manual.set(next);
        turn.run(false);
        // Work queued for the next turn at this same time (tasks and immediates queued in
        // their own phase, microtasks outside callbacks) runs before time moves on.
        if (engine.hasQueuedWork()) turn.drainNow(action, drainLimit);
      }
    });
    if (target !== Infinity && !engine.closed) {
      manual.set(target);
      engine.core.guard("advance the clock", () => engine.setCoreNow(manual.now()));
      turn.drainNow(action, drainLimit);
    }
    if (engine.core.broken) throw engine.core.broken;
  }

  /**
   * run() on a manual clock: everything, moving time from deadline to deadline, yielding
   * to the host between turns so native promise continuations can schedule more work.
   */
  async runAllAsync(): Promise<void> {
    const engine = this.#engine;
    const turn = this.#turn;
    for (;;) {
      if (engine.closed) {
        if (engine.core.broken) throw engine.core.broken;
        return;
      }
      if (engine.depth === 0) turn.drainNow("run()", DEFAULT_DRIVE_LIMIT);
      // Let native promise continuations (which may schedule more work) run first.
      await hostMacrotask();
      if (engine.closed || engine.depth > 0 || turn.runnableNow()) continue;
      if (engine.live.refs === 0) return;
      const next = engine.core.exports.zl_timers_next_deadline();
      if (next !== Infinity) {
        engine.manual!.set(next);
        engine.core.guard("run()", () => turn.run(false));
      }
    }
  }
}
