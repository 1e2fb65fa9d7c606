/**
 * Real-clock driving: the loop runs from the host runtime's own event loop.
 *
 * One host timer is armed for the earliest deadline and one "soon" wake-up runs a turn
 * when work is queued outside a turn (`host_driver.ts`). Each host wake-up runs one
 * turn, re-arms, and checks whether the loop became idle; `run()` waits for that. A
 * loop microtask (or a rejection to notify) queued by code outside any turn gets a
 * checkpoint on the host's microtask queue, so it runs before the host's next task.
 *
 * @module
 */

import type { RuntimeHooks } from "../runtime.ts";
import { type Engine, Phase, type Wakeable } from "./engine.ts";
import { HostDriver, hostMacrotask, queueHostMicrotask } from "./host_driver.ts";
import type { LoopPromises } from "./promises.ts";
import { type Turn, TurnEnd } from "./turn.ts";

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class RealTime implements Wakeable {
  readonly #engine: Engine;
  readonly #turn: Turn;
  readonly #promises: LoopPromises;
  readonly #driver: HostDriver;
  #waiters: Waiter[] = [];
  #refSyncQueued = false;

  constructor(engine: Engine, turn: Turn, promises: LoopPromises, runtime: RuntimeHooks) {
    this.#engine = engine;
    this.#turn = turn;
    this.#promises = promises;
    this.#driver = new HostDriver(this.#hostTurn, this.#hostTurn, runtime);
    engine.driver = this;
    engine.requestCheckpoint = this.#requestCheckpoint;
    engine.live.onChange = this.#refsChanged;
    turn.afterDrive = () => this.#checkIdle();
  }

  arm(deadlineUs: number, nowUs: number): void {
    this.#driver.arm(deadlineUs, nowUs);
  }

  wake(): void {
    this.#driver.wake();
  }

  /** Resolves once nothing ref'd is left (or the loop closed); rejects if the core traps. */
  waitForIdle(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#rearm();
      // Idle already: confirm it (a wake-up may be unref'd and never come).
      if (this.#isIdle()) this.#checkIdle();
      else this.#driver.wake();
    });
  }

  /** Stops the host timer (a graceful shutdown cancelled every timer). */
  disarm(): void {
    this.#driver.disarm();
  }

  /** The loop closed or broke: release the host resources and settle every waiter. */
  dispose(): void {
    this.#driver.dispose();
    this.#settleWaiters();
  }

  /**
   * The ref count crossed zero. Telling the host (Node's toggleTimerRef, a C++ call) on
   * every crossing would dominate a setTimeout/clearTimeout pair, so the host timer's
   * ref state is synced once, at the end of the current host task.
   */
  readonly #refsChanged = (): void => {
    if (this.#refSyncQueued) return;
    this.#refSyncQueued = true;
    queueHostMicrotask(this.#syncRefs);
  };

  readonly #syncRefs = (): void => {
    this.#refSyncQueued = false;
    if (this.#engine.closed) return;
    this.#driver.setTimerRef(this.#engine.live.refs > 0);
    this.#driver.setWakeRef(this.#engine.keepsAlive());
    if (this.#waiters.length > 0) this.#checkIdle();
  };

  readonly #requestCheckpoint = (): void => {
    if (this.#engine.checkpointQueued) return;
    this.#engine.checkpointQueued = true;
    queueHostMicrotask(this.#hostCheckpoint);
  };

  /** A microtask checkpoint on the host's microtask queue, outside any turn. */
  readonly #hostCheckpoint = (): void => {
    const engine = this.#engine;
    engine.checkpointQueued = false;
    // Outside turns, and between the callbacks of a turn paused for the host: loop
    // microtasks a native continuation queued there run in the host's job queue, in order.
    if (engine.closed || engine.depth > 0) return;
    if (engine.phase !== Phase.none && !this.#turn.paused) return;
    this.#hostWork("run a microtask checkpoint", () => {
      engine.depth++;
      let done: boolean;
      try {
        done = this.#turn.checkpoint(true);
      } finally {
        engine.depth--;
      }
      if (!done) this.#driver.wake();
      this.#rearm();
    });
  };

  /** One host wake-up: run one turn (or resume a suspended one), then re-arm. */
  readonly #hostTurn = (): void => {
    const engine = this.#engine;
    if (engine.closed || engine.depth > 0) return;
    this.#hostWork("run a turn", () => {
      const pause = engine.config.pauseAfterCallback;
      if (this.#turn.runnableNow() && this.#turn.run(true, pause) !== TurnEnd.done) {
        // A microtask budget suspended the turn, or (nativeJobs "after-callback") one
        // callback ran: the host's own jobs run now, and the turn resumes soon.
        this.#driver.wake();
        return;
      }
      this.#rearm();
    });
  };

  /** Runs host-initiated work: metrics busy time, trap isolation, the idle check. */
  #hostWork(action: string, work: () => void): void {
    const engine = this.#engine;
    if (engine.metricsOn) engine.metrics.busyStart(engine.clock.now());
    try {
      engine.core.guard(action, work);
    } catch (error) {
      // Never into the host's event loop: a trap already broke this loop and rejected
      // its waiters (other loops must go on); anything else is reported.
      if (!engine.core.broken) engine.report(error);
    }
    if (engine.metricsOn) engine.metrics.busyEnd(engine.clock.now());
    this.#checkIdle();
  }

  /** Arms the host timer for the next deadline and wakes for queued work. */
  #rearm(): void {
    const engine = this.#engine;
    if (engine.closed) return;
    const next = engine.core.exports.zl_timers_next_deadline();
    if (next !== Infinity) this.#driver.arm(next, engine.clock.nowUs());
    this.#driver.setTimerRef(engine.live.refs > 0);
    if (engine.hasQueuedWork()) this.#driver.wake(engine.keepsAlive());
  }

  #isIdle(): boolean {
    const engine = this.#engine;
    return (
      engine.phase === Phase.none &&
      engine.live.refs === 0 &&
      !engine.suspended &&
      engine.tasks.live === 0 &&
      engine.micro.length === 0 &&
      this.#promises.pendingNotifications() === 0 &&
      (!engine.stopping || engine.queuedImmediates === 0)
    );
  }

  #checkIdle(): void {
    const engine = this.#engine;
    if (engine.closed) {
      if (this.#waiters.length > 0) this.#settleWaiters();
      return;
    }
    if (!this.#isIdle()) return;
    if (this.#waiters.length > 0 && !this.#confirming) {
      this.#confirming = true;
      // Only unref'd work is queued: its wake-up waits until run() has resolved (then,
      // as in Node, it runs only if something else keeps the process alive).
      this.#rewake = this.#driver.withdrawUnrefdWake();
      void hostMacrotask().then(this.#confirmIdle);
    }
    // Nothing queued: a MessageChannel wake-up must not keep the host alive.
    if (!engine.hasQueuedWork()) this.#driver.release();
  }

  /**
   * The loop looked idle at the end of a host task, but native continuations of its
   * callbacks (`await` in a timer callback) run after that task, and may schedule more
   * work. Idle is confirmed on a later host macrotask, when they have all run.
   */
  #confirming = false;
  #rewake = false;
  readonly #confirmIdle = (): void => {
    this.#confirming = false;
    if (this.#waiters.length > 0 && (this.#engine.closed || this.#isIdle())) this.#settleWaiters();
    if (this.#rewake) {
      this.#rewake = false;
      if (!this.#engine.closed && this.#engine.hasQueuedWork())
        this.#driver.wake(this.#engine.keepsAlive());
    }
  };

  #settleWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    const broken = this.#engine.core.broken;
    for (const waiter of waiters) {
      if (broken) waiter.reject(broken);
      else waiter.resolve();
    }
  }
}
