/**
 * A loop's lifecycle: `idle`/`running` → (`shutdown()`) `stopping` → `closed`, or
 * `close()` at once; `broken` when the core traps. Nothing accepted is lost silently:
 * each piece of work either ran or is counted in a report (or rejected with a
 * `TerminationError`).
 *
 * - Graceful shutdown refuses new work, cancels timers, runs the tasks, immediates and
 *   microtasks already queued (each with its checkpoint), rejects loop promises that are
 *   still waiting, then closes.
 * - `close()` refuses new work first (so a hook that runs while watches detach cannot
 *   slip work in), then drops what is queued and counts it.
 * - A trap breaks this loop only: it is closed, its queues emptied, its waiters rejected.
 * - Ingresses and offload pools (`zigloop/ingress`, through `ingress_host.ts`) are told
 *   first in each case: before a graceful shutdown refuses work (what they accepted still
 *   runs as tasks), and before close() drops the queued tasks (they count what will not
 *   run); the reports carry their counts as `ingress`.
 *
 * @module
 */

import { Kind } from "../core/handle_mirror.ts";
import type { CoreTrapError } from "../errors.ts";
import { type Immediate, kId, Timeout } from "../profile/handles.ts";
import { type Engine, Phase } from "./engine.ts";
import { hostMacrotask } from "./host_driver.ts";
import type { IngressCounts, IngressHost } from "./ingress_host.ts";
import type { LoopPromises } from "./promises.ts";
import type { RealTime } from "./real_time.ts";
import type { Turn } from "./turn.ts";
import { DEFAULT_DRIVE_LIMIT } from "./virtual_time.ts";
import type { Watches } from "./watch.ts";

/** The observable lifecycle state of a loop. */
export type LoopState = "idle" | "running" | "stopping" | "closed" | "broken";

/** What a graceful shutdown did: every piece of accepted work ran or is counted here. */
export interface ShutdownReport {
  /** Timers and intervals cancelled (they were not due to run). */
  cancelledTimers: number;
  /** Tasks and immediates that were queued when shutdown began and ran to completion. */
  ranTasks: number;
  /** Pending loop promises rejected with a TerminationError. */
  rejectedPromises: number;
  /**
   * Messages from other threads (`zigloop/ingress`): delivered over the life of the
   * ingresses and pools still open when the shutdown began, and accepted but never run
   * (0 unless the loop's task capacity refused them). Absent when none was open.
   */
  ingress?: IngressCounts;
}

/** What `close()` discarded. */
export interface CloseReport {
  cancelledTimers: number;
  /** Tasks and immediates dropped (including the loop tasks queued for ingress messages). */
  droppedTasks: number;
  droppedMicrotasks: number;
  /**
   * Messages from other threads (`zigloop/ingress`): delivered over the life of the
   * ingresses and pools still open at close, and accepted but never run (queued as tasks,
   * or still in their lanes). Absent when none was open.
   */
  ingress?: IngressCounts;
}

export class Lifecycle {
  readonly #engine: Engine;
  readonly #turn: Turn;
  readonly #promises: LoopPromises;
  readonly #realTime: RealTime | undefined;
  readonly #watches: Watches;
  #shutdown: Promise<ShutdownReport> | undefined = undefined;
  #closeReport: CloseReport | undefined = undefined;
  /** Set when `zigloop/ingress` first attaches to this loop (ingress_host.ts). */
  ingress: IngressHost | undefined = undefined;
  /** A graceful shutdown told the ingresses (once, even if a client's hook re-enters shutdown). */
  #ingressTold = false;

  constructor(
    engine: Engine,
    turn: Turn,
    promises: LoopPromises,
    realTime: RealTime | undefined,
    watches: Watches,
  ) {
    this.#engine = engine;
    this.#turn = turn;
    this.#promises = promises;
    this.#realTime = realTime;
    this.#watches = watches;
    engine.core.onTrap = (error) => this.#break(error);
  }

  get state(): LoopState {
    const engine = this.#engine;
    if (engine.core.broken) return "broken";
    if (engine.closed) return "closed";
    if (engine.stopping) return "stopping";
    return engine.depth > 0 || engine.phase !== Phase.none ? "running" : "idle";
  }

  shutdown(graceful: boolean): Promise<ShutdownReport> {
    const engine = this.#engine;
    if (engine.core.broken) return Promise.reject(engine.core.broken);
    if (this.#shutdown) return this.#shutdown;
    if (engine.closed)
      return Promise.resolve({ cancelledTimers: 0, ranTasks: 0, rejectedPromises: 0 });
    if (!graceful) {
      this.close();
      return this.#closedShutdown();
    }
    if (this.ingress !== undefined && !this.#ingressTold) {
      // Ingresses queue what they accepted while tasks are still accepted: it runs below.
      this.#ingressTold = true;
      this.ingress.loopClosing(true);
      // A client's hook may have shut down or closed the loop itself.
      if (engine.core.broken) return Promise.reject(engine.core.broken);
      if (this.#shutdown) return this.#shutdown;
      if (engine.closed) return this.#closedShutdown();
    }
    // Timers that will not run: the mirror's (a one-shot whose callback is running now
    // already left it; the core still holds it as due, so its own count is one higher).
    const cancelled = engine.mirror.live - engine.queuedImmediates;
    const status = engine.core.guard("shut down", () => engine.core.exports.zl_shutdown_begin());
    if (status < 0) engine.core.fail(status, "shut down");
    engine.stopping = true;
    engine.refusing = true;
    const refs = engine.mirror.clearAll(
      (kind) => kind !== Kind.immediate,
      (object) => engine.forgetTimeout(object as Timeout),
    );
    engine.live.drop(refs);
    this.#realTime?.disarm();
    this.#watches.closeAll(false); // new I/O events would be new work; queued ones still run
    this.#shutdown = this.#finishShutdown(
      cancelled,
      engine.tasks.live,
      engine.tasksRun,
      engine.immediatesRun,
    );
    return this.#shutdown;
  }

  async #finishShutdown(
    cancelledTimers: number,
    tasksAtStart: number,
    tasksRunAtStart: number,
    immediatesRunAtStart: number,
  ): Promise<ShutdownReport> {
    const engine = this.#engine;
    // shutdown() returns first (state "stopping"); the draining happens after.
    await null;
    if (this.#realTime === undefined) {
      // Let a callback that called shutdown() return first.
      while (engine.depth > 0) await hostMacrotask();
      if (!engine.closed) this.#turn.drainNow("shutdown()", DEFAULT_DRIVE_LIMIT);
    } else {
      await this.#realTime.waitForIdle();
      while (engine.depth > 0) await hostMacrotask();
    }
    const rejectedPromises = engine.closed ? 0 : this.#promises.terminatePending();
    // The terminations' reactions, and the rejection reports they may cause, run before
    // closing: they are the last accepted work (the loop's own tasks pass while stopping).
    if (!engine.closed) this.#turn.drainNow("shutdown()", DEFAULT_DRIVE_LIMIT);
    // Tasks queued when the shutdown began ran first (FIFO); tasks the loop queued itself
    // afterwards (rejection reports) are not counted. Cleared immediates never ran.
    const ranTasks =
      Math.min(engine.tasksRun - tasksRunAtStart, tasksAtStart) +
      (engine.immediatesRun - immediatesRunAtStart);
    if (!engine.closed) this.close();
    if (engine.core.broken) throw engine.core.broken;
    const report: ShutdownReport = { cancelledTimers, ranTasks, rejectedPromises };
    const ingress = this.#closeReport?.ingress;
    if (ingress !== undefined) report.ingress = ingress;
    return report;
  }

  /** A client closed the loop from inside its loopClosing (shutdown() then reports the close). */
  #closedShutdown(): Promise<ShutdownReport> {
    const closed = this.#closeReport!;
    const report: ShutdownReport = {
      cancelledTimers: closed.cancelledTimers,
      ranTasks: 0,
      rejectedPromises: 0,
    };
    if (closed.ingress !== undefined) report.ingress = closed.ingress;
    return Promise.resolve(report);
  }

  close(): CloseReport {
    if (this.#closeReport) return this.#closeReport;
    const engine = this.#engine;
    const report: CloseReport = {
      cancelledTimers: engine.mirror.live - engine.queuedImmediates,
      droppedTasks: engine.tasks.live + engine.queuedImmediates,
      droppedMicrotasks: engine.micro.length,
    };
    this.#closeReport = report;
    // Refuse first: hooks that run while the watches detach must not slip in new work.
    engine.closed = true;
    engine.stopping = false;
    engine.refusing = true;
    this.#watches.closeAll(true);
    const ingress = this.ingress;
    if (ingress !== undefined) {
      ingress.loopClosing(false);
      const counts = ingress.loopClosed();
      if (counts !== undefined) report.ingress = counts;
    }
    try {
      if (!engine.core.broken) {
        engine.micro.flush();
        engine.core.exports.zl_close();
      }
    } catch (error) {
      engine.core.trapped(error, "close");
    }
    this.#release();
    // Closed inside a checkpoint, the checkpoint's end (which notifies) never came.
    this.#promises.closed();
    // Last: the core goes to the next loop; this one keeps a frozen stand-in.
    engine.recycleCore();
    return report;
  }

  /** Empties every host-side structure (the core has released its side, or trapped). */
  #release(): void {
    const engine = this.#engine;
    engine.mirror.clearAll(
      () => true,
      (object) => {
        if (object instanceof Timeout) engine.forgetTimeout(object);
        else (object as Immediate)[kId] = 0;
      },
    );
    engine.tasks.clear();
    engine.micro.clear();
    engine.queuedImmediates = 0;
    engine.live.refs = 0;
    engine.phase = Phase.none;
    this.#realTime?.dispose();
  }

  /** The core trapped: this loop is broken; others have their own instances (this one is never reused). */
  #break(_error: CoreTrapError): void {
    const engine = this.#engine;
    engine.closed = true;
    engine.refusing = true;
    engine.micro.clear(); // the checkpoint running now (if any) stops after the current job
    this.ingress?.loopClosing(false); // producers see the ingress closed, not a full lane
    this.#realTime?.dispose();
  }
}
