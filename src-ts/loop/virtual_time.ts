/**
 * Virtual time (a manual clock): timers, tasks and immediates wait until the embedder
 * drives the loop, and time moves only when it says so. Every step is a turn at one
 * time, so `now()` inside a callback is that timer's deadline. (Microtasks queued
 * outside a drive do not wait: they are not time, see `engine.requestCheckpoint`.)
 *
 * A drive runs what is runnable at the current time, turn after turn, then moves to the
 * next deadline, until its target. Two limits make every drive end: `limit` turns at any
 * one time (work that keeps re-arming without time moving, such as a 0 ms timer
 * scheduled from a microtask, throws `LoopLimitError` instead of spinning), and, for
 * `runAll`, `maxSteps` time steps (an interval that never stops).
 *
 * The async forms (`advanceAsync`, `nextAsync`, `runAllAsync`, `runToLastAsync`,
 * `runUntilIdleAsync`, and `run()`) run each turn callback by callback and give the
 * host a macrotask after every callback's checkpoint, so the runtime's own jobs
 * (native `await` continuations) run there, before the next callback and before time
 * moves on: code written with `async`/`await` sees the timeline it would see on a
 * real clock. While an async drive waits for the host, other drives are refused
 * (`DriveInProgressError`).
 *
 * @module
 */

import { TIME_US_LIMIT } from "../core/abi.generated.ts";
import { Kind } from "../core/handle_mirror.ts";
import { DriveInProgressError, describeValue, LoopLimitError } from "../errors.ts";
import { type ManualClock, toUs } from "./clock.ts";
import type { Engine } from "./engine.ts";
import { hostMacrotask, queueHostMicrotask } from "./host_driver.ts";
import { type Turn, TurnEnd } from "./turn.ts";

/** Turns a drive runs at one time before `LoopLimitError` (runUntilIdle, advance, next). */
export const DEFAULT_DRIVE_LIMIT = 100_000;
/** Time steps `runAll` takes before `LoopLimitError`. */
export const DEFAULT_RUN_ALL_LIMIT = 1_000_000;

/**
 * The manual-clock loops' drivers, by loop, for `zigloop/testing` (src-ts/testing/): it
 * needs two moves the public API does not offer, `jump` and a bare checkpoint.
 * Internal: not exported from the package.
 */
export const virtualTimeOf = new WeakMap<object, VirtualTime>();

/** A drive's `{ limit }` option, checked; `fallback` when absent. */
export function limitOption(options: { limit?: number } | undefined, fallback: number): number {
  const limit = options?.limit ?? fallback;
  if (typeof limit !== "number" || !(limit >= 1)) {
    throw new RangeError(`limit must be a number >= 1, got ${describeValue(limit)}.`);
  }
  return limit;
}

/** How one drive goes: where it stops and what bounds it. */
interface Drive {
  /** The method, for errors (`"advance()"`). */
  action: string;
  /** The time to reach, in µs; the current time for runUntilIdle; Infinity for runAll/run. */
  target: number;
  /** Most turns at any one time. */
  turnsPerInstant: number;
  /** Most moves of the clock (runAll's limit). */
  maxSteps: number;
  /** next(): one turn that fires at most one timer. */
  oneTurn: boolean;
  /** run(): stop once nothing ref'd is left (unref'd timers do not keep it going). */
  untilUnrefd: boolean;
}

export class VirtualTime {
  readonly #engine: Engine;
  readonly #turn: Turn;
  /** The async drive waiting for the host, if any. */
  #driving: string | undefined = undefined;

  constructor(engine: Engine, turn: Turn) {
    this.#engine = engine;
    this.#turn = turn;
    engine.requestCheckpoint = this.#requestCheckpoint;
  }

  /**
   * Microtasks are not time: a loop microtask (or a rejection to notify) queued outside
   * any drive, for example by a native `await` calling a loop promise's `then`, runs in a
   * checkpoint on the host's microtask queue, so awaiting a settled loop promise never
   * hangs on a manual clock. (Inside a sync drive it waits for the drive's own
   * checkpoints; during an async drive's pause it runs there, as part of the callback's
   * checkpoint.)
   */
  readonly #requestCheckpoint = (): void => {
    if (this.#engine.checkpointQueued) return;
    this.#engine.checkpointQueued = true;
    queueHostMicrotask(this.#hostCheckpoint);
  };

  readonly #hostCheckpoint = (): void => {
    const engine = this.#engine;
    engine.checkpointQueued = false;
    if (engine.closed || engine.depth > 0) return;
    try {
      engine.core.guard("run a microtask checkpoint", () => this.#turn.runCheckpointNow());
    } catch (error) {
      if (!engine.core.broken) engine.report(error); // never into the host's microtask queue
    }
  };

  /** Throws if an async drive is in progress (drives never overlap). */
  assertIdle(action: string): void {
    if (this.#driving !== undefined) throw new DriveInProgressError(action, this.#driving);
  }

  // ---- synchronous drives --------------------------------------------------------

  advance(ms: unknown, limit: number): number {
    this.#driveSync(this.#plan("advance()", this.#targetAfter(ms, "advance(ms)"), limit));
    return this.#engine.clock.now();
  }

  next(): number {
    this.#driveSync(this.#nextPlan("next()"));
    return this.#engine.clock.now();
  }

  runAll(maxSteps: number): number {
    this.#driveSync({ ...this.#plan("runAll()", Infinity, DEFAULT_DRIVE_LIMIT), maxSteps });
    return this.#engine.clock.now();
  }

  runToLast(limit: number): number {
    this.#driveSync(this.#plan("runToLast()", this.#lastDeadline(), limit));
    return this.#engine.clock.now();
  }

  runUntilIdle(limit: number): void {
    this.#driveSync(this.#plan("runUntilIdle()", this.#engine.clock.nowUs(), limit));
  }

  /**
   * Moves the clock by `ms` at once, as if the host had slept, then runs what is due:
   * every timer that fell due meanwhile fires once, late, at the new time (an interval's
   * missed beats are skipped), in (deadline, start) order. fake-timers' `clock.jump`.
   */
  jump(ms: unknown, limit: number): number {
    const target = this.#targetAfter(ms, "jump(ms)");
    this.#engine.manual!.setUs(target);
    this.#driveSync(this.#plan("jump()", target, limit));
    return this.#engine.clock.now();
  }

  /** The manual clock itself (zigloop/testing reads it for every fake `Date.now()`). */
  get clock(): ManualClock {
    return this.#engine.manual!;
  }

  /** The pending timers' callbacks, kinds and delays (for zigloop/testing's limit error). */
  pendingTimers(): { fn: unknown; interval: boolean; delay: number }[] {
    const mirror = this.#engine.mirror;
    const out: { fn: unknown; interval: boolean; delay: number }[] = [];
    for (let i = 0; i < mirror.kinds.length; i++) {
      const kind = mirror.kinds[i];
      if (kind === Kind.timeout || kind === Kind.interval) {
        out.push({ fn: mirror.fns[i], interval: kind === Kind.interval, delay: mirror.delays[i]! });
      }
    }
    return out;
  }

  /** Runs the loop's pending microtasks (a checkpoint), without running any task or timer. */
  checkpoint(): void {
    const engine = this.#engine;
    engine.core.guard("run the microtasks", () => this.#turn.runCheckpointNow());
    if (engine.core.broken) throw engine.core.broken;
  }

  // ---- asynchronous drives -------------------------------------------------------

  async advanceAsync(ms: unknown, limit: number): Promise<number> {
    await this.#driveAsync(
      this.#plan("advanceAsync()", this.#targetAfter(ms, "advanceAsync(ms)"), limit),
    );
    return this.#engine.clock.now();
  }

  async nextAsync(): Promise<number> {
    await this.#driveAsync(this.#nextPlan("nextAsync()"));
    return this.#engine.clock.now();
  }

  async runAllAsync(maxSteps: number): Promise<number> {
    await this.#driveAsync({
      ...this.#plan("runAllAsync()", Infinity, DEFAULT_DRIVE_LIMIT),
      maxSteps,
    });
    return this.#engine.clock.now();
  }

  async runToLastAsync(limit: number): Promise<number> {
    await this.#driveAsync(this.#plan("runToLastAsync()", this.#lastDeadline(), limit));
    return this.#engine.clock.now();
  }

  async runUntilIdleAsync(limit: number): Promise<void> {
    await this.#driveAsync(this.#plan("runUntilIdleAsync()", this.#engine.clock.nowUs(), limit));
  }

  /** run() on a manual clock: everything, deadline to deadline, until nothing ref'd is left. */
  run(maxSteps: number): Promise<void> {
    return this.#driveAsync({
      ...this.#plan("run()", Infinity, DEFAULT_DRIVE_LIMIT),
      maxSteps,
      untilUnrefd: true,
    });
  }

  // ---- the drive -----------------------------------------------------------------

  #plan(action: string, target: number, turnsPerInstant: number): Drive {
    return {
      action,
      target,
      turnsPerInstant,
      maxSteps: Infinity,
      oneTurn: false,
      untilUnrefd: false,
    };
  }

  /** next(): what is runnable now, else the earliest timer; one turn either way. */
  #nextPlan(action: string): Drive {
    return { ...this.#plan(action, Infinity, 1), maxSteps: 1, oneTurn: true };
  }

  #targetAfter(ms: unknown, call: string): number {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(`${call}: ms must be a finite number >= 0, got ${describeValue(ms)}.`);
    }
    const now = this.#engine.clock.nowUs();
    const target = now + toUs(ms);
    if (!(target <= TIME_US_LIMIT)) {
      throw new RangeError(
        `${call}: the loop time would pass ${TIME_US_LIMIT / 1000} ms, the end of the exact range ` +
          `(now ${now / 1000} ms, ms ${ms}).`,
      );
    }
    return target;
  }

  #lastDeadline(): number {
    const core = this.#engine.core;
    const last = core.guard("runToLast()", () => core.exports.zl_timers_last_deadline());
    return Math.max(last, this.#engine.clock.nowUs());
  }

  /**
   * What the drive does next: "turn" (something is runnable at the current time),
   * "step" (the clock moved to the next deadline), or "stop". Counts and checks the limits.
   */
  #nextMove(drive: Drive, counts: { turns: number; steps: number }): "turn" | "stop" {
    const engine = this.#engine;
    const turn = this.#turn;
    for (;;) {
      if (engine.closed) return "stop";
      turn.runCheckpointNow();
      if (engine.closed || (drive.oneTurn && counts.turns === 1)) return "stop";
      // run(): like uv_run, nothing runs once nothing keeps the loop alive (unref'd work waits).
      if (drive.untilUnrefd && !engine.keepsAlive()) return "stop";
      if (turn.runnableNow()) {
        if (++counts.turns > drive.turnsPerInstant) throw this.#limitError(drive, "turns");
        return "turn";
      }
      const next = engine.core.exports.zl_timers_next_deadline();
      if (next === Infinity || next > drive.target) return "stop";
      if (next > TIME_US_LIMIT) throw this.#endOfTimeError(drive, next);
      if (++counts.steps > drive.maxSteps) throw this.#limitError(drive, "steps");
      engine.manual!.setUs(next);
      if (!drive.oneTurn) counts.turns = 0;
    }
  }

  /**
   * The next timer is due after the end of the exact range. It was exact when it was
   * created, but the clock stops at the range's end: past it, a new timer's deadline
   * could pass 2^53 µs and no longer be exact.
   */
  #endOfTimeError(drive: Drive, next: number): RangeError {
    return new RangeError(
      `${drive.action}: the next timer is due at ${next / 1000} ms, after ${TIME_US_LIMIT / 1000} ms, ` +
        "the end of virtual time (the range in which every microsecond is exact); the clock stays at " +
        `${this.#engine.clock.now()} ms.`,
    );
  }

  /**
   * Moves the clock to the drive's target once nothing is left before it, but never past
   * the end of virtual time: runToLast()'s target is the last deadline when it was
   * called, and that timer may since have been cleared (one still armed there is an
   * error in #nextMove).
   */
  #finish(drive: Drive): void {
    const engine = this.#engine;
    if (engine.closed || drive.target === Infinity || drive.oneTurn) return;
    const manual = engine.manual!;
    const target = Math.min(drive.target, TIME_US_LIMIT);
    if (manual.nowUs() < target) manual.setUs(target);
    engine.core.guard("advance the clock", () => engine.setCoreNow(manual.nowUs()));
  }

  #driveSync(drive: Drive): void {
    const engine = this.#engine;
    const turn = this.#turn;
    const counts = { turns: 0, steps: 0 };
    if (engine.metricsOn) engine.metrics.busyStart(engine.clock.now());
    engine.core.guard(drive.action, () => {
      while (this.#nextMove(drive, counts) === "turn") {
        if (drive.oneTurn) turn.runOneTimer();
        else turn.run(false);
      }
      this.#finish(drive);
    });
    if (engine.metricsOn) engine.metrics.busyEnd(engine.clock.now());
    if (engine.core.broken) throw engine.core.broken;
  }

  async #driveAsync(drive: Drive): Promise<void> {
    const engine = this.#engine;
    const turn = this.#turn;
    const core = engine.core;
    this.#driving = drive.action;
    const counts = { turns: 0, steps: 0 };
    try {
      // Native jobs queued before the drive (an awaited promise's continuation) first.
      await hostMacrotask();
      for (;;) {
        if (core.guard(drive.action, () => this.#nextMove(drive, counts)) === "stop") break;
        // The turn, callback by callback; the host's own jobs run after each one.
        for (;;) {
          const end = core.guard(drive.action, () =>
            drive.oneTurn ? turn.runOneTimer(true) : turn.run(false, true),
          );
          if (end === TurnEnd.done || engine.closed) break;
          await hostMacrotask();
        }
      }
      core.guard(drive.action, () => this.#finish(drive));
    } finally {
      this.#driving = undefined;
    }
    if (core.broken) throw core.broken;
  }

  #limitError(drive: Drive, what: "turns" | "steps"): LoopLimitError {
    const engine = this.#engine;
    const p = engine.pending();
    const at = `at ${engine.clock.now()} ms`;
    if (what === "steps") {
      return new LoopLimitError(
        drive.action,
        drive.maxSteps,
        `${p.timers} timers still pending ${at}`,
      );
    }
    return new LoopLimitError(
      drive.action,
      drive.turnsPerInstant,
      `${drive.turnsPerInstant} turns ${at} without time moving: ${p.tasks} tasks, ${p.immediates} immediates, ` +
        `${p.microtasks} microtasks, ${p.timers} timers pending`,
    );
  }
}
