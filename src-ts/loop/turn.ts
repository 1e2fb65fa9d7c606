/**
 * The turn (libuv's `uv_run` iteration, HTML's event loop processing model):
 *   1. read the clock once and pass it to the core;
 *   2. timers: every timer due at that time, in (deadline, start) order;
 *   3. tasks: every task submitted before this phase began;
 *   4. immediates: every immediate queued before this phase began;
 * with a microtask checkpoint after each callback. Timers scheduled during a turn never
 * fire in that turn; tasks and immediates queued during their own phase wait for the
 * next turn. A microtask budget may suspend a checkpoint; the turn keeps its phase and
 * batch position and resumes exactly where it stopped.
 *
 * Firing stays one loop in one function: per item, one switch on the phase and one
 * call; callbacks are stored in parallel arrays of one shape.
 *
 * @module
 */

import { Kind } from "../core/handle_mirror.ts";
import { LoopLimitError } from "../errors.ts";
import {
  HandleFlag,
  type Immediate,
  kFlags,
  kId,
  primitiveOf,
  setRefed,
  type Timeout,
  thisOf,
} from "../profile/handles.ts";
import { NESTING_CLAMP_MS, NESTING_LIMIT } from "../profile/html.ts";
import { type Engine, Phase } from "./engine.ts";
import type { LoopPromises } from "./promises.ts";

/**
 * Callbacks are called through the host's own `Reflect.apply`, never through `fn.call`:
 * a guest's callback inherits the guest's `Function.prototype`, whose `call` the guest
 * can replace (loop/guest.ts).
 */
const ReflectApply = Reflect.apply;
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** How a call to {@linkcode Turn.run} ended. */
export const TurnEnd = {
  /** The turn finished (or the loop closed). */
  done: 0,
  /** A microtask budget suspended a checkpoint; the next call resumes it. */
  suspended: 1,
  /** `pause` was asked for: one callback and its checkpoint ran; the next call goes on. */
  paused: 2,
} as const;
export type TurnEnd = (typeof TurnEnd)[keyof typeof TurnEnd];

export class Turn {
  readonly #engine: Engine;
  readonly #promises: LoopPromises;
  /** Most callbacks collected per core call (smaller when metrics re-read the clock per group). */
  readonly #collectMax: number;
  /** Metrics on a real clock: the core gets a fresh clock reading before each group. */
  readonly #metricsClock: boolean;
  #pos = 0;
  #len = 0;
  /** next(): the turn fires at most one timer (its task and immediate phases run as usual). */
  #oneTimer = false;
  /**
   * Node profile: a timer or immediate callback threw, so the next callback of the same
   * phase runs before the checkpoint. Node's processTimers (processImmediate) lets the
   * exception out to C++, which reports it and calls it again, and its first callback
   * runs without runNextTicks (src/env.cc RunTimers and CheckImmediate,
   * lib/internal/timers.js). The checkpoint is owed and runs after that callback, or when
   * the phase ends.
   */
  #checkpointOwed = false;
  /** run() returned TurnEnd.paused: the next call checkpoints first. */
  #paused = false;

  /** The turn paused between callbacks for the host (a host checkpoint may run now). */
  get paused(): boolean {
    return this.#paused;
  }
  #timersDone = false;
  #tasksBegun = false;
  #immediatesBegun = false;
  /** Runs at the end of every drive (the real-clock driver resolves run() waiters there). */
  afterDrive: () => void = () => {};

  constructor(engine: Engine, promises: LoopPromises) {
    this.#engine = engine;
    this.#promises = promises;
    this.#metricsClock = engine.metricsOn && engine.manual === undefined;
    this.#collectMax = engine.config.latencyGroup;
    engine.batchDrop = (id) => this.#dropFromBatch(id);
  }

  /** Zeroes `id` in the unread rest of the running timer batch (id 0 is never live: a no-op entry). */
  #dropFromBatch(id: number): void {
    const core = this.#engine.core;
    if (core.timerBatch.length === 0) core.refreshViews();
    const batch = core.timerBatch;
    for (let i = this.#pos; i < this.#len; i++) if (batch[i] === id) batch[i] = 0;
  }

  /**
   * Runs (or resumes) one turn. With `pause`, returns after each callback's checkpoint
   * (async driving lets the host's own jobs run there). A microtask budget may suspend a
   * checkpoint. Either way the next call resumes exactly where this one stopped.
   */
  run(budgeted: boolean, pause = false): TurnEnd {
    const engine = this.#engine;
    const core = engine.core;
    if (engine.phase === Phase.none) this.#start();
    engine.depth++;
    try {
      if (engine.suspended && !this.checkpoint(budgeted)) return TurnEnd.suspended;
      if (this.#paused) {
        // The host's jobs ran after the last callback; loop microtasks they queued (a
        // native continuation calling queueMicrotask or a loop promise's then) run now,
        // before the next callback, as in one job queue.
        this.#paused = false;
        if (!this.checkpoint(budgeted)) return TurnEnd.suspended;
      }
      for (;;) {
        if (engine.closed) return TurnEnd.done;
        if (this.#pos === this.#len) {
          // The timers phase ends: a checkpoint a throwing node timer left owed runs now.
          if (this.#checkpointOwed && this.#timersDone && engine.phase === Phase.timers) {
            this.#checkpointOwed = false;
            if (!this.checkpoint(budgeted)) return TurnEnd.suspended;
          }
          if (!this.#nextBatch()) {
            // The immediates phase ends: a checkpoint a throwing node immediate left owed.
            if (this.#checkpointOwed) {
              this.#checkpointOwed = false;
              if (!this.checkpoint(budgeted)) return TurnEnd.suspended;
            }
            break;
          }
          continue;
        }
        const item = this.#pos++;
        // A callback may have grown linear memory, detaching the batch views (length 0):
        // the batch itself never moves, so re-create the views and read on.
        if (core.timerBatch.length === 0) core.refreshViews();
        let threw = false;
        switch (engine.phase) {
          case Phase.timers:
            threw = this.#runTimer(core.timerBatch[item]!);
            break;
          case Phase.tasks:
            this.#runTask(core.taskBatch[item]!);
            break;
          default:
            threw = this.#runImmediate(core.immediateBatch[item]!);
        }
        if (threw && !engine.html) {
          this.#checkpointOwed = true;
          continue;
        }
        this.#checkpointOwed = false;
        if (!this.checkpoint(budgeted)) return TurnEnd.suspended;
        if (pause) {
          this.#paused = true;
          return TurnEnd.paused;
        }
      }
    } finally {
      engine.depth--;
    }
    if (!engine.closed) {
      const status = core.exports.zl_turn_end();
      if (status < 0) core.fail(status, "end a turn");
    }
    engine.phase = Phase.none;
    if (engine.manual === undefined) engine.nowValid = false;
    return TurnEnd.done;
  }

  /** One call sets the time, begins the turn and collects the first timer batch. */
  #start(): void {
    const engine = this.#engine;
    const now = engine.clock.nowUs();
    const max = this.#oneTimer ? 1 : this.#collectMax;
    const count = engine.core.exports.zl_turn_start(now, max);
    if (count < 0) engine.core.fail(count, "run a turn");
    engine.nowUs = now;
    engine.nowValid = true;
    engine.phase = Phase.timers;
    this.#pos = 0;
    this.#len = count;
    // A short batch means no other timer is due in this turn: skip the next collect.
    // next() fires one timer: the phase then goes on to tasks and immediates.
    this.#timersDone = count < max || this.#oneTimer;
    if (count > 0) engine.core.refreshViews();
  }

  /**
   * next(): a turn that fires at most the earliest due timer, then runs its task and
   * immediate phases like any turn. With `pause`, see {@linkcode run}; the one-timer
   * limit holds for the whole turn.
   */
  runOneTimer(pause = false): TurnEnd {
    if (this.#engine.phase === Phase.none) this.#oneTimer = true;
    try {
      return this.run(false, pause);
    } finally {
      this.#oneTimer = false;
    }
  }

  /**
   * Collects the next batch of the current phase, moving through the phases and
   * skipping those with nothing queued. False when the turn is done.
   */
  #nextBatch(): boolean {
    const engine = this.#engine;
    const core = engine.core;
    const exports = core.exports;
    const max = this.#collectMax;
    for (;;) {
      let count = 0;
      switch (engine.phase) {
        case Phase.timers:
          if (!this.#timersDone) {
            if (this.#metricsClock) exports.zl_metrics_clock(engine.clock.nowUs());
            count = exports.zl_timers_collect(max);
            if (count < 0) core.fail(count, "collect due timers");
            this.#timersDone = count < max;
          }
          // An owed checkpoint runs before the phase moves on (run() pays it at pos === len).
          if (count > 0 || this.#checkpointOwed) break;
          engine.phase = Phase.tasks;
          this.#tasksBegun = false;
          continue;
        case Phase.tasks:
          if (engine.tasks.live > 0) {
            if (!this.#tasksBegun) {
              this.#tasksBegun = true;
              if ((count = exports.zl_tasks_begin()) < 0) core.fail(count, "begin the task phase");
            }
            if (this.#metricsClock) exports.zl_metrics_clock(engine.clock.nowUs());
            count = exports.zl_tasks_collect(max);
            if (count < 0) core.fail(count, "collect tasks");
          }
          if (count > 0) break;
          engine.phase = Phase.immediates;
          this.#immediatesBegun = false;
          continue;
        default:
          if (engine.queuedImmediates > 0) {
            if (!this.#immediatesBegun) {
              this.#immediatesBegun = true;
              if ((count = exports.zl_immediates_begin()) < 0)
                core.fail(count, "begin the immediate phase");
            }
            if (this.#metricsClock) exports.zl_metrics_clock(engine.clock.nowUs());
            count = exports.zl_immediates_collect(max);
            if (count < 0) core.fail(count, "collect immediates");
          }
          if (count > 0) break;
          return false;
      }
      core.refreshViews();
      this.#pos = 0;
      this.#len = count;
      return true;
    }
  }

  /** Runs the timer `id` of the batch; returns whether its callback threw. */
  #runTimer(id: number): boolean {
    const engine = this.#engine;
    const mirror = engine.mirror;
    const slot = mirror.find(id);
    if (slot < 0) return false; // cleared after it was collected
    const fn = mirror.fns[slot]!;
    const args = mirror.args[slot];
    const object = mirror.objects[slot];
    const kind = mirror.kinds[slot];
    const level = mirror.nesting[slot]!;
    if (kind === Kind.timeout) {
      const ref = mirror.refs[slot] === 1;
      mirror.clear(slot);
      if (object !== undefined) {
        const timeout = object as Timeout;
        if ((timeout[kFlags] & HandleFlag.primitive) !== 0)
          engine.knownTimersById.delete(primitiveOf(timeout));
      }
      if (ref) engine.live.release();
    }
    // html (drift-free): the next beat is scheduled before the callback, as Chromium's
    // TimerBase::RunInternal sets the next fire time before DOMTimer::Fired runs it.
    const before = kind === Kind.interval && engine.html && engine.driftFree;
    if (before) this.#rearmInterval(id, level);
    engine.nesting = level;
    engine.timersRun++;
    const thisArg = object === undefined ? engine.thisArg : thisOf(object as Timeout);
    let threw = false;
    try {
      ReflectApply(fn, thisArg, args ?? NO_ARGS);
    } catch (error) {
      threw = true;
      engine.report(error);
    }
    engine.nesting = 0;
    if (kind === Kind.interval && !before) this.#rearmInterval(id, level);
    return threw;
  }

  /**
   * A live interval's next beat (armed when it was collected) takes a start sequence
   * now, and (html) its timeout is clamped once its nesting level passes 5. html
   * (drift-free, the default) calls this before the callback, as Chromium does: the beat
   * keeps its deadline and goes before timers the callback creates for the same time.
   * Otherwise (node) it runs after the callback, like Node's re-insert: the beat counts
   * from now, the loop time after its callback, and a timeout the callback created with
   * the same delay runs first, as in Node's per-duration lists.
   */
  #rearmInterval(id: number, level: number): void {
    const engine = this.#engine;
    const mirror = engine.mirror;
    const live = mirror.find(id);
    if (live < 0) return;
    if (engine.html && level > NESTING_LIMIT && mirror.delays[live]! < NESTING_CLAMP_MS) {
      mirror.delays[live] = NESTING_CLAMP_MS;
    }
    const start = engine.driftFree
      ? -1
      : engine.config.startAtCall
        ? engine.clock.nowUs()
        : engine.nowUs;
    const status = engine.core.exports.zl_timer_rearmed(id, mirror.delays[live]!, start);
    if (status < 0) engine.core.fail(status, "re-arm an interval");
    if (level < 255) mirror.nesting[live] = level + 1;
  }

  #runTask(slot: number): void {
    const engine = this.#engine;
    engine.tasksRun++;
    const tasks = engine.tasks;
    const fn = tasks.fns[slot]!;
    const arg = tasks.args[slot];
    tasks.release(slot);
    try {
      if (arg === undefined) fn();
      else fn(arg);
    } catch (error) {
      engine.report(error);
    }
  }

  /** Runs the immediate `id` of the batch; returns whether its callback threw. */
  #runImmediate(id: number): boolean {
    const engine = this.#engine;
    const mirror = engine.mirror;
    const slot = mirror.find(id);
    if (slot < 0) return false; // cleared after it was collected
    const fn = mirror.fns[slot]!;
    const args = mirror.args[slot];
    const object = mirror.objects[slot];
    const ref = mirror.refs[slot] === 1;
    engine.queuedImmediates--;
    engine.immediatesRun++;
    mirror.clear(slot);
    if (object !== undefined) {
      // Node clears kRefed before the callback runs: hasRef() inside it is false.
      (object as Immediate)[kId] = 0;
      setRefed(object as Immediate, false);
    }
    if (ref) engine.live.release();
    const thisArg = object === undefined ? engine.thisArg : thisOf(object as Immediate);
    try {
      ReflectApply(fn, thisArg, args ?? NO_ARGS);
      return false;
    } catch (error) {
      engine.report(error);
      return true;
    }
  }

  /**
   * The microtask checkpoint: runs every queued microtask, including those queued by
   * microtasks, then lets the rejection tracker notify. Returns false when a budget
   * suspended it (it resumes, in order, on the next call).
   */
  checkpoint(budgeted: boolean): boolean {
    const engine = this.#engine;
    if (engine.checkpointing) return true;
    engine.checkpointing = true;
    engine.suspended = false;
    const savedNesting = engine.nesting;
    engine.nesting = 0;
    let budget = budgeted ? engine.config.microtaskBudget : Infinity;
    const micro = engine.micro;
    const drains = engine.drains;
    try {
      for (;;) {
        // close() (or a trap) inside a job empties the queue, which ends runJobs.
        budget -= micro.runJobs(budget, engine.reportError);
        if (engine.closed) return true;
        if (micro.length > 0) {
          engine.suspended = true; // the budget ran out
          return false;
        }
        if (drains.length === 0) break;
        // Other realms' queues may queue loop microtasks and vice versa: alternate until all are empty.
        for (let i = 0; i < drains.length; i++) {
          try {
            drains[i]!();
          } catch (error) {
            engine.report(error);
          }
          if (engine.closed) return true;
        }
        if (micro.length === 0) break;
      }
    } finally {
      engine.checkpointing = false;
      engine.nesting = savedNesting;
    }
    this.#promises.checkpointEnd();
    return true;
  }

  /** A checkpoint outside any turn (driving calls). */
  runCheckpointNow(): void {
    const engine = this.#engine;
    if (
      engine.micro.length === 0 &&
      !engine.suspended &&
      this.#promises.pendingNotifications() === 0
    )
      return;
    engine.depth++;
    try {
      this.checkpoint(false);
    } finally {
      engine.depth--;
    }
  }

  /** Whether anything can run at the current time without moving the clock. */
  runnableNow(): boolean {
    const engine = this.#engine;
    return (
      engine.phase !== Phase.none ||
      this.#promises.pendingNotifications() > 0 ||
      engine.hasQueuedWork() ||
      engine.core.exports.zl_timers_next_deadline() <= engine.clock.nowUs()
    );
  }

  /** Runs turns until nothing is runnable at the current time. */
  drainNow(action: string, limit: number): void {
    const engine = this.#engine;
    if (engine.metricsOn) engine.metrics.busyStart(engine.clock.now());
    engine.core.guard(action, () => {
      for (let rounds = 0; ; rounds++) {
        if (engine.closed) return;
        this.runCheckpointNow();
        if (engine.closed || !this.runnableNow()) return;
        if (rounds >= limit) {
          const p = engine.pending();
          throw new LoopLimitError(
            action,
            limit,
            `${p.tasks} tasks, ${p.immediates} immediates, ${p.microtasks} microtasks, ${p.timers} timers pending`,
          );
        }
        this.run(false);
      }
    });
    if (engine.metricsOn) engine.metrics.busyEnd(engine.clock.now());
    this.afterDrive();
    // A callback's call into the core trapped (reported to onError there): this drive
    // must not look like it finished normally.
    if (engine.core.broken) throw engine.core.broken;
  }
}
