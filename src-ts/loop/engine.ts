/**
 * The engine: one loop's hot state and the operations that schedule and cancel work.
 *
 * It owns the core bridge, the JS values the core refers to by integer (the handle
 * mirror for timers and immediates, the task slot table, the host end of the
 * microtask ring), the loop time, the lifecycle flags the scheduling paths check,
 * and the state of the turn in progress that scheduling depends on (the phase, the
 * HTML nesting level, the callback depth). The turn itself (`turn.ts`), the drivers
 * (`real_time.ts`, `virtual_time.ts`) and the lifecycle (`lifecycle.ts`) work on it.
 *
 * Hot paths (`setTimeout`/`clearTimeout` in the html profile, `queueMicrotask`) are one
 * function each with no allocation: one Wasm call for a timer, none for a microtask
 * that fits the ring.
 *
 * @module
 */

import { type CoreExports, Stat, Status } from "../core/abi.generated.ts";
import { CoreBridge, isTrap } from "../core/bridge.ts";
import { HandleMirror, Kind } from "../core/handle_mirror.ts";
import { frozenCore, giveBack } from "../core/instance_pool.ts";
import { MicrotaskQueue } from "../core/microtask_queue.ts";
import { SlotTable } from "../core/slot_table.ts";
import {
  CoreTrapError,
  invalidArgType,
  LoopClosedError,
  LoopShuttingDownError,
  LoopStateError,
} from "../errors.ts";
import {
  HandleFlag,
  type HandleOwner,
  Immediate,
  isRefed,
  kArgs,
  kCallback,
  kDelay,
  kFlags,
  kId,
  kOwner,
  primitiveOf,
  setPrimitive,
  setRefed,
  Timeout,
} from "../profile/handles.ts";
import {
  compileHandler,
  handlerTypeError,
  htmlDelay,
  htmlTimerId,
  NESTING_CLAMP_MS,
  NESTING_LIMIT,
} from "../profile/html.ts";
import { DelayWarnings, nodeDelay, TIMEOUT_MAX } from "../profile/node.ts";
import { type Clock, ManualClock, RealClock } from "./clock.ts";
import type { LoopConfig } from "./config.ts";
import { queueHostMicrotask } from "./host_driver.ts";
import { Liveness } from "./liveness.ts";
import { MetricsRecorder, PERCENTILES } from "./metrics.ts";
import { type ErrorHooks, reportSafely } from "./report.ts";

/** Makes the guest-realm facade a guest sees for a node-profile handle (loop/guest.ts). */
export interface GuestFacades {
  facade(handle: Timeout | Immediate, kind: "timeout" | "immediate"): object;
}

/** The phase of the turn in progress. */
export const Phase = { none: 0, timers: 1, tasks: 2, immediates: 3 } as const;

/** What the engine asks of its real-clock driver (absent on a manual clock). */
export interface Wakeable {
  /** The earliest deadline moved (or may have): arm the host timer for it (both in µs). */
  arm(deadlineUs: number, nowUs: number): void;
  /** Work was queued outside a turn: run a turn soon. */
  wake(): void;
}

type Job = (arg?: any) => void;

export class Engine implements HandleOwner {
  readonly config: LoopConfig;
  readonly html: boolean;
  /** Intervals keep their deadline grid (html's default) instead of counting from when they ran. */
  readonly driftFree: boolean;
  readonly core: CoreBridge;
  readonly clock: Clock;
  /** The manual clock, when the loop has one. */
  readonly manual: ManualClock | undefined;
  readonly mirror: HandleMirror;
  readonly tasks = new SlotTable();
  readonly micro: MicrotaskQueue;
  readonly live = new Liveness();
  readonly metrics: MetricsRecorder;
  readonly metricsOn: boolean;
  readonly hooks: ErrorHooks;
  /** The real-clock driver; undefined on a manual clock. */
  driver: Wakeable | undefined = undefined;
  /**
   * Microtask queues of other realms, drained at every checkpoint after the loop's own
   * (guests' vm contexts, `drainHostMicrotasks`); they alternate until all are empty.
   */
  readonly drains: Array<() => void> = [];
  /** Called when a loop microtask or rejection needs a checkpoint outside any turn. */
  requestCheckpoint: () => void = () => {};
  /** A checkpoint outside any turn is already requested (checked first on the microtask fast path). */
  checkpointQueued = false;

  // Lifecycle flags, checked on the scheduling paths.
  closed = false;
  stopping = false;
  /** closed || stopping: one check on the hot paths. */
  refusing = false;

  // The turn in progress.
  phase: number = Phase.none;
  /** Callbacks (and checkpoints outside turns) running now: > 0 means "inside the loop". */
  depth = 0;
  checkpointing = false;
  /** A microtask budget suspended the checkpoint in progress. */
  suspended = false;
  /** HTML timer nesting level of the running task (0 outside timer tasks). */
  nesting = 0;
  /** `this` of html-profile callbacks. */
  thisArg: unknown = globalThis;

  // Time.
  /** The loop time the core was last given, in µs (read once per turn / host task). */
  nowUs = 0;
  nowValid = false;
  readonly #invalidateNow = (): void => {
    this.nowValid = false;
  };

  /** Immediates queued (ref'd or not). */
  queuedImmediates = 0;
  /** Callbacks run since creation (metrics; graceful shutdown reports what it ran). */
  timersRun = 0;
  tasksRun = 0;
  immediatesRun = 0;

  // Node profile bookkeeping.
  readonly knownTimersById = new Map<number, Timeout>();
  readonly #warnings = new DelayWarnings();

  constructor(core: CoreExports, config: LoopConfig, hooks: ErrorHooks) {
    this.config = config;
    this.html = config.profile === "html";
    this.driftFree = config.driftFreeIntervals;
    this.hooks = hooks;
    this.manual = config.manual ? new ManualClock(config.startTime) : undefined;
    this.clock = this.manual ?? new RealClock();
    let status: number;
    try {
      status = core.zl_init(
        config.timersMax,
        config.tasksMax,
        config.microtasksMax,
        config.microtaskRing,
      );
    } catch (error) {
      throw isTrap(error) ? new CoreTrapError("create the loop", error) : error;
    }
    if (status < 0)
      throw new LoopStateError("ERR_LOOP_INIT", `The core refused to start (status ${status}).`);
    this.metricsOn = config.metrics;
    if (config.metrics) core.zl_metrics_enable(1);
    this.core = new CoreBridge(core);
    if (config.onCapacity !== undefined) this.core.onCapacity = config.onCapacity;
    this.micro = new MicrotaskQueue(core, config.microtasksMax);
    this.mirror = new HandleMirror(() =>
      this.core.guard("grow the handle mirror", () =>
        this.core.exports.zl_stat(Stat.handles_capacity),
      ),
    );
    this.setCoreNow(this.clock.nowUs());
    this.metrics = new MetricsRecorder(core, this.micro, this, this.clock.now(), config.metrics);
    if (config.drainHostMicrotasks !== undefined) this.drains.push(config.drainHostMicrotasks);
  }

  /**
   * After close: gives the core to the next loop created from the same module
   * (instance_pool.ts). Every holder here moves onto a frozen stand-in first, so this
   * closed loop answers as before and never reaches the core again. A broken core is
   * never given.
   */
  recycleCore(): void {
    const core = this.core.exports;
    if (this.core.broken !== undefined) return;
    try {
      const frozen = frozenCore(core, PERCENTILES);
      this.core.detach(frozen);
      const jobs = this.micro.detach(frozen);
      this.metrics.detach(frozen);
      giveBack(core, jobs);
    } catch (error) {
      this.core.trapped(error, "close"); // a trap here: the core is not given back
    }
  }

  // ---- reporting -------------------------------------------------------------------

  /** Reports an uncaught error to `onError`; never throws, whatever onError or the error do. */
  report(error: unknown): void {
    reportSafely(this.hooks, error);
  }

  /** `report` as a value (the microtask queue reports a throwing job through it). */
  readonly reportError = (error: unknown): void => reportSafely(this.hooks, error);

  /** Emits a warning to `onWarning`; a throwing hook is reported, never propagated. */
  warn(warning: Error): void {
    try {
      this.hooks.onWarning(warning);
    } catch (error) {
      this.report(error);
    }
  }

  /** The error for scheduling while the loop accepts no work. */
  refuse(action: string): never {
    if (this.core.broken) throw this.core.broken;
    if (this.closed) throw new LoopClosedError(action);
    throw new LoopShuttingDownError(action);
  }

  // ---- queries ---------------------------------------------------------------------

  /** Tasks, immediates or microtasks are queued (or a budget suspended a checkpoint). */
  hasQueuedWork(): boolean {
    return (
      this.suspended || this.tasks.live > 0 || this.queuedImmediates > 0 || this.micro.length > 0
    );
  }

  /**
   * Whether anything keeps the loop alive, as libuv's `uv_loop_alive` decides for Node:
   * ref'd handles, queued tasks and microtasks, a suspended checkpoint or a turn that
   * paused for the host. Unref'd timers and immediates run only while something else does.
   */
  keepsAlive(): boolean {
    return (
      this.live.refs > 0 ||
      this.tasks.live > 0 ||
      this.micro.length > 0 ||
      this.suspended ||
      this.phase !== Phase.none
    );
  }

  /** Pending work, for tests and tools. */
  pending(): {
    timers: number;
    immediates: number;
    tasks: number;
    microtasks: number;
    refs: number;
  } {
    return {
      timers: this.mirror.live - this.queuedImmediates,
      immediates: this.queuedImmediates,
      tasks: this.tasks.live,
      microtasks: this.micro.length,
      refs: this.live.refs,
    };
  }

  // ---- time ------------------------------------------------------------------------

  setCoreNow(nowUs: number): void {
    this.nowUs = nowUs;
    const status = this.core.exports.zl_set_now(nowUs);
    if (status < 0) this.core.fail(status, "set the loop time");
  }

  /** Outside a turn: read the clock once for this host task (real clock). */
  refreshNow(): void {
    if (this.phase !== Phase.none) return;
    if (this.manual === undefined) {
      this.core.guard("read the clock", () => this.setCoreNow(this.clock.nowUs()));
      this.nowValid = true;
      queueHostMicrotask(this.#invalidateNow);
    } else {
      this.nowValid = true;
    }
  }

  // ---- timers ----------------------------------------------------------------------

  /**
   * setTimeout/setInterval. `guest`: the call came from a guest realm (loop/guest.ts); a
   * node-profile Timeout is then returned as that guest's facade.
   */
  addTimer(
    kind: Kind,
    handler: unknown,
    timeout: unknown,
    args: unknown[] | undefined,
    guest?: GuestFacades,
  ): number | object {
    const fn =
      typeof handler === "function"
        ? handler
        : compileHandler(
            timerMethod(kind),
            handler,
            this.html ? this.config.stringHandler : undefined,
            this.html,
          );
    if (this.refusing) this.refuse(timerMethod(kind));
    let delay: number;
    if (this.html) {
      if (typeof timeout === "number") {
        delay = timeout | 0;
        if (delay < 0) delay = 0;
      } else {
        delay = htmlDelay(timeout);
      }
      if (this.nesting > NESTING_LIMIT && delay < NESTING_CLAMP_MS) delay = NESTING_CLAMP_MS;
    } else if (typeof timeout === "number" && timeout >= 1 && timeout <= TIMEOUT_MAX) {
      delay = Math.trunc(timeout);
    } else {
      // `after *= 1` exactly once (a valueOf runs once), then the same rules on the number.
      const after = timeout === undefined ? undefined : (timeout as number) * 1;
      const warning = this.#warnings.check(after);
      if (warning !== undefined) this.warn(warning);
      delay = nodeDelay(after);
    }
    if (!this.nowValid) this.refreshNow();
    const repeating = kind === Kind.interval ? 1 : 0;
    let id: number;
    let start = this.nowUs;
    try {
      if (this.config.startAtCall) {
        start = this.clock.nowUs();
        id = this.core.exports.zl_timer_schedule_at(start, delay, repeating);
      } else {
        id = this.core.timerSchedule(delay, repeating);
      }
    } catch (error) {
      throw this.core.trapped(error, timerMethod(kind));
    }
    if (id < 0) this.core.fail(id, timerMethod(kind));
    let object: Timeout | undefined;
    if (!this.html) object = new Timeout(this, id, fn, args, delay, repeating === 1);
    this.mirror.store(id, kind, fn, args, true, this.nesting + 1, delay, object);
    this.live.retain();
    const driver = this.driver;
    if (driver !== undefined && this.phase === Phase.none)
      driver.arm(start + delay * 1000, this.nowUs);
    if (object === undefined) return id;
    return guest === undefined ? object : guest.facade(object, "timeout");
  }

  clearTimer(id: unknown): void {
    if (this.closed) return;
    if (this.html) {
      const key = typeof id === "number" ? id | 0 : htmlTimerId(id);
      const slot = this.mirror.find(key);
      if (slot < 0 || this.mirror.kinds[slot] === Kind.immediate) return;
      this.#dropTimer(key, slot);
    } else if (id instanceof Timeout) {
      if (id[kOwner] === this) this.timeoutClear(id);
    } else if (typeof id === "number" || typeof id === "string") {
      const timeout = this.knownTimersById.get(Number(id));
      if (timeout !== undefined) this.timeoutClear(timeout);
    }
  }

  /** Cancels the armed or due timer `id` at mirror `slot`. */
  #dropTimer(id: number, slot: number): void {
    const mirror = this.mirror;
    try {
      this.core.timerCancel(id);
    } catch (error) {
      throw this.core.trapped(error, "clear a timer");
    }
    if (mirror.refs[slot] === 1) this.live.release();
    const object = mirror.objects[slot] as Timeout | undefined;
    mirror.clear(slot);
    if (object !== undefined) this.forgetTimeout(object);
  }

  /** A Timeout that will not run again: refresh() becomes a no-op and its number is forgotten. */
  forgetTimeout(timeout: Timeout): void {
    timeout[kCallback] = null;
    if ((timeout[kFlags] & HandleFlag.primitive) !== 0)
      this.knownTimersById.delete(primitiveOf(timeout));
  }

  // ---- node profile handles (HandleOwner) -------------------------------------------

  timeoutRefresh(timeout: Timeout): void {
    if (timeout[kCallback] === null || this.closed) return;
    if (this.stopping) this.refuse("refresh a timer");
    if (!this.nowValid) this.refreshNow();
    const core = this.core;
    const id = timeout[kId];
    if (this.mirror.find(id) >= 0) {
      core.guard("refresh a timer", () => core.exports.zl_timer_refresh(id));
      this.#dropFromTimerBatch(id);
    } else {
      // Fired already. Inside its own batch the core still holds it and re-arms the
      // same id; afterwards it needs a new one. Either way it is live again.
      let revived = id;
      const repeat = (timeout[kFlags] & HandleFlag.repeat) !== 0;
      const status = core.guard("refresh a timer", () => core.exports.zl_timer_refresh(id));
      if (status !== Status.ok) {
        revived = core.guard("refresh a timer", () =>
          core.timerSchedule(timeout[kDelay], repeat ? 1 : 0),
        );
        if (revived < 0) core.fail(revived, "refresh a timer");
        timeout[kId] = revived;
      }
      const kind = repeat ? Kind.interval : Kind.timeout;
      const ref = isRefed(timeout);
      this.mirror.store(
        revived,
        kind,
        timeout[kCallback]!,
        timeout[kArgs],
        ref,
        1,
        timeout[kDelay],
        timeout,
      );
      if (ref) this.live.retain();
    }
    if (this.driver !== undefined && this.phase === Phase.none)
      this.driver.arm(this.nowUs + timeout[kDelay] * 1000, this.nowUs);
  }

  /**
   * A timer collected in the running batch but not yet run was restarted: it must not
   * run now. Rare (Node's refresh() on a timer due in the same turn), so a scan of the
   * rest of the batch is fine; id 0 is never live, so the entry becomes a no-op.
   */
  #dropFromTimerBatch(id: number): void {
    if (this.phase !== Phase.timers) return;
    this.batchDrop(id);
  }

  /** Set by the turn: zeroes `id` in the unread rest of the running timer batch. */
  batchDrop: (id: number) => void = () => {};

  handleSetRef(handle: Timeout | Immediate, ref: boolean): void {
    if (isRefed(handle) === ref) return;
    // An Immediate that ran or was cleared stays unref'd, as Node's (kRefed = null).
    if (handle instanceof Immediate && handle[kId] === 0) return;
    setRefed(handle, ref);
    const slot = this.mirror.find(handle[kId]);
    if (slot < 0 || this.closed) return;
    this.mirror.refs[slot] = ref ? 1 : 0;
    if (ref) this.live.retain();
    else this.live.release();
  }

  timeoutClear(timeout: Timeout): void {
    if (this.closed) return;
    const slot = this.mirror.find(timeout[kId]);
    if (slot >= 0) this.#dropTimer(timeout[kId], slot);
    else this.forgetTimeout(timeout);
  }

  timeoutPrimitive(timeout: Timeout): number {
    if ((timeout[kFlags] & HandleFlag.primitive) === 0) {
      setPrimitive(timeout, timeout[kId]);
      if (this.mirror.find(timeout[kId]) >= 0) this.knownTimersById.set(timeout[kId], timeout);
    }
    return primitiveOf(timeout);
  }

  immediateClear(immediate: Immediate): void {
    this.#clearImmediateId(immediate[kId]);
  }

  // ---- immediates ------------------------------------------------------------------

  addImmediate(
    callback: unknown,
    args: unknown[] | undefined,
    guest?: GuestFacades,
  ): number | object {
    if (typeof callback !== "function") throw handlerTypeError("setImmediate", callback, false);
    if (this.refusing) this.refuse("setImmediate");
    let id: number;
    try {
      id = this.core.exports.zl_immediate_push();
    } catch (error) {
      throw this.core.trapped(error, "setImmediate");
    }
    if (id < 0) this.core.fail(id, "setImmediate");
    const object = this.html ? undefined : new Immediate(this, id);
    this.mirror.store(id, Kind.immediate, callback, args, true, 0, 0, object);
    this.live.retain();
    this.queuedImmediates++;
    if (this.phase === Phase.none) this.driver?.wake();
    if (object === undefined) return id;
    return guest === undefined ? object : guest.facade(object, "immediate");
  }

  clearImmediate(id: unknown): void {
    if (this.closed) return;
    if (id instanceof Immediate) {
      if (id[kOwner] === this) this.#clearImmediateId(id[kId]);
    } else if (typeof id === "number") {
      this.#clearImmediateId(id);
    }
  }

  #clearImmediateId(id: number): void {
    if (this.closed) return;
    const mirror = this.mirror;
    const slot = mirror.find(id);
    if (slot < 0 || mirror.kinds[slot] !== Kind.immediate) return;
    try {
      this.core.exports.zl_immediate_cancel(id);
    } catch (error) {
      throw this.core.trapped(error, "clearImmediate");
    }
    this.queuedImmediates--;
    const object = mirror.objects[slot] as Immediate | undefined;
    if (object !== undefined) {
      object[kId] = 0;
      setRefed(object, false);
    }
    const ref = mirror.refs[slot] === 1;
    mirror.clear(slot);
    if (ref) this.live.release();
  }

  // ---- tasks and microtasks ----------------------------------------------------------

  /** Queues `fn(arg)` (or `fn()`) as a task: submit, I/O deliveries. */
  queueTask(fn: Job, arg: unknown, action: string): void {
    if (this.refusing) this.refuse(action);
    if (this.metricsOn && !this.nowValid) this.refreshNow(); // an accurate enqueue time
    this.#pushTask(fn, arg, 0, action);
  }

  /**
   * Tasks the loop queues for itself (rejection events): accepted past capacity.tasks
   * and while stopping (the core's `force`), so a report is never dropped.
   */
  queueInternalTask(task: () => void): void {
    this.#pushTask(task, undefined, 1, "queue a task");
  }

  #pushTask(fn: Job, arg: unknown, force: number, action: string): void {
    const slot = this.tasks.alloc(fn, arg);
    let status: number;
    try {
      status = this.core.taskPush(slot, force);
    } catch (error) {
      this.tasks.release(slot);
      throw this.core.trapped(error, action);
    }
    if (status < 0) {
      this.tasks.release(slot);
      this.core.fail(status, action);
    }
    if (this.phase === Phase.none) this.driver?.wake();
  }

  /**
   * Queues `job(arg)` (or `job()` when arg is undefined) as a microtask. `force`: a
   * promise job, accepted past capacity.microtasks.
   */
  enqueueJob(job: Job, arg: unknown, force: boolean): void {
    // Rare paths in calls of their own: this body stays small enough for V8 to inline
    // through queueMicrotask's facade into the caller.
    if (this.closed) throw this.#closedError("queue a microtask");
    if (!this.micro.tryPush(job, arg, force)) this.#enqueueJobOverflow(job, arg, force);
    if (!this.checkpointQueued && this.depth === 0 && !this.checkpointing) this.requestCheckpoint();
  }

  /** queueMicrotask's checks, then the job. */
  queueMicrotask(callback: unknown): void {
    if (typeof callback !== "function") throw callbackTypeError(callback);
    this.enqueueJob(callback as Job, undefined, false);
  }

  /** The error for scheduling on a closed loop (the trap that broke it, if one did). */
  #closedError(action: string): Error {
    return this.core.broken ?? new LoopClosedError(action);
  }

  /** What queueMicrotask refuses (a guest's queueMicrotask checks here, then queues in its realm). */
  checkMicrotask(callback: unknown): void {
    if (typeof callback !== "function") {
      throw invalidArgType("callback", "of type function", callback);
    }
    if (this.closed) {
      if (this.core.broken) throw this.core.broken;
      throw new LoopClosedError("queue a microtask");
    }
  }

  /** The ring is full (or its overflow in the core is not empty): the job goes to the core's overflow. */
  #enqueueJobOverflow(job: Job, arg: unknown, force: boolean): void {
    let status: number;
    try {
      status = this.micro.pushOverflow(job, arg, force);
      if (status < 0) this.micro.flush(); // the error reads the core's count
    } catch (error) {
      throw this.core.trapped(error, "queue a microtask");
    }
    if (status < 0) this.core.fail(status, "queue a microtask");
  }
}

function timerMethod(kind: Kind): string {
  return kind === Kind.timeout ? "setTimeout" : "setInterval";
}

/** queueMicrotask's TypeError, built out of line (the hot path only calls it). */
function callbackTypeError(callback: unknown): TypeError {
  return invalidArgType("callback", "of type function", callback);
}
