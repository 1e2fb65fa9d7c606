/**
 * EventLoop: the host side of zigloop. It owns the JS values (callbacks live in
 * slot tables addressed by the integers the core stores), runs turns and
 * microtask checkpoints, applies the profile's timer policy, drives the core from
 * the host runtime (real clock) or on demand (manual clock), and manages the
 * lifecycle.
 *
 * A turn (libuv's `uv_run` iteration, HTML's event loop processing model):
 *   1. read the clock once and pass it to the core;
 *   2. timers: every timer due at that time, in (deadline, start) order;
 *   3. tasks: every task submitted before this phase began;
 *   4. immediates: every immediate queued before this phase began;
 * with a microtask checkpoint after each callback. Timers scheduled during a
 * turn never fire in that turn; tasks and immediates queued during their own
 * phase wait for the next turn.
 *
 * @module
 */

import {
  BATCH_CAPACITY,
  Batch,
  type CoreExports,
  Stat,
  Status,
  TIME_MS_LIMIT,
  TIMERS_MAX_LIMIT,
} from "./core/abi.generated.ts";
import { type Clock, ManualClock, RealClock } from "./loop/clock.ts";
import { HostDriver, hostMacrotask, queueHostMicrotask } from "./loop/host_driver.ts";
import {
  CapacityError,
  ClockModeError,
  CoreTrapError,
  describeValue,
  invalidArgType,
  LoopClosedError,
  LoopLimitError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
  TerminationError,
} from "./errors.ts";
import { HandleMirror, Kind } from "./core/handle_mirror.ts";
import { type LoopMetrics, MetricsRecorder } from "./loop/metrics.ts";
import {
  createPromiseClass,
  type LoopPromiseConstructor,
  type LoopPromiseKit,
  type UnhandledRejectionsMode,
} from "./promise/promise.ts";
import { MicrotaskQueue } from "./core/microtask_queue.ts";
import { isWatchable, LoopWatch, type Watch, type WatchEvent, type WatchOptions } from "./loop/watch.ts";
import { SlotTable } from "./core/slot_table.ts";
import {
  disposeSymbol,
  handlerTypeError,
  htmlDelay,
  Immediate,
  kArgs,
  kCallback,
  kDelay,
  kId,
  kOwner,
  kPrimitive,
  kRefed,
  kRepeat,
  NESTING_CLAMP_MS,
  NESTING_LIMIT,
  nodeDelay,
  nodeDelayWarning,
  type HandleOwner,
  type Profile,
  type StringHandlerCompiler,
  Timeout,
} from "./timers.ts";

/** Capacities of one loop's core. Exhausting one throws a {@linkcode CapacityError}. */
export interface CapacityOptions {
  /** Live timers, intervals and immediates together. Default 4,194,304. */
  timers?: number;
  /** Queued tasks (submit, I/O). Default 4,194,304. */
  tasks?: number;
  /** Queued microtasks and promise jobs. Default 4,194,304. */
  microtasks?: number;
  /** Slots of the microtask ring (a power of two); jobs beyond it overflow into chunks. Default 1024. */
  microtaskRing?: number;
}

/** Options of {@linkcode createEventLoop}. */
export interface EventLoopOptions {
  /** Timer semantics: `"html"` (HTML Standard, the default) or `"node"` (Node.js). */
  profile?: Profile;
  /** `"real"` (host time, the default) or `"manual"` (virtual time moved by advance/next/runAll). */
  clock?: "real" | "manual";
  /** Start of a manual clock, in ms. Default 0. */
  startTime?: number;
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
   * turn and once per host task outside turns, like libuv's `uv_now` (a callback that
   * ran for 30 ms and then schedules a 10 ms timer gets a deadline 10 ms after the turn
   * began). `"call"`: a fresh clock reading at every schedule, HTML's "current high
   * resolution time" (about 45 ns more per call). Manual clocks are the same either way.
   */
  timerStart?: "turn" | "call";
  /** html profile: compiles string handlers (`setTimeout("code")`). Without it they throw TypeError. */
  stringHandler?: StringHandlerCompiler;
  /**
   * Runs a microtask queue the embedder owns, e.g. a `node:vm` context created with
   * `microtaskMode: "afterEvaluate"` (call `new vm.Script("").runInContext(context)`).
   * Called at every checkpoint after the loop's own microtasks, repeatedly until
   * both queues are empty, so native `await` continuations in that context run
   * before the next task, exactly like the loop's own microtasks.
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
  /** Uncaught errors from callbacks and microtasks. Default: report like the runtime and keep running. */
  onError?: (error: unknown) => void;
  /** Warnings (node profile delay coercion). Default: `process.emitWarning`, else console.warn. */
  onWarning?: (warning: Error) => void;
}

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
}

/** What `close()` discarded. */
export interface CloseReport {
  cancelledTimers: number;
  droppedTasks: number;
  droppedMicrotasks: number;
}

/** Options of the synchronous driving calls. */
export interface DriveOptions {
  /** Rounds before a LoopLimitError (a round = one turn, or one time step for runAll). */
  limit?: number;
}

type Callback = (...args: any[]) => unknown;

const PHASE_NONE = 0;
const PHASE_TIMERS = 1;
const PHASE_TASKS = 2;
const PHASE_IMMEDIATES = 3;

const DEFAULT_CAPACITY = 1 << 22;
const UNHANDLED_REJECTION_MODES: readonly string[] = ["html", "throw", "strict", "warn", "warn-with-error-code", "none"];
const DEFAULT_RING = 1024;
const DEFAULT_DRIVE_LIMIT = 100_000;
const DEFAULT_RUN_ALL_LIMIT = 1_000_000;

const hostConsole = (globalThis as { console?: { error(...data: unknown[]): void; warn(...data: unknown[]): void } })
  .console;
const hostProcess = (globalThis as { process?: { emitWarning?(warning: Error): void } }).process;

function defaultWarning(warning: Error): void {
  if (typeof hostProcess?.emitWarning === "function") hostProcess.emitWarning(warning);
  else hostConsole?.warn(`${warning.name}: ${warning.message}`);
}

function hostReport(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  hostConsole?.error(`Uncaught (in a zigloop callback) ${text}`);
}

function sliceArgs(args: IArguments, start: number): unknown[] {
  const out = new Array(args.length - start);
  for (let i = start; i < args.length; i++) out[i - start] = args[i];
  return out;
}

function isTrap(error: unknown): boolean {
  return typeof WebAssembly === "object" && error instanceof WebAssembly.RuntimeError;
}

/**
 * One event loop with its own WebAssembly core. Create it with
 * {@linkcode createEventLoop} (async) or {@linkcode createEventLoopSync}.
 *
 * @example
 * ```ts
 * import { createEventLoop } from "zigloop";
 * const loop = await createEventLoop({ clock: "manual" });
 * loop.setTimeout(() => console.log("one second later"), 1000);
 * loop.advance(1000); // logs, instantly
 * ```
 */
export class EventLoop extends EventTarget implements HandleOwner {
  /** The timer semantics this loop follows. */
  readonly profile: Profile;
  /** Whether time is virtual (moved only by advance/next/runAll/runToLast). */
  readonly manualClock: boolean;
  /** Receives uncaught errors from callbacks and microtasks. */
  onError: (error: unknown) => void;
  /** Receives warnings (node profile delay coercion). */
  onWarning: (warning: Error) => void;
  /** 1 once an error was reported by the default onError (what a CLI should exit with). */
  exitCode = 0;

  readonly #html: boolean;
  readonly #clock: Clock;
  readonly #manual: ManualClock | undefined;
  readonly #budget: number;
  readonly #stringHandler: StringHandlerCompiler | undefined;
  readonly #drainHost: (() => void) | undefined;
  readonly #startAtCall: boolean;
  readonly #promiseOptions: { unhandledRejections: UnhandledRejectionsMode; trackCreation: boolean };
  #promiseKit: LoopPromiseKit | undefined;
  readonly #metrics: MetricsRecorder;
  #metricsOn: boolean;
  /** Most callbacks collected per core call (smaller when metrics re-read the clock per group). */
  readonly #collectMax: number;
  readonly #metricsClock: boolean;

  // The core and its hot exports (called through fields: no property lookups).
  readonly #core: CoreExports;
  readonly #memory: WebAssembly.Memory;
  #buffer: ArrayBufferLike;
  #timerBatch: Uint32Array;
  #taskBatch: Uint32Array;
  #immediateBatch: Uint32Array;
  readonly #timerSchedule: (delay: number, repeating: number) => number;
  readonly #timerCancel: (id: number) => number;
  readonly #taskPush: (slot: number, force: number) => number;

  // JS values, addressed by the integers the core stores.
  readonly #mirror: HandleMirror;
  readonly #tasks = new SlotTable();
  readonly #micro: MicrotaskQueue;

  // Lifecycle.
  #closed = false;
  #stopping = false;
  /** closed || stopping: one check on the scheduling hot paths. */
  #refusing = false;
  #broken: CoreTrapError | undefined;
  #shutdown: Promise<ShutdownReport> | undefined;
  #closeReport: CloseReport | undefined;

  // The turn in progress (resumable when a microtask budget suspends it).
  #phase = PHASE_NONE;
  #pos = 0;
  #len = 0;
  #oneTimer = false;
  #timersDone = false;
  #tasksBegun = false;
  #immediatesBegun = false;
  #depth = 0;
  #checkpointing = false;
  #suspended = false;
  /** HTML timer nesting level of the running task (0 outside timer tasks). */
  #nesting = 0;
  #thisArg: unknown = globalThis;

  // Time.
  #now = 0;
  #nowValid = false;
  #invalidateNow = (): void => {
    this.#nowValid = false;
  };

  // Liveness.
  #refTimers = 0;
  #refImmediates = 0;
  #queuedImmediates = 0;
  #refOther = 0;
  #watchers = 0;
  /** Tasks and immediates run since creation (graceful shutdown reports what it ran). */
  #tasksRun = 0;
  #immediatesRun = 0;
  readonly #watches = new Set<LoopWatch>();
  #driver: HostDriver | undefined;
  #waiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  #checkpointQueued = false;
  #refSyncQueued = false;
  #syncRefs = (): void => {
    this.#refSyncQueued = false;
    if (this.#closed) return;
    this.#driver!.setTimerRef(this.#refTimers > 0);
    if (this.#waiters.length > 0 && this.#isIdle()) this.#driver!.wake();
  };
  /** #report as a value: the microtask queue's runJobs reports a throwing job through it. */
  readonly #reportError = (error: unknown): void => this.#report(error);

  #hostCheckpoint = (): void => {
    this.#checkpointQueued = false;
    if (this.#closed || this.#phase !== PHASE_NONE || this.#depth > 0) return;
    if (this.#metricsOn) this.#metrics.busyStart(this.#clock.now());
    try {
      this.#guard("run a microtask checkpoint", () => {
        this.#depth++;
        let done: boolean;
        try {
          done = this.#checkpoint(true);
        } finally {
          this.#depth--;
        }
        if (!done) this.#driver?.wake();
        this.#rearm();
      });
    } catch (error) {
      if (!this.#broken) this.#report(error); // see #hostTurn
    }
    if (this.#metricsOn) this.#metrics.busyEnd(this.#clock.now());
    this.#checkIdle();
  };

  // Node profile bookkeeping.
  #knownTimersById = new Map<number, Timeout>();
  #warnedNegative = false;
  #warnedNaN = false;

  /** @internal Use createEventLoop / createEventLoopSync. */
  constructor(core: CoreExports, options: EventLoopOptions = {}) {
    super();
    if (options === null || typeof options !== "object") {
      throw optionsError(`options must be an object, got ${describeValue(options)}.`);
    }
    const profile = options.profile ?? "html";
    if (profile !== "html" && profile !== "node") {
      throw new TypeError(`Unknown profile ${describeValue(profile)}: expected "html" or "node".`);
    }
    const clock = options.clock ?? "real";
    if (clock !== "real" && clock !== "manual") {
      throw new TypeError(`Unknown clock ${describeValue(clock)}: expected "real" or "manual".`);
    }
    const budget = options.microtaskBudget ?? Infinity;
    if (!(budget >= 1)) throw new RangeError(`microtaskBudget must be at least 1, got ${describeValue(budget)}.`);
    if (options.stringHandler !== undefined && typeof options.stringHandler !== "function") {
      throw invalidArgType("stringHandler", "a function", options.stringHandler);
    }
    this.profile = profile;
    this.#html = profile === "html";
    this.manualClock = clock === "manual";
    this.#budget = budget;
    this.#stringHandler = options.stringHandler;
    if (options.drainHostMicrotasks !== undefined && typeof options.drainHostMicrotasks !== "function") {
      throw invalidArgType("drainHostMicrotasks", "a function", options.drainHostMicrotasks);
    }
    this.#drainHost = options.drainHostMicrotasks;
    const timerStart = options.timerStart ?? "turn";
    if (timerStart !== "turn" && timerStart !== "call") {
      throw new TypeError(`Unknown timerStart ${describeValue(timerStart)}: expected "turn" or "call".`);
    }
    this.#startAtCall = timerStart === "call" && clock === "real";
    const unhandledRejections = options.unhandledRejections ?? (profile === "node" ? "throw" : "html");
    if (!UNHANDLED_REJECTION_MODES.includes(unhandledRejections)) {
      throw new TypeError(
        `unhandledRejections must be one of ${UNHANDLED_REJECTION_MODES.join(", ")}; got ${describeValue(unhandledRejections)}.`,
      );
    }
    this.#promiseOptions = { unhandledRejections, trackCreation: options.trackPromiseCreation === true };
    for (const hook of ["onError", "onWarning"] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== "function") {
        throw invalidArgType(hook, "a function", options[hook]);
      }
    }
    this.onError = options.onError ?? ((error) => {
      this.exitCode = 1;
      hostReport(error);
    });
    this.onWarning = options.onWarning ?? defaultWarning;

    if (this.manualClock) {
      const start = options.startTime ?? 0;
      if (typeof start !== "number" || !(start >= 0) || !(start <= TIME_MS_LIMIT)) {
        throw new RangeError(
          `startTime must be a finite number >= 0 and at most ${TIME_MS_LIMIT} (ms, the core's clock range), got ${describeValue(start)}.`,
        );
      }
      this.#manual = new ManualClock(start);
      this.#clock = this.#manual;
    } else {
      this.#clock = new RealClock();
    }

    this.#core = core;
    this.#memory = core.memory;
    const capacity = options.capacity ?? {};
    if (capacity === null || typeof capacity !== "object") {
      throw optionsError(`capacity must be an object, got ${describeValue(capacity)}.`);
    }
    let status: number;
    try {
      status = core.zl_init(
        capacityOption(capacity.timers, "timers", TIMERS_MAX_LIMIT),
        capacityOption(capacity.tasks, "tasks"),
        capacityOption(capacity.microtasks, "microtasks"),
        ringOption(capacity.microtaskRing),
      );
    } catch (error) {
      throw isTrap(error) ? new CoreTrapError("create the loop", error) : error;
    }
    if (status < 0) throw new LoopStateError("ERR_LOOP_INIT", `The core refused to start (status ${status}).`);
    this.#metricsOn = options.metrics !== undefined && options.metrics !== false;
    if (this.#metricsOn) core.zl_metrics_enable(1);
    const group = typeof options.metrics === "object" ? (options.metrics.latencyGroup ?? 64) : 64;
    if (!Number.isInteger(group) || group < 1 || group > BATCH_CAPACITY) {
      throw new RangeError(`metrics.latencyGroup must be an integer from 1 to ${BATCH_CAPACITY}, got ${describeValue(group)}.`);
    }
    this.#metricsClock = this.#metricsOn && !this.manualClock;
    this.#collectMax = this.#metricsClock ? group : BATCH_CAPACITY;
    this.#timerSchedule = core.zl_timer_schedule;
    this.#timerCancel = core.zl_timer_cancel;
    this.#taskPush = core.zl_task_push;
    this.#buffer = this.#memory.buffer;
    this.#timerBatch = this.#batchView(Batch.timers);
    this.#taskBatch = this.#batchView(Batch.tasks);
    this.#immediateBatch = this.#batchView(Batch.immediates);
    this.#micro = new MicrotaskQueue(core, capacityOption(capacity.microtasks, "microtasks"));
    this.#mirror = new HandleMirror(() => this.#guard("grow the handle mirror", () => core.zl_stat(Stat.handles_capacity)));
    this.#setCoreNow(this.#clock.now());
    this.#metrics = new MetricsRecorder(core, this.#micro, this.#now);
    if (!this.manualClock) {
      this.#driver = new HostDriver(() => this.#hostTurn(), () => this.#hostTurn());
    }
  }

  // ---- observation ---------------------------------------------------------------

  /** The lifecycle state. */
  get state(): LoopState {
    if (this.#broken) return "broken";
    if (this.#closed) return "closed";
    if (this.#stopping) return "stopping";
    return this.#depth > 0 || this.#phase !== PHASE_NONE ? "running" : "idle";
  }

  /**
   * The loop dispatches `unhandledrejection` and `rejectionhandled` from its own tasks.
   * A listener that throws must not reach the host (in Node an EventTarget listener's
   * exception becomes an uncaughtException): listeners are wrapped so that what they
   * throw goes to `onError`, like any other callback's error.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    super.addEventListener(type, listener === null ? null : this.#wrapListener(type, listener, options), options);
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void {
    const wrapper = listener === null ? undefined : this.#listenerWrappers.get(listener)?.get(listenerKey(type, options));
    super.removeEventListener(type, wrapper ?? listener, options);
  }

  readonly #listenerWrappers = new WeakMap<object, Map<string, EventListener>>();

  #wrapListener(type: string, listener: EventListenerOrEventListenerObject, options?: AddEventListenerOptions | boolean): EventListener {
    let byKey = this.#listenerWrappers.get(listener);
    if (byKey === undefined) this.#listenerWrappers.set(listener, (byKey = new Map()));
    const key = listenerKey(type, options);
    let wrapper = byKey.get(key);
    if (wrapper === undefined) {
      const loop = this;
      wrapper = function (this: unknown, event: Event): void {
        try {
          if (typeof listener === "function") listener.call(loop, event);
          else listener.handleEvent(event);
        } catch (error) {
          loop.#report(error);
        }
      };
      byKey.set(key, wrapper);
    }
    return wrapper;
  }

  /** Current loop time in ms: since creation (real clock) or the virtual time (manual). */
  now(): number {
    return this.#clock.now();
  }

  /**
   * The loop's Promise class: spec-complete (ECMA-262 §27.2, Promises/A+), with its
   * reactions on this loop's microtask queue, FIFO with `queueMicrotask`, and
   * unhandled rejections tracked per HTML (events `unhandledrejection` and
   * `rejectionhandled` on the loop) or Node's modes. Created on first use.
   */
  get Promise(): LoopPromiseConstructor {
    return (this.#promiseKit ??= this.#createPromiseKit()).Promise;
  }

  #createPromiseKit(): LoopPromiseKit {
    const kit = createPromiseClass(
      {
        enqueueJob: (job, arg) => this.#enqueuePromiseJob(job, arg),
        reportError: (error) => this.#report(error),
        queueTask: (task) => this.#queueInternalTask(task),
        dispatchEvent: (event) => this.dispatchEvent(event),
        warn: (message, detail) => {
          const warning = new Error(message);
          const name = (detail as { name?: unknown } | undefined)?.name;
          warning.name = typeof name === "string" ? name : "Warning";
          try {
            this.onWarning(warning);
          } catch (error) {
            this.#report(error);
          }
        },
        setExitCode: (code) => {
          this.exitCode = code;
        },
      },
      this.#promiseOptions,
    );
    // A rejection outside any checkpoint (top-level code) must still be reported.
    kit.tracker.onPending = () => this.#notificationPending();
    // Same for the shutdown registry's nursery: promoted to weak entries at the end of a checkpoint.
    kit.onNurseryStart = () => this.#notificationPending();
    // Created after the loop closed: waits on new pending promises must not hang. (During
    // a graceful shutdown's drain, the final termination reaches and counts them.)
    if (this.#closed) kit.terminatePending(new TerminationError());
    return kit;
  }

  /**
   * A rejection is waiting for the end of a checkpoint. Inside a turn or checkpoint
   * that comes by itself; outside one (top-level code), make one happen: on a real
   * clock a host microtask checkpoint, on a manual clock the next driving call.
   */
  #notificationPending(): void {
    if (this.#depth > 0 || this.#checkpointing || this.#closed) return;
    if (!this.manualClock && !this.#checkpointQueued) {
      this.#checkpointQueued = true;
      queueHostMicrotask(this.#hostCheckpoint);
    }
  }

  /**
   * Promise jobs: on the loop's queue while it runs. After close they go to the host's
   * own microtask queue, so awaiting a loop promise never hangs on a closed loop.
   */
  #enqueuePromiseJob(job: (arg: any) => void, arg: unknown): void {
    if (this.#closed) {
      queueHostMicrotask(() => job(arg));
      return;
    }
    this.#enqueueJob(job, arg, true);
  }

  /**
   * Tasks the loop queues for itself (rejection events): accepted past capacity.tasks
   * and while stopping (the core's `force`), so a report is never dropped.
   */
  #queueInternalTask(task: () => void): void {
    if (this.#closed) {
      void hostMacrotask().then(task);
      return;
    }
    const slot = this.#tasks.alloc(task, undefined);
    const status = this.#guard("queue a task", () => this.#taskPush(slot, 1));
    if (status < 0) {
      this.#tasks.release(slot);
      this.#fail(status, "queue a task");
    }
    if (this.#phase === PHASE_NONE) this.#driver?.wake();
  }

  /**
   * A snapshot of the loop's metrics. Counts and queue depths are always kept;
   * latency histograms, throughput and utilization need `metrics: true`.
   */
  metrics(): LoopMetrics {
    if (this.#broken) throw this.#broken;
    this.#micro.flush();
    const refs = this.#refTimers + this.#refImmediates + this.#refOther;
    return this.#guard("read the metrics", () => this.#metrics.snapshot(this.#clock.now(), refs, this.#watchers));
  }

  /** Starts a new metrics window: counters, peaks (to current depths), histograms, rates. */
  resetMetrics(): void {
    if (this.#broken) throw this.#broken;
    if (this.#closed) return;
    this.#guard("reset the metrics", () => this.#metrics.reset(this.#clock.now()));
  }

  /** Counts of pending work, for tests and tools. */
  get pending(): { timers: number; immediates: number; tasks: number; microtasks: number; refs: number } {
    return {
      timers: this.#mirror.live - this.#queuedImmediates,
      immediates: this.#queuedImmediates,
      tasks: this.#tasks.live,
      microtasks: this.#micro.length,
      refs: this.#refTimers + this.#refImmediates + this.#refOther,
    };
  }

  /**
   * Checks every invariant of the core's structures; returns 0, or the code of the
   * first structure found corrupt (see `Invariant` in the generated ABI).
   */
  verifyCore(): number {
    if (this.#broken) throw this.#broken;
    this.#micro.flush();
    return this.#guard("verify the core", () => this.#core.zl_verify());
  }

  /** A raw core statistic (see `Stat`); for metrics and tests. */
  coreStat(stat: number): number {
    if (this.#broken) throw this.#broken;
    this.#micro.flush();
    return this.#guard("read a core statistic", () => this.#core.zl_stat(stat));
  }

  // ---- timers --------------------------------------------------------------------

  /**
   * Runs `handler` after `timeout` ms. html profile: returns a positive integer id;
   * node profile: a {@linkcode Timeout}.
   * @throws {TypeError} when `handler` is not callable (strings only with `stringHandler`).
   * @throws {CapacityError} when `capacity.timers` is reached.
   * @throws {LoopClosedError | LoopShuttingDownError} when the loop accepts no work.
   */
  setTimeout(handler: Callback | string, timeout?: unknown, ...args: unknown[]): any;
  setTimeout(handler: Callback | string, timeout?: unknown): any {
    return this.#addTimer(Kind.timeout, handler, timeout, arguments.length > 2 ? sliceArgs(arguments, 2) : undefined);
  }

  /** Like setTimeout, repeating every `timeout` ms (drift-free; missed beats are skipped). */
  setInterval(handler: Callback | string, timeout?: unknown, ...args: unknown[]): any;
  setInterval(handler: Callback | string, timeout?: unknown): any {
    return this.#addTimer(Kind.interval, handler, timeout, arguments.length > 2 ? sliceArgs(arguments, 2) : undefined);
  }

  /** Cancels a timeout or interval (they share one id space). Unknown or stale ids: nothing. */
  clearTimeout(id?: unknown): void {
    this.#clearTimer(id);
  }

  /** Same as clearTimeout. */
  clearInterval(id?: unknown): void {
    this.#clearTimer(id);
  }

  #addTimer(kind: Kind, handler: unknown, timeout: unknown, args: unknown[] | undefined): number | Timeout {
    const fn = typeof handler === "function" ? handler : this.#compileHandler(timerMethod(kind), handler);
    if (this.#refusing) this.#refuse(timerMethod(kind));
    let delay: number;
    if (this.#html) {
      if (typeof timeout === "number") {
        delay = timeout | 0;
        if (delay < 0) delay = 0;
      } else {
        delay = htmlDelay(timeout);
      }
      if (this.#nesting > NESTING_LIMIT && delay < NESTING_CLAMP_MS) delay = NESTING_CLAMP_MS;
    } else if (typeof timeout === "number" && timeout >= 1 && timeout <= 2147483647) {
      delay = Math.trunc(timeout);
    } else {
      // `after *= 1` exactly once (a valueOf runs once), then the same rules on the number.
      const after = timeout === undefined ? undefined : (timeout as number) * 1;
      this.#nodeWarn(after);
      delay = nodeDelay(after);
    }
    if (!this.#nowValid) this.#refreshNow();
    const repeating = kind === Kind.interval;
    let id: number;
    let start = this.#now;
    try {
      if (this.#startAtCall) {
        start = this.#clock.now();
        id = this.#core.zl_timer_schedule_at(start, delay, repeating ? 1 : 0);
      } else {
        id = this.#timerSchedule(delay, repeating ? 1 : 0);
      }
    } catch (error) {
      throw this.#trapped(error, timerMethod(kind));
    }
    if (id < 0) this.#fail(id, timerMethod(kind));
    let object: Timeout | undefined;
    if (!this.#html) object = new Timeout(this, id, fn, args, delay, repeating);
    this.#mirror.store(id, kind, fn, args, true, this.#nesting + 1, delay, object);
    if (this.#refTimers++ === 0) this.#refsChanged();
    const driver = this.#driver;
    if (driver !== undefined && this.#phase === PHASE_NONE) driver.arm(start + delay, this.#now);
    return object ?? id;
  }

  #clearTimer(id: unknown): void {
    if (this.#closed) return;
    if (this.#html) {
      const key = typeof id === "number" ? id | 0 : htmlTimerId(id);
      const slot = this.#mirror.find(key);
      if (slot < 0 || this.#mirror.kinds[slot] === Kind.immediate) return;
      this.#dropTimer(key, slot);
    } else if (id instanceof Timeout) {
      if (id[kOwner] === this) this._timeoutClear(id);
    } else if (typeof id === "number" || typeof id === "string") {
      const timeout = this.#knownTimersById.get(Number(id));
      if (timeout !== undefined) this._timeoutClear(timeout);
    }
  }

  /** Cancels the armed or due timer `id` at mirror `slot`. */
  #dropTimer(id: number, slot: number): void {
    const mirror = this.#mirror;
    try {
      this.#timerCancel(id);
    } catch (error) {
      throw this.#trapped(error, "clear a timer");
    }
    if (mirror.refs[slot] === 1) this.#unrefTimer();
    const object = mirror.objects[slot] as Timeout | undefined;
    mirror.clear(slot);
    if (object !== undefined) this.#forgetTimeout(object);
  }

  #unrefTimer(): void {
    if (--this.#refTimers === 0) this.#refsChanged();
  }

  /**
   * The ref'd-timer count crossed zero. Telling the host (Node's toggleTimerRef, a
   * C++ call) on every crossing would dominate a setTimeout/clearTimeout pair, so
   * the host timer's ref state is synced once, at the end of the current host task.
   */
  #refsChanged(): void {
    if (this.#driver === undefined || this.#refSyncQueued) return;
    this.#refSyncQueued = true;
    queueHostMicrotask(this.#syncRefs);
  }

  #forgetTimeout(timeout: Timeout): void {
    timeout[kCallback] = null;
    if (timeout[kPrimitive] !== 0) this.#knownTimersById.delete(timeout[kPrimitive]);
  }

  #compileHandler(method: string, handler: unknown): Callback {
    if (this.#html && this.#stringHandler !== undefined) {
      // TimerHandler is (Function or DOMString): anything not callable is converted
      // with ToString (which may throw) and compiled.
      // A template literal is ToString exactly (hint "string"; a Symbol throws TypeError).
      const compiled = this.#stringHandler(`${handler as string}`);
      if (typeof compiled !== "function") {
        throw new TypeError(`${method}: stringHandler returned ${describeValue(compiled)} instead of a function.`);
      }
      return compiled;
    }
    throw handlerTypeError(method, handler, this.#stringHandler !== undefined);
  }

  #nodeWarn(timeout: unknown): void {
    const warning = nodeDelayWarning(timeout);
    if (warning === undefined) return;
    if (warning.name === "TimeoutNegativeWarning") {
      if (this.#warnedNegative) return;
      this.#warnedNegative = true;
    } else if (warning.name === "TimeoutNaNWarning") {
      if (this.#warnedNaN) return;
      this.#warnedNaN = true;
    }
    const error = new Error(warning.message);
    error.name = warning.name;
    try {
      this.onWarning(error);
    } catch (thrown) {
      this.#report(thrown);
    }
  }

  // ---- Node profile handle objects (HandleOwner) ------------------------------------

  /** @internal */
  _timeoutRefresh(timeout: Timeout): void {
    if (timeout[kCallback] === null || this.#closed) return;
    if (this.#stopping) this.#refuse("refresh a timer");
    if (!this.#nowValid) this.#refreshNow();
    const mirror = this.#mirror;
    const id = timeout[kId];
    if (mirror.find(id) >= 0) {
      this.#guard("refresh a timer", () => this.#core.zl_timer_refresh(id));
      this.#dropFromTimerBatch(id);
    } else {
      // Fired already. Inside its own batch the core still holds it and re-arms the
      // same id; afterwards it needs a new one. Either way it is live again.
      let revived = id;
      const status = this.#guard("refresh a timer", () => this.#core.zl_timer_refresh(id));
      if (status !== Status.ok) {
        revived = this.#guard("refresh a timer", () => this.#timerSchedule(timeout[kDelay], timeout[kRepeat] ? 1 : 0));
        if (revived < 0) this.#fail(revived, "refresh a timer");
        timeout[kId] = revived;
      }
      const kind = timeout[kRepeat] ? Kind.interval : Kind.timeout;
      mirror.store(revived, kind, timeout[kCallback]!, timeout[kArgs], timeout[kRefed], 1, timeout[kDelay], timeout);
      if (timeout[kRefed] && this.#refTimers++ === 0) this.#refsChanged();
    }
    if (this.#driver !== undefined && this.#phase === PHASE_NONE) {
      this.#driver.arm(this.#now + timeout[kDelay], this.#now);
    }
  }

  /**
   * A timer collected in the running batch but not yet run was restarted: it must not
   * run now. Rare (Node's refresh() on a timer due in the same turn), so a scan of the
   * rest of the batch is fine; id 0 is never live, so the entry becomes a no-op.
   */
  #dropFromTimerBatch(id: number): void {
    if (this.#phase !== PHASE_TIMERS) return;
    if (this.#timerBatch.length === 0) this.#refreshViews();
    for (let i = this.#pos; i < this.#len; i++) {
      if (this.#timerBatch[i] === id) this.#timerBatch[i] = 0;
    }
  }

  /** @internal */
  _timeoutSetRef(timeout: Timeout, ref: boolean): void {
    if (timeout[kRefed] === ref) return;
    timeout[kRefed] = ref;
    const slot = this.#mirror.find(timeout[kId]);
    if (slot < 0 || this.#closed) return;
    this.#mirror.refs[slot] = ref ? 1 : 0;
    if (ref) {
      if (this.#refTimers++ === 0) this.#refsChanged();
    } else {
      this.#unrefTimer();
    }
  }

  /** @internal */
  _timeoutClear(timeout: Timeout): void {
    if (this.#closed) return;
    const slot = this.#mirror.find(timeout[kId]);
    if (slot >= 0) this.#dropTimer(timeout[kId], slot);
    else this.#forgetTimeout(timeout);
  }

  /** @internal */
  _timeoutPrimitive(timeout: Timeout): number {
    if (timeout[kPrimitive] === 0) {
      timeout[kPrimitive] = timeout[kId];
      if (this.#mirror.find(timeout[kId]) >= 0) this.#knownTimersById.set(timeout[kId], timeout);
    }
    return timeout[kPrimitive];
  }

  /** @internal */
  _immediateSetRef(immediate: Immediate, ref: boolean): void {
    if (immediate[kRefed] === ref) return;
    immediate[kRefed] = ref;
    const slot = this.#mirror.find(immediate[kId]);
    if (slot < 0 || this.#closed) return;
    this.#mirror.refs[slot] = ref ? 1 : 0;
    this.#refImmediates += ref ? 1 : -1;
    if (!ref && this.#refImmediates === 0 && this.#waiters.length > 0) this.#driver?.wake();
  }

  /** @internal */
  _immediateClear(immediate: Immediate): void {
    this.#clearImmediateId(immediate[kId]);
  }

  // ---- immediates, tasks, microtasks -------------------------------------------------

  /**
   * Runs `callback(...args)` in the immediates phase of the next turn (Node's check
   * phase). html profile: returns an id; node profile: an {@linkcode Immediate}.
   */
  setImmediate(callback: Callback, ...args: unknown[]): any;
  setImmediate(callback: Callback): any {
    if (typeof callback !== "function") throw handlerTypeError("setImmediate", callback, false);
    if (this.#refusing) this.#refuse("setImmediate");
    const args = arguments.length > 1 ? sliceArgs(arguments, 1) : undefined;
    let id: number;
    try {
      id = this.#core.zl_immediate_push();
    } catch (error) {
      throw this.#trapped(error, "setImmediate");
    }
    if (id < 0) this.#fail(id, "setImmediate");
    const object = this.#html ? undefined : new Immediate(this, id);
    this.#mirror.store(id, Kind.immediate, callback, args, true, 0, 0, object);
    this.#refImmediates++;
    this.#queuedImmediates++;
    if (this.#phase === PHASE_NONE) this.#driver?.wake();
    return object ?? id;
  }

  /** Cancels an immediate. Unknown or stale ids: nothing. */
  clearImmediate(id?: unknown): void {
    if (this.#closed) return;
    if (id instanceof Immediate) {
      if (id[kOwner] === this) this.#clearImmediateId(id[kId]);
    } else if (typeof id === "number") {
      this.#clearImmediateId(id);
    }
  }

  #clearImmediateId(id: number): void {
    if (this.#closed) return;
    const mirror = this.#mirror;
    const slot = mirror.find(id);
    if (slot < 0 || mirror.kinds[slot] !== Kind.immediate) return;
    try {
      this.#core.zl_immediate_cancel(id);
    } catch (error) {
      throw this.#trapped(error, "clearImmediate");
    }
    if (mirror.refs[slot] === 1) this.#refImmediates--;
    this.#queuedImmediates--;
    const object = mirror.objects[slot] as Immediate | undefined;
    if (object !== undefined) object[kId] = 0;
    mirror.clear(slot);
    if (this.#refImmediates === 0 && this.#waiters.length > 0) this.#driver?.wake();
  }

  /**
   * Queues `callback` on the loop's microtask queue (FIFO with promise jobs).
   * @throws {TypeError} when `callback` is not callable.
   */
  queueMicrotask(callback: () => void): void {
    if (typeof callback !== "function") {
      throw invalidArgType("callback", "of type function", callback);
    }
    this.#enqueueJob(callback, undefined, false);
  }

  /**
   * Queues `job(arg)` (or `job()` when arg is undefined) as a microtask. `force`: a
   * promise job, accepted past capacity.microtasks.
   */
  #enqueueJob(job: (arg?: any) => void, arg: unknown, force: boolean): void {
    if (this.#closed) {
      if (this.#broken) throw this.#broken;
      throw new LoopClosedError("queue a microtask");
    }
    if (!this.#micro.tryPush(job, arg, force)) this.#enqueueJobOverflow(job, arg, force);
    // Checked first: after the first job of a burst a host checkpoint is already queued.
    if (!this.#checkpointQueued && this.#depth === 0 && !this.#checkpointing && !this.manualClock) {
      this.#checkpointQueued = true;
      queueHostMicrotask(this.#hostCheckpoint);
    }
  }

  /** The ring is full (or its overflow in the core is not empty): the job goes to the core's overflow. */
  #enqueueJobOverflow(job: (arg?: any) => void, arg: unknown, force: boolean): void {
    let status: number;
    try {
      status = this.#micro.pushOverflow(job, arg, force);
    } catch (error) {
      throw this.#trapped(error, "queue a microtask");
    }
    if (status < 0) this.#fail(status, "queue a microtask");
  }

  /**
   * Queues `task` as a macrotask: it runs in the tasks phase of the next turn,
   * followed by a microtask checkpoint.
   */
  submit(task: () => void): void {
    if (typeof task !== "function") throw invalidArgType("task", "of type function", task);
    this.#queueTask(task, undefined, "submit a task");
  }

  /** @internal Queues `fn(arg)` (or `fn()`) as a task; used by submit, I/O watches and rejection events. */
  queueTask(fn: (arg?: any) => void, arg: unknown, action = "queue a task"): void {
    this.#queueTask(fn, arg, action);
  }

  #queueTask(fn: (arg?: any) => void, arg: unknown, action: string): void {
    if (this.#refusing) this.#refuse(action);
    if (this.#metricsOn && !this.#nowValid) this.#refreshNow(); // an accurate enqueue time
    const slot = this.#tasks.alloc(fn, arg);
    let status: number;
    try {
      status = this.#taskPush(slot, 0);
    } catch (error) {
      this.#tasks.release(slot);
      throw this.#trapped(error, action);
    }
    if (status < 0) {
      this.#tasks.release(slot);
      this.#fail(status, action);
    }
    if (this.#phase === PHASE_NONE) this.#driver?.wake();
  }

  // ---- I/O readiness ----------------------------------------------------------------

  /**
   * Delivers readiness from a host I/O source as loop tasks: `callback(event)` runs
   * as a task (with its microtask checkpoint, counted in metrics) for each event.
   * Sources: Node streams/sockets/emitters (default events readable, writable, end,
   * error, close), any EventTarget (`options.events` required), web ReadableStreams
   * (`data` per chunk, then `end`). See src-ts/watch.ts for coalescing and closing.
   * @returns A handle with close(), ref(), unref(); a ref'd watch keeps run() alive.
   * @throws {TypeError} for a source that is none of those, or a non-callable callback.
   */
  watch(source: unknown, callback: (event: WatchEvent) => void, options: WatchOptions = {}): Watch {
    if (!isWatchable(source)) {
      throw invalidArgType("source", "a Node stream or emitter, an EventTarget or a ReadableStream", source);
    }
    if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
    if (options === null || typeof options !== "object") {
      throw optionsError(`options must be an object, got ${describeValue(options)}.`);
    }
    if (options.events !== undefined && (!Array.isArray(options.events) || options.events.some((e) => typeof e !== "string"))) {
      throw invalidArgType("options.events", "an array of event type strings", options.events);
    }
    if (this.#refusing) this.#refuse("watch an I/O source");
    const watch = new LoopWatch(
      {
        queueTask: (fn, record) => this.#queueTask(fn, record, "deliver an I/O event"),
        report: (error) => this.#report(error),
        forget: (closed) => this.#watches.delete(closed),
        watchCountChanged: (delta, refDelta) => {
          this.#watchers += delta;
          this.#refOther += refDelta;
          if (this.#refOther === 0 && refDelta < 0 && this.#waiters.length > 0) this.#driver?.wake();
        },
      },
      source,
      callback,
      options,
    );
    this.#watches.add(watch);
    return watch;
  }

  /** Close: watches end and drop what they queued. Shutdown: they stop listening only. */
  #closeWatches(drop = true): void {
    for (const watch of [...this.#watches]) {
      if (drop) watch.close();
      else watch.stopListening();
    }
  }

  // ---- running ---------------------------------------------------------------------

  /**
   * Resolves when nothing ref'd is left (no ref'd timers, queued tasks, immediates
   * or microtasks), or once the loop is closed. Real clock: the loop runs from the
   * host's event loop; this only waits. Manual clock: runs everything, moving
   * virtual time from deadline to deadline, yielding to the host between turns so
   * native promise continuations can run.
   * @throws {ReentrancyError} (as a rejection) when called from inside a loop callback.
   */
  run(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#closed) return Promise.reject(new LoopClosedError("run the loop"));
    if (this.#depth > 0) return Promise.reject(new ReentrancyError("await loop.run()"));
    if (this.manualClock) return this.#runVirtual();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#rearm();
      this.#driver!.wake();
    });
  }

  /**
   * Synchronously runs everything runnable now: due timers, tasks, immediates and
   * microtasks, turn after turn, until nothing is runnable at the current time.
   * Does not move a manual clock.
   * @throws {LoopLimitError} after `limit` turns (default 100,000).
   */
  runUntilIdle(options?: DriveOptions): void {
    this.#assertDrivable("runUntilIdle()");
    this.#drainNow("runUntilIdle()", limitOption(options, DEFAULT_DRIVE_LIMIT));
  }

  /**
   * Manual clock: moves time forward by `ms`, firing every timer that falls due, in
   * order, each at its own deadline and with its microtask checkpoint. Returns the new time.
   */
  advance(ms: number, options?: DriveOptions): number {
    this.#assertManual("advance");
    this.#assertDrivable("advance()");
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(`advance(ms): ms must be a finite number >= 0, got ${describeValue(ms)}.`);
    }
    const limit = limitOption(options, DEFAULT_DRIVE_LIMIT);
    const target = this.#clock.now() + ms;
    if (!(target <= TIME_MS_LIMIT)) {
      throw new RangeError(`advance(ms): the loop time would pass ${TIME_MS_LIMIT} ms (now ${this.#clock.now()}, ms ${ms}).`);
    }
    this.#advanceTo(target, "advance()", limit, Infinity);
    return this.#clock.now();
  }

  /**
   * Manual clock: moves time to the earliest timer and fires that one timer (with its
   * checkpoint). Pending microtasks run first. Returns the new time.
   */
  next(): number {
    this.#assertManual("next");
    this.#assertDrivable("next()");
    this.#runCheckpointNow();
    const next = this.#core.zl_timers_next_deadline();
    if (next === Infinity) return this.#clock.now();
    this.#manual!.set(next);
    this.#oneTimer = true;
    try {
      this.#guard("next()", () => this.#runTurn(false));
    } finally {
      this.#oneTimer = false;
    }
    return this.#clock.now();
  }

  /**
   * Manual clock: runs every timer, task and microtask, moving time from deadline to
   * deadline, until no timer is left.
   * @throws {LoopLimitError} after `limit` time steps (default 1,000,000): something keeps
   *   scheduling timers (an interval, a timer that re-arms itself).
   */
  runAll(options?: DriveOptions): number {
    this.#assertManual("runAll");
    this.#assertDrivable("runAll()");
    const limit = limitOption(options, DEFAULT_RUN_ALL_LIMIT);
    this.#advanceTo(Infinity, "runAll()", DEFAULT_DRIVE_LIMIT, limit);
    return this.#clock.now();
  }

  /**
   * Manual clock: advances to the deadline of the latest timer that exists now, so
   * every timer present at the call fires; timers created meanwhile fire only if
   * they fall due by then. Always terminates.
   */
  runToLast(options?: DriveOptions): number {
    this.#assertManual("runToLast");
    this.#assertDrivable("runToLast()");
    const last = this.#guard("runToLast()", () => this.#core.zl_timers_last_deadline());
    const now = this.#clock.now();
    return this.advance(last > now ? last - now : 0, options);
  }

  /**
   * Manual clock: runs what is runnable now, then steps from deadline to deadline up to
   * `target` (each step is one turn at that deadline), and finally moves to `target`.
   */
  #advanceTo(target: number, action: string, drainLimit: number, maxSteps: number): void {
    this.#drainNow(action, drainLimit);
    const core = this.#core;
    const manual = this.#manual!;
    let steps = 0;
    this.#guard(action, () => {
      for (;;) {
        if (this.#closed) return;
        const next = core.zl_timers_next_deadline();
        if (next === Infinity || next > target) break;
        if (steps++ >= maxSteps) {
          throw new LoopLimitError(action, maxSteps, `${this.pending.timers} timers still pending at ${manual.now()} ms`);
        }
        manual.set(next);
        this.#runTurn(false);
        // Work queued for the next turn at this same time (tasks and immediates queued in
        // their own phase, microtasks outside callbacks) runs before time moves on.
        if (this.#tasks.live > 0 || this.#queuedImmediates > 0 || this.#micro.length > 0) {
          this.#drainNow(action, drainLimit);
        }
      }
    });
    if (target !== Infinity && !this.#closed) {
      this.#setVirtualNow(target);
      this.#drainNow(action, drainLimit);
    }
    if (this.#broken) throw this.#broken;
  }

  // ---- lifecycle -------------------------------------------------------------------

  /**
   * Graceful (default): refuses new work, cancels timers, runs the tasks, immediates
   * and microtasks already queued (each with its checkpoint), rejects still-pending
   * loop promises with a {@linkcode TerminationError}, then closes. Resolves with what
   * it did. `{ graceful: false }` is `close()`.
   */
  shutdown(options?: { graceful?: boolean }): Promise<ShutdownReport> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#shutdown) return this.#shutdown;
    if (this.#closed) {
      return Promise.resolve({ cancelledTimers: 0, ranTasks: 0, rejectedPromises: 0 });
    }
    if (options?.graceful === false) {
      const closed = this.close();
      return Promise.resolve({ cancelledTimers: closed.cancelledTimers, ranTasks: 0, rejectedPromises: 0 });
    }
    // Timers that will not run: the mirror's (a one-shot whose callback is running now
    // already left it; the core still holds it as due, so its own count is one higher).
    const cancelled = this.#mirror.live - this.#queuedImmediates;
    const status = this.#guard("shut down", () => this.#core.zl_shutdown_begin());
    if (status < 0) this.#fail(status, "shut down");
    this.#stopping = true;
    this.#refusing = true;
    for (const object of this.#mirror.clearAll((kind) => kind !== Kind.immediate)) {
      this.#forgetTimeout(object as Timeout);
    }
    this.#refTimers = 0;
    this.#driver?.disarm();
    this.#closeWatches(false); // new I/O events would be new work; queued ones still run
    this.#shutdown = this.#finishShutdown(cancelled, this.#tasks.live, this.#tasksRun, this.#immediatesRun);
    return this.#shutdown;
  }

  async #finishShutdown(
    cancelledTimers: number,
    tasksAtStart: number,
    tasksRunAtStart: number,
    immediatesRunAtStart: number,
  ): Promise<ShutdownReport> {
    // shutdown() returns first (state "stopping"); the draining happens after.
    await null;
    if (this.manualClock) {
      // Let a callback that called shutdown() return first.
      while (this.#depth > 0) await hostMacrotask();
      if (!this.#closed) this.#drainNow("shutdown()", DEFAULT_DRIVE_LIMIT);
    } else {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push({ resolve, reject });
        this.#driver?.wake();
      });
      while (this.#depth > 0) await hostMacrotask();
    }
    const rejectedPromises = this.#closed ? 0 : this.#terminatePromises();
    // The terminations' reactions, and the rejection reports they may cause, run before
    // closing: they are the last accepted work (the loop's own tasks pass while stopping).
    if (!this.#closed) this.#drainNow("shutdown()", DEFAULT_DRIVE_LIMIT);
    // Tasks queued when the shutdown began ran first (FIFO); tasks the loop queued itself
    // afterwards (rejection reports) are not counted. Cleared immediates never ran.
    const ranTasks = Math.min(this.#tasksRun - tasksRunAtStart, tasksAtStart) + (this.#immediatesRun - immediatesRunAtStart);
    if (!this.#closed) this.close();
    if (this.#broken) throw this.#broken;
    return { cancelledTimers, ranTasks, rejectedPromises };
  }

  /** Rejects pending loop promises that someone waits on; returns how many. */
  #terminatePromises(): number {
    return this.#promiseKit?.terminatePending(new TerminationError()) ?? 0;
  }

  /**
   * Stops at once: cancels timers, drops queued tasks, immediates and microtasks
   * (counted in the report), resolves `run()` waiters. Later calls that schedule work
   * throw {@linkcode LoopClosedError}; clearing is a no-op. Idempotent.
   */
  close(): CloseReport {
    if (this.#closeReport) return this.#closeReport;
    const report: CloseReport = {
      cancelledTimers: this.#mirror.live - this.#queuedImmediates,
      droppedTasks: this.#tasks.live + this.#queuedImmediates,
      droppedMicrotasks: this.#micro.length,
    };
    this.#closeReport = report;
    this.#closeWatches();
    this.#closed = true;
    this.#stopping = false;
    this.#refusing = true;
    try {
      if (!this.#broken) {
        this.#micro.flush();
        this.#core.zl_close();
      }
    } catch (error) {
      this.#trapped(error, "close");
    }
    for (const object of this.#mirror.clearAll()) {
      if (object instanceof Timeout) this.#forgetTimeout(object);
      else (object as Immediate)[kId] = 0;
    }
    this.#tasks.clear();
    this.#micro.clear();
    this.#refTimers = this.#refImmediates = this.#queuedImmediates = 0;
    this.#phase = PHASE_NONE;
    this.#driver?.dispose();
    this.#settleWaiters();
    return report;
  }

  // ---- globals -----------------------------------------------------------------------

  /**
   * Installs this loop's timer functions (and `queueMicrotask`) onto `target`
   * (globalThis, or a `node:vm` context's global), so code there uses the loop.
   * Returns a Disposable that restores the previous values.
   */
  installGlobals(
    target: object = globalThis,
    options?: { promise?: boolean },
  ): { [Symbol.dispose](): void; (): void } {
    if (target === null || (typeof target !== "object" && typeof target !== "function")) {
      throw invalidArgType("target", "an object (a global)", target);
    }
    const record = target as Record<string, unknown>;
    const names = [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "clearImmediate",
      "queueMicrotask",
    ] as const;
    const saved = new Map<string, PropertyDescriptor | undefined>();
    const put = (name: string, value: unknown) => {
      saved.set(name, Object.getOwnPropertyDescriptor(record, name));
      Object.defineProperty(record, name, { value, writable: true, configurable: true, enumerable: false });
    };
    try {
      for (const name of names) {
        const method = (this as unknown as Record<string, Function>)[name]!.bind(this);
        Object.defineProperty(method, "name", { value: name });
        put(name, method);
      }
      if (options?.promise) put("Promise", this.Promise);
    } catch (error) {
      // All or nothing: a property that cannot be replaced (non-configurable) leaves the
      // target as it was, and the error says which one.
      for (const [name, descriptor] of saved) {
        if (descriptor) Object.defineProperty(record, name, descriptor);
        else delete record[name];
      }
      throw new TypeError(
        `installGlobals: cannot install onto the target: ${(error as Error)?.message ?? error}. Nothing was installed.`,
        { cause: error },
      );
    }
    const previousThis = this.#thisArg;
    this.#thisArg = target;
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      for (const [name, descriptor] of saved) {
        if (descriptor) Object.defineProperty(record, name, descriptor);
        else delete record[name];
      }
      this.#thisArg = previousThis;
    };
    const disposable = restore as typeof restore & { [Symbol.dispose](): void };
    (disposable as unknown as Record<symbol, unknown>)[disposeSymbol] = restore;
    return disposable;
  }

  // ---- the turn ------------------------------------------------------------------------

  #batchView(batch: number): Uint32Array {
    return new Uint32Array(this.#memory.buffer, this.#core.zl_batch_ptr(batch), BATCH_CAPACITY);
  }

  /** Re-creates the batch views when linear memory grew (the old buffer is detached). */
  #refreshViews(): void {
    if (this.#memory.buffer === this.#buffer) return;
    this.#buffer = this.#memory.buffer;
    this.#timerBatch = this.#batchView(Batch.timers);
    this.#taskBatch = this.#batchView(Batch.tasks);
    this.#immediateBatch = this.#batchView(Batch.immediates);
  }

  #setCoreNow(now: number): void {
    this.#now = now;
    const status = this.#core.zl_set_now(now);
    if (status < 0) this.#fail(status, "set the loop time");
  }

  /** Real clock, outside a turn: read the clock once for this host task. */
  #refreshNow(): void {
    if (this.#phase !== PHASE_NONE) return;
    if (!this.manualClock) {
      this.#guard("read the clock", () => this.#setCoreNow(this.#clock.now()));
      this.#nowValid = true;
      queueHostMicrotask(this.#invalidateNow);
    } else {
      this.#nowValid = true;
    }
  }

  #setVirtualNow(time: number): void {
    this.#manual!.set(time);
    this.#guard("advance the clock", () => this.#setCoreNow(this.#manual!.now()));
  }

  /**
   * Runs (or resumes) one turn. Returns false if a microtask budget suspended it;
   * the next call resumes exactly where it stopped.
   */
  #runTurn(budgeted: boolean): boolean {
    const core = this.#core;
    if (this.#phase === PHASE_NONE) {
      // One call sets the time, begins the turn and collects the first timer batch.
      const now = this.#clock.now();
      const max = this.#oneTimer ? 1 : this.#collectMax;
      const count = core.zl_turn_start(now, max);
      if (count < 0) this.#fail(count, "run a turn");
      this.#now = now;
      this.#nowValid = true;
      this.#phase = PHASE_TIMERS;
      this.#pos = 0;
      this.#len = count;
      // A short batch means no other timer is due in this turn: skip the next collect.
      this.#timersDone = count < max || this.#oneTimer;
      if (count > 0) this.#refreshViews();
    }
    this.#depth++;
    try {
      if (this.#suspended && !this.#checkpoint(budgeted)) return false;
      for (;;) {
        if (this.#closed) return true;
        if (this.#pos === this.#len) {
          if (!this.#nextBatch()) break;
          continue;
        }
        const item = this.#pos++;
        // A callback may have grown linear memory, detaching the batch views (length 0):
        // the batch itself never moves, so re-create the views and read on.
        if (this.#timerBatch.length === 0) this.#refreshViews();
        switch (this.#phase) {
          case PHASE_TIMERS:
            this.#runTimer(this.#timerBatch[item]!);
            break;
          case PHASE_TASKS:
            this.#runTask(this.#taskBatch[item]!);
            break;
          default:
            this.#runImmediate(this.#immediateBatch[item]!);
        }
        if (!this.#checkpoint(budgeted)) return false;
      }
    } finally {
      this.#depth--;
    }
    if (!this.#closed) {
      const status = core.zl_turn_end();
      if (status < 0) this.#fail(status, "end a turn");
    }
    this.#phase = PHASE_NONE;
    if (!this.manualClock) this.#nowValid = false;
    return true;
  }

  /**
   * Collects the next batch of the current phase, moving through the phases and
   * skipping those with nothing queued. False when the turn is done.
   */
  #nextBatch(): boolean {
    const core = this.#core;
    const max = this.#collectMax;
    for (;;) {
      let count = 0;
      switch (this.#phase) {
        case PHASE_TIMERS:
          if (!this.#timersDone) {
            if (this.#metricsClock) core.zl_metrics_clock(this.#clock.now());
            count = core.zl_timers_collect(max);
            if (count < 0) this.#fail(count, "collect due timers");
            this.#timersDone = count < max;
          }
          if (count > 0) break;
          if (this.#oneTimer) return false;
          this.#phase = PHASE_TASKS;
          this.#tasksBegun = false;
          continue;
        case PHASE_TASKS:
          if (this.#tasks.live > 0) {
            if (!this.#tasksBegun) {
              this.#tasksBegun = true;
              if ((count = core.zl_tasks_begin()) < 0) this.#fail(count, "begin the task phase");
            }
            if (this.#metricsClock) core.zl_metrics_clock(this.#clock.now());
            count = core.zl_tasks_collect(max);
            if (count < 0) this.#fail(count, "collect tasks");
          }
          if (count > 0) break;
          this.#phase = PHASE_IMMEDIATES;
          this.#immediatesBegun = false;
          continue;
        default:
          if (this.#queuedImmediates > 0) {
            if (!this.#immediatesBegun) {
              this.#immediatesBegun = true;
              if ((count = core.zl_immediates_begin()) < 0) this.#fail(count, "begin the immediate phase");
            }
            if (this.#metricsClock) core.zl_metrics_clock(this.#clock.now());
            count = core.zl_immediates_collect(max);
            if (count < 0) this.#fail(count, "collect immediates");
          }
          if (count > 0) break;
          return false;
      }
      this.#refreshViews();
      this.#pos = 0;
      this.#len = count;
      return true;
    }
  }

  #runTimer(id: number): void {
    const mirror = this.#mirror;
    const slot = mirror.find(id);
    if (slot < 0) {
      this.#metrics.skippedTimers++; // cleared after it was collected
      return;
    }
    const fn = mirror.fns[slot]!;
    const args = mirror.args[slot];
    const object = mirror.objects[slot];
    const kind = mirror.kinds[slot];
    const level = mirror.nesting[slot]!;
    if (kind === Kind.timeout) {
      if (mirror.refs[slot] === 1) this.#unrefTimer();
      mirror.clear(slot);
      if (object !== undefined) {
        const timeout = object as Timeout;
        if (timeout[kPrimitive] !== 0) this.#knownTimersById.delete(timeout[kPrimitive]);
      }
    }
    this.#nesting = level;
    const thisArg = object ?? this.#thisArg;
    try {
      if (args === undefined) fn.call(thisArg);
      else fn.apply(thisArg, args);
    } catch (error) {
      this.#report(error);
    }
    this.#nesting = 0;
    if (kind === Kind.interval) {
      // Still live (not cleared by its own callback)? Its next beat was armed when it
      // was collected; like Node's re-insert and HTML's re-run of the initialization
      // steps, it now takes a start sequence after everything its callback scheduled,
      // and (html) its timeout is clamped once its nesting level passes 5.
      const live = mirror.find(id);
      if (live >= 0) {
        if (this.#html && level > NESTING_LIMIT && mirror.delays[live]! < NESTING_CLAMP_MS) {
          mirror.delays[live] = NESTING_CLAMP_MS;
        }
        const status = this.#core.zl_timer_rearmed(id, mirror.delays[live]!);
        if (status < 0) this.#fail(status, "re-arm an interval");
        if (level < 255) mirror.nesting[live] = level + 1;
      }
    }
  }

  #runTask(slot: number): void {
    this.#tasksRun++;
    const tasks = this.#tasks;
    const fn = tasks.fns[slot]!;
    const arg = tasks.args[slot];
    tasks.release(slot);
    try {
      if (arg === undefined) fn();
      else fn(arg);
    } catch (error) {
      this.#report(error);
    }
  }

  #runImmediate(id: number): void {
    const mirror = this.#mirror;
    const slot = mirror.find(id);
    if (slot < 0) {
      this.#metrics.skippedImmediates++; // cleared after it was collected
      return;
    }
    const fn = mirror.fns[slot]!;
    const args = mirror.args[slot];
    const object = mirror.objects[slot];
    if (mirror.refs[slot] === 1) this.#refImmediates--;
    this.#queuedImmediates--;
    this.#immediatesRun++;
    mirror.clear(slot);
    if (object !== undefined) (object as Immediate)[kId] = 0;
    const thisArg = object ?? this.#thisArg;
    try {
      if (args === undefined) fn.call(thisArg);
      else fn.apply(thisArg, args);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * The microtask checkpoint: runs every queued microtask, including those queued by
   * microtasks, then lets the rejection tracker notify. Returns false when a budget
   * suspended it (it resumes, in order, on the next call).
   */
  #checkpoint(budgeted: boolean): boolean {
    if (this.#checkpointing) return true;
    this.#checkpointing = true;
    this.#suspended = false;
    const savedNesting = this.#nesting;
    this.#nesting = 0;
    let budget = budgeted ? this.#budget : Infinity;
    const micro = this.#micro;
    try {
      for (;;) {
        // close() (or a trap) inside a job empties the queue, which ends runJobs.
        budget -= micro.runJobs(budget, this.#reportError);
        if (this.#closed) return true;
        if (micro.length > 0) {
          this.#suspended = true; // the budget ran out
          return false;
        }
        if (this.#drainHost === undefined) break;
        // The embedder's queue may queue loop microtasks and vice versa: alternate until both are empty.
        try {
          this.#drainHost();
        } catch (error) {
          this.#report(error);
        }
        if (this.#closed) return true;
        if (micro.length === 0) break;
      }
    } finally {
      this.#checkpointing = false;
      this.#nesting = savedNesting;
    }
    this.#afterCheckpoint();
    return true;
  }

  /** HTML "notify about rejected promises" runs at the end of every checkpoint. */
  #afterCheckpoint(): void {
    this.#promiseKit?.checkpointEnd();
  }

  /** A checkpoint outside any turn (driving calls). */
  #runCheckpointNow(): void {
    if (this.#micro.length === 0 && !this.#suspended && this.#pendingNotifications() === 0) return;
    this.#depth++;
    try {
      this.#checkpoint(false);
    } finally {
      this.#depth--;
    }
  }

  /**
   * Work waiting for the end of a checkpoint: rejections (then a task reports them) and the
   * promise registry's nursery (then it becomes weak).
   */
  #pendingNotifications(): number {
    const kit = this.#promiseKit;
    return kit === undefined ? 0 : kit.tracker.pendingNotifications + kit.nurserySize;
  }

  /** Whether anything can run at the current time without moving the clock. */
  #runnableNow(): boolean {
    return (
      this.#phase !== PHASE_NONE ||
      this.#pendingNotifications() > 0 ||
      this.#suspended ||
      this.#tasks.live > 0 ||
      this.#queuedImmediates > 0 ||
      this.#micro.length > 0 ||
      this.#core.zl_timers_next_deadline() <= this.#clock.now()
    );
  }

  /** Runs turns until nothing is runnable at the current time. */
  #drainNow(action: string, limit: number): void {
    if (this.#metricsOn) this.#metrics.busyStart(this.#clock.now());
    this.#guard(action, () => {
      for (let rounds = 0; ; rounds++) {
        if (this.#closed) return;
        this.#runCheckpointNow();
        if (this.#closed || !this.#runnableNow()) return;
        if (rounds >= limit) {
          const p = this.pending;
          throw new LoopLimitError(
            action,
            limit,
            `${p.tasks} tasks, ${p.immediates} immediates, ${p.microtasks} microtasks, ${p.timers} timers pending`,
          );
        }
        this.#runTurn(false);
      }
    });
    if (this.#metricsOn) this.#metrics.busyEnd(this.#clock.now());
    this.#checkIdle();
    // A callback's call into the core trapped (reported to onError there): this drive
    // must not look like it finished normally.
    if (this.#broken) throw this.#broken;
  }

  async #runVirtual(): Promise<void> {
    for (;;) {
      if (this.#closed) {
        if (this.#broken) throw this.#broken;
        return;
      }
      if (this.#depth === 0) this.#drainNow("run()", DEFAULT_DRIVE_LIMIT);
      // Let native promise continuations (which may schedule more work) run first.
      await hostMacrotask();
      if (this.#closed || this.#depth > 0 || this.#runnableNow()) continue;
      if (this.#refTimers === 0 && this.#refImmediates === 0 && this.#refOther === 0) return;
      const next = this.#core.zl_timers_next_deadline();
      if (next !== Infinity) {
        this.#manual!.set(next);
        this.#guard("run()", () => this.#runTurn(false));
      }
    }
  }

  /** One host wake-up (real clock): run one turn, then re-arm and check for idleness. */
  #hostTurn(): void {
    if (this.#closed || this.#depth > 0) return;
    if (this.#metricsOn) this.#metrics.busyStart(this.#clock.now());
    try {
      this.#guard("run a turn", () => {
        if (this.#runnableNow()) {
          if (!this.#runTurn(true)) {
            this.#driver!.wake();
            return;
          }
        }
        this.#rearm();
      });
    } catch (error) {
      // Never into the host's event loop: a trap already broke this loop and rejected
      // its waiters (other loops must go on); anything else is reported.
      if (!this.#broken) this.#report(error);
    }
    if (this.#metricsOn) this.#metrics.busyEnd(this.#clock.now());
    this.#checkIdle();
  }

  /** Real clock: arm the host timer for the next deadline and wake for queued work. */
  #rearm(): void {
    const driver = this.#driver;
    if (driver === undefined || this.#closed) return;
    const next = this.#core.zl_timers_next_deadline();
    if (next !== Infinity) driver.arm(next, this.#clock.now());
    driver.setTimerRef(this.#refTimers > 0);
    if (this.#tasks.live > 0 || this.#queuedImmediates > 0 || this.#micro.length > 0 || this.#suspended) driver.wake();
  }

  #isIdle(): boolean {
    return (
      this.#phase === PHASE_NONE &&
      !this.#suspended &&
      this.#tasks.live === 0 &&
      this.#micro.length === 0 &&
      this.#refImmediates === 0 &&
      this.#refTimers === 0 &&
      this.#refOther === 0 &&
      this.#pendingNotifications() === 0 &&
      (!this.#stopping || this.#queuedImmediates === 0)
    );
  }

  #checkIdle(): void {
    if (this.#closed) {
      if (this.#waiters.length > 0) this.#settleWaiters();
      return;
    }
    if (!this.#isIdle()) return;
    if (this.#waiters.length > 0) this.#settleWaiters();
    // Nothing queued: a MessageChannel wake-up must not keep the host alive.
    if (this.#tasks.live === 0 && this.#queuedImmediates === 0 && this.#micro.length === 0) this.#driver?.release();
  }

  #settleWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (this.#broken) waiter.reject(this.#broken);
      else waiter.resolve();
    }
  }

  // ---- errors ----------------------------------------------------------------------------

  #report(error: unknown): void {
    try {
      this.onError(error);
    } catch (secondary) {
      // A throwing onError must not take the loop down: report both the usual way.
      this.exitCode = 1;
      hostReport(secondary);
      hostReport(error);
    }
  }

  /** Runs a step that calls into the core; a trap there breaks this loop only. */
  #guard<T>(action: string, step: () => T): T {
    try {
      return step();
    } catch (error) {
      throw this.#trapped(error, action);
    }
  }

  #trapped(error: unknown, action: string): unknown {
    if (!isTrap(error) || this.#broken) return error;
    this.#broken = new CoreTrapError(action, error);
    this.#closed = true;
    this.#refusing = true;
    this.#micro.clear(); // the checkpoint running now (if any) stops after the current job
    this.#driver?.dispose();
    this.#settleWaiters();
    return this.#broken;
  }

  /** Throws the error for a negative core status. */
  #fail(status: number, action: string): never {
    switch (status) {
      case Status.timers_full:
        throw new CapacityError("timers", this.#core.zl_stat(Stat.handles_live), action);
      case Status.tasks_full:
        throw new CapacityError("tasks", this.#core.zl_stat(Stat.tasks_queued), action);
      case Status.microtasks_full:
        throw new CapacityError("microtasks", this.#core.zl_stat(Stat.microtasks_queued), action);
      case Status.out_of_memory:
        throw new CapacityError("memory", undefined, action);
      case Status.closed:
        throw new LoopClosedError(action);
      case Status.stopping:
        throw new LoopShuttingDownError(action);
      case Status.reentrant:
        throw new ReentrancyError(action);
      default:
        throw new LoopStateError("ERR_LOOP_INTERNAL", `Cannot ${action}: the core answered status ${status}.`);
    }
  }

  #refuse(action: string): never {
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new LoopClosedError(action);
    throw new LoopShuttingDownError(action);
  }

  #assertManual(method: string): void {
    if (!this.manualClock) throw new ClockModeError(method);
  }

  #assertDrivable(action: string): void {
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new LoopClosedError(action);
    if (this.#depth > 0) throw new ReentrancyError(action);
  }
}

/** A TypeError about createEventLoop's options, with Node's argument-type code. */
function optionsError(message: string): TypeError {
  const error = new TypeError(`createEventLoop(options): ${message}`);
  Object.defineProperty(error, "code", { value: "ERR_INVALID_ARG_TYPE", enumerable: true });
  return error;
}

function listenerKey(type: string, options?: EventListenerOptions | boolean): string {
  const capture = typeof options === "boolean" ? options : options?.capture === true;
  return `${type}\u0000${capture}`;
}

/** html clearTimeout/clearInterval: the id as a WebIDL long (ToNumber, then ToInt32). */
function htmlTimerId(id: unknown): number {
  if (typeof id === "bigint") throw new TypeError(`Cannot convert a BigInt value to a number (id ${id}n).`);
  return (+(id as number)) | 0;
}

function timerMethod(kind: Kind): string {
  return kind === Kind.timeout ? "setTimeout" : "setInterval";
}

function capacityOption(value: number | undefined, name: string, max = 2 ** 30): number {
  if (value === undefined) return Math.min(DEFAULT_CAPACITY, max);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`capacity.${name} must be an integer from 1 to ${max}, got ${describeValue(value)}.`);
  }
  return value;
}

function ringOption(value: number | undefined): number {
  if (value === undefined) return DEFAULT_RING;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 16 || value > 2 ** 20 || (value & (value - 1)) !== 0) {
    throw new RangeError(`capacity.microtaskRing must be a power of two from 16 to 2^20, got ${describeValue(value)}.`);
  }
  return value;
}

function limitOption(options: DriveOptions | undefined, fallback: number): number {
  const limit = options?.limit ?? fallback;
  if (typeof limit !== "number" || !(limit >= 1)) {
    throw new RangeError(`limit must be a number >= 1, got ${describeValue(limit)}.`);
  }
  return limit;
}
