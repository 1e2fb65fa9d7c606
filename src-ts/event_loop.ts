/**
 * `EventLoop`: the public face of one loop. Every method checks what the caller may
 * do and delegates to the part of the loop that does it:
 *
 * | part | file | what it holds |
 * |---|---|---|
 * | config | `loop/config.ts` | options → a frozen configuration |
 * | engine | `loop/engine.ts` | hot state; scheduling and cancelling work |
 * | turn | `loop/turn.ts` | the phases of a turn, microtask checkpoints |
 * | liveness | `loop/liveness.ts` | the one count of ref'd handles |
 * | real time | `loop/real_time.ts` | driving from the host's event loop; `run()` |
 * | virtual time | `loop/virtual_time.ts` | advance, next, runAll, runToLast |
 * | lifecycle | `loop/lifecycle.ts` | shutdown, close, a trapped core |
 * | promises | `loop/promises.ts` | the loop's Promise class and its wiring |
 * | globals | `loop/globals.ts` | installGlobals and its disposers |
 * | watches | `loop/watch.ts` | I/O readiness as loop tasks |
 * | ingress host | `loop/ingress_host.ts` | the seam `zigloop/ingress` uses (other threads) |
 * | profiles | `profile/` | html and node timer policy, Timeout/Immediate |
 * | core | `core/` | the Wasm instance, its ABI, the boundary |
 *
 * @module
 */

import type { CoreExports } from "./core/abi.generated.ts";
import { Kind } from "./core/handle_mirror.ts";
import { ClockModeError, invalidArgType, LoopClosedError, ReentrancyError } from "./errors.ts";
import type {
  ClockOf,
  DriveOptions,
  ImmediateHandle,
  ImmediateId,
  ImmediateThis,
  ManualOnly,
  ProfileOf,
  TimerHandle,
  TimerId,
  TimerThis,
} from "./event_loop_types.ts";
import type { ClockKind, Profile } from "./loop/config.ts";
import { type EventLoopOptions, resolveConfig } from "./loop/config.ts";
import { Engine } from "./loop/engine.ts";
import { ListenerWrappers } from "./loop/events.ts";
import {
  GLOBAL_NAMES,
  type GlobalsDisposer,
  type InstallGlobalsOptions,
  installOnto,
} from "./loop/globals.ts";
import { GuestBinding } from "./loop/guest.ts";
import { INGRESS_HOST, IngressHost, type IngressLoop } from "./loop/ingress_host.ts";
import {
  type CloseReport,
  Lifecycle,
  type LoopState,
  type ShutdownReport,
} from "./loop/lifecycle.ts";
import type { LoopMetrics } from "./loop/metrics.ts";
import { LoopPromises } from "./loop/promises.ts";
import { RealTime } from "./loop/real_time.ts";
import { makeHooks } from "./loop/report.ts";
import { Turn } from "./loop/turn.ts";
import {
  DEFAULT_DRIVE_LIMIT,
  DEFAULT_RUN_ALL_LIMIT,
  limitOption,
  VirtualTime,
  virtualTimeOf,
} from "./loop/virtual_time.ts";
import {
  isWatchable,
  type Watch,
  type WatchEvent,
  Watches,
  type WatchOptions,
} from "./loop/watch.ts";
import type { Immediate, Timeout } from "./profile/handles.ts";
import type { LoopPromiseConstructor } from "./promise/promise.ts";
import type { PromiseRejectionEvent } from "./promise/rejection_tracker.ts";
import type { RealmHooks, RuntimeHooks } from "./runtime.ts";
import { HostEventTarget, type LoopEventListener, type LoopListenerOptions } from "./web.ts";

export type { CapacityOptions, ClockKind, EventLoopOptions, Profile } from "./loop/config.ts";
export type { GlobalsDisposer, InstallGlobalsOptions } from "./loop/globals.ts";
export type { IngressCounts } from "./loop/ingress_host.ts";
export type { CloseReport, LoopState, ShutdownReport } from "./loop/lifecycle.ts";

/** The loop type `createEventLoop(options)` returns for those options. */
export type EventLoopFor<O> = EventLoop<ProfileOf<O>, ClockOf<O>>;

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ??
  (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

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
export class EventLoop<
  P extends Profile = Profile,
  C extends ClockKind = ClockKind,
> extends HostEventTarget {
  /** The timer semantics this loop follows. */
  readonly profile: P;
  /** Whether time is virtual (moved only by advance/next/runAll/runToLast). */
  readonly manualClock: C extends "manual" ? true : C extends "real" ? false : boolean;

  readonly #engine: Engine;
  readonly #turn: Turn;
  readonly #promises: LoopPromises;
  readonly #realTime: RealTime | undefined;
  readonly #virtualTime: VirtualTime | undefined;
  readonly #lifecycle: Lifecycle;
  readonly #watches: Watches;
  readonly #listeners: ListenerWrappers;
  /**
   * One entry per installation still in place, newest last, holding its `this` (a target,
   * or a guest's global). An entry, not the target itself: the loop may be installed on
   * one target twice, and disposing the older installation must remove that one.
   */
  readonly #installedOn: Array<{ readonly thisArg: object }> = [];
  /** Guest realms this loop is installed in. */
  readonly #guests = new Set<GuestBinding>();
  readonly #runtime: RuntimeHooks;

  /** @internal Use createEventLoop / createEventLoopSync. */
  constructor(
    core: CoreExports,
    options: EventLoopOptions = {},
    runtime: RuntimeHooks = {},
    extraOptionNames: readonly string[] = [],
  ) {
    super();
    this.#runtime = runtime;
    const config = resolveConfig(options, extraOptionNames);
    this.profile = config.profile as P;
    this.manualClock = config.manual as this["manualClock"];
    const engine = new Engine(core, config, makeHooks(config.onError, config.onWarning, runtime));
    this.#engine = engine;
    this.#promises = new LoopPromises(engine, (event) => this.dispatchEvent(event));
    this.#turn = new Turn(engine, this.#promises);
    this.#realTime = config.manual
      ? undefined
      : new RealTime(engine, this.#turn, this.#promises, runtime);
    this.#virtualTime = config.manual ? new VirtualTime(engine, this.#turn) : undefined;
    if (this.#virtualTime) virtualTimeOf.set(this, this.#virtualTime);
    this.#watches = new Watches(
      (fn, record) =>
        engine.queueTask(fn as (arg: unknown) => void, record, "deliver an I/O event"),
      engine.reportError,
      (delta) => engine.live.adjust(delta),
    );
    this.#lifecycle = new Lifecycle(
      engine,
      this.#turn,
      this.#promises,
      this.#realTime,
      this.#watches,
    );
    this.#listeners = new ListenerWrappers(engine.reportError);
  }

  // ---- hooks and observation -------------------------------------------------------

  /** Receives uncaught errors from callbacks and microtasks. */
  get onError(): (error: unknown) => void {
    return this.#engine.hooks.onError;
  }
  set onError(hook: (error: unknown) => void) {
    if (typeof hook !== "function") throw invalidArgType("onError", "a function", hook);
    this.#engine.hooks.onError = hook;
  }

  /** Receives warnings (node profile delay coercion, unhandled-rejection warnings). */
  get onWarning(): (warning: Error) => void {
    return this.#engine.hooks.onWarning;
  }
  set onWarning(hook: (warning: Error) => void) {
    if (typeof hook !== "function") throw invalidArgType("onWarning", "a function", hook);
    this.#engine.hooks.onWarning = hook;
  }

  /** 1 once an error was reported by the default onError (what a CLI should exit with). */
  get exitCode(): number {
    return this.#engine.hooks.exitCode;
  }
  set exitCode(code: number) {
    this.#engine.hooks.exitCode = code;
  }

  /** The lifecycle state. */
  get state(): LoopState {
    return this.#lifecycle.state;
  }

  /** Listeners for `unhandledrejection` / `rejectionhandled`; what they throw goes to `onError`. */
  override addEventListener(
    type: "unhandledrejection" | "rejectionhandled",
    listener: LoopEventListener<PromiseRejectionEvent> | null,
    options?: LoopListenerOptions | boolean,
  ): void;
  override addEventListener(
    type: string,
    listener: LoopEventListener<any> | null,
    options?: LoopListenerOptions | boolean,
  ): void;
  override addEventListener(
    type: string,
    listener: LoopEventListener<any> | null,
    options?: LoopListenerOptions | boolean,
  ): void {
    const wrapped = listener === null ? null : this.#listeners.wrap(this, type, listener, options);
    super.addEventListener(type, wrapped, options);
  }

  override removeEventListener(
    type: string,
    listener: LoopEventListener<any> | null,
    options?: { capture?: boolean } | boolean,
  ): void {
    const wrapper = listener === null ? undefined : this.#listeners.find(type, listener, options);
    super.removeEventListener(type, wrapper ?? listener, options);
  }

  /** Current loop time in ms: since creation (real clock) or the virtual time (manual). */
  now(): number {
    return this.#engine.clock.now();
  }

  /**
   * The loop's Promise class: spec-complete (ECMA-262 §27.2, Promises/A+), with its
   * reactions on this loop's microtask queue, FIFO with `queueMicrotask`, and
   * unhandled rejections tracked per HTML (events `unhandledrejection` and
   * `rejectionhandled` on the loop) or Node's modes. Created on first use. Every loop's
   * Promise shares one prototype (like one realm's promises); a promise's `constructor`
   * is its own loop's Promise (docs/PROMISE.md, "One class for every loop").
   */
  get Promise(): LoopPromiseConstructor {
    return this.#promises.Promise;
  }

  /**
   * A snapshot of the loop's metrics. Counts and queue depths are always kept;
   * latency histograms, throughput and utilization need `metrics: true`.
   */
  metrics(): LoopMetrics {
    const engine = this.#engine;
    if (engine.core.broken) throw engine.core.broken;
    // Guest microtasks ran on their realms' queues: counted there, added here.
    for (const guest of this.#guests) engine.micro.executed += guest.takeMicrotaskCount();
    return engine.core.guard("read the metrics", () => {
      engine.micro.flush();
      return engine.metrics.snapshot(engine.clock.now(), engine.live.refs, this.#watches.listening);
    });
  }

  /** Starts a new metrics window: counters, peaks (to current depths), histograms, rates. */
  resetMetrics(): void {
    const engine = this.#engine;
    if (engine.core.broken) throw engine.core.broken;
    if (engine.closed) return;
    engine.core.guard("reset the metrics", () => engine.metrics.reset(engine.clock.now()));
  }

  /** Counts of pending work, for tests and tools. */
  get pending(): {
    timers: number;
    immediates: number;
    tasks: number;
    microtasks: number;
    refs: number;
  } {
    return this.#engine.pending();
  }

  /**
   * Checks every invariant of the core's structures; returns 0, or the code of the
   * first structure found corrupt (see `Invariant` in the generated ABI).
   */
  verifyCore(): number {
    return this.#coreCall("verify the core", (core) => core.zl_verify());
  }

  /** A raw core statistic (see `Stat`); for metrics and tests. */
  coreStat(stat: number): number {
    return this.#coreCall("read a core statistic", (core) => core.zl_stat(stat));
  }

  #coreCall(action: string, call: (core: CoreExports) => number): number {
    const engine = this.#engine;
    if (engine.core.broken) throw engine.core.broken;
    // Guest microtasks ran on their realms' queues: counted there, added here.
    for (const guest of this.#guests) engine.micro.executed += guest.takeMicrotaskCount();
    return engine.core.guard(action, () => {
      engine.micro.flush();
      return call(engine.core.exports);
    });
  }

  // ---- timers --------------------------------------------------------------------

  /**
   * Runs `handler(...args)` after `timeout` ms. html profile: returns a positive integer
   * id; node profile: a {@linkcode Timeout}.
   * @throws {TypeError} when `handler` is not callable (strings only with `stringHandler`).
   * @throws {CapacityError} when `capacity.timers` is reached.
   * @throws {LoopClosedError | LoopShuttingDownError} when the loop accepts no work.
   */
  setTimeout<A extends unknown[]>(
    handler: (this: TimerThis<P>, ...args: A) => unknown,
    timeout?: number,
    ...args: A
  ): TimerHandle<P>;
  /** No extra arguments: a handler whose parameter accepts undefined (`setTimeout(resolve, ms)`). */
  setTimeout(handler: (this: TimerThis<P>, arg: void) => unknown, timeout?: number): TimerHandle<P>;
  setTimeout(handler: unknown, timeout?: unknown): unknown {
    return this.#engine.addTimer(
      Kind.timeout,
      handler,
      timeout,
      arguments.length > 2 ? restArgs(arguments, 2) : undefined,
    );
  }

  /** Like setTimeout, repeating every `timeout` ms. */
  setInterval<A extends unknown[]>(
    handler: (this: TimerThis<P>, ...args: A) => unknown,
    timeout?: number,
    ...args: A
  ): TimerHandle<P>;
  setInterval(
    handler: (this: TimerThis<P>, arg: void) => unknown,
    timeout?: number,
  ): TimerHandle<P>;
  setInterval(handler: unknown, timeout?: unknown): unknown {
    return this.#engine.addTimer(
      Kind.interval,
      handler,
      timeout,
      arguments.length > 2 ? restArgs(arguments, 2) : undefined,
    );
  }

  /** Cancels a timeout or interval (they share one id space). Unknown or stale ids: nothing. */
  clearTimeout(id?: TimerId<P>): void {
    this.#engine.clearTimer(id);
  }

  /** Same as clearTimeout. */
  clearInterval(id?: TimerId<P>): void {
    this.#engine.clearTimer(id);
  }

  /**
   * Runs `callback(...args)` in the immediates phase of the next turn (Node's check
   * phase). html profile: returns an id; node profile: an {@linkcode Immediate}.
   */
  setImmediate<A extends unknown[]>(
    callback: (this: ImmediateThis<P>, ...args: A) => unknown,
    ...args: A
  ): ImmediateHandle<P>;
  setImmediate(callback: (this: ImmediateThis<P>, arg: void) => unknown): ImmediateHandle<P>;
  setImmediate(callback: unknown): unknown {
    return this.#engine.addImmediate(
      callback,
      arguments.length > 1 ? restArgs(arguments, 1) : undefined,
    );
  }

  /** Cancels an immediate. Unknown or stale ids: nothing. */
  clearImmediate(id?: ImmediateId<P>): void {
    this.#engine.clearImmediate(id);
  }

  // ---- tasks and microtasks ----------------------------------------------------------

  /**
   * Queues `callback` on the loop's microtask queue (FIFO with promise jobs).
   * @throws {TypeError} when `callback` is not callable.
   */
  queueMicrotask(callback: () => void): void {
    this.#engine.queueMicrotask(callback);
  }

  /**
   * Queues `task` as a macrotask: it runs in the tasks phase of the next turn,
   * followed by a microtask checkpoint.
   */
  submit(task: () => void): void {
    if (typeof task !== "function") throw invalidArgType("task", "of type function", task);
    this.#engine.queueTask(task, undefined, "submit a task");
  }

  // ---- I/O readiness ----------------------------------------------------------------

  /**
   * Delivers readiness from a host I/O source as loop tasks: `callback(event)` runs
   * as a task (with its microtask checkpoint, counted in metrics) for each event.
   * Sources: Node streams/sockets/emitters (default events readable, writable, end,
   * error, close), any EventTarget (`options.events` required), web ReadableStreams
   * (`data` per chunk, then `end`). See loop/watch.ts for coalescing and closing.
   * @returns A handle with close(), ref(), unref(); a ref'd watch keeps run() alive.
   * @throws {TypeError} for a source that is none of those, or a non-callable callback.
   */
  watch(source: unknown, callback: (event: WatchEvent) => void, options: WatchOptions = {}): Watch {
    if (!isWatchable(source)) {
      throw invalidArgType(
        "source",
        "a Node stream or emitter, an EventTarget or a ReadableStream",
        source,
      );
    }
    if (typeof callback !== "function")
      throw invalidArgType("callback", "of type function", callback);
    if (options === null || typeof options !== "object") {
      throw invalidArgType("options", "an object", options, "watch(source, callback, options)");
    }
    if (
      options.events !== undefined &&
      (!Array.isArray(options.events) || options.events.some((e) => typeof e !== "string"))
    ) {
      throw invalidArgType("options.events", "an array of event type strings", options.events);
    }
    if (this.#engine.refusing) this.#engine.refuse("watch an I/O source");
    return this.#watches.add(source, callback, options);
  }

  // ---- running ---------------------------------------------------------------------

  /**
   * Resolves when nothing ref'd is left (no ref'd timers, queued tasks, immediates or
   * microtasks), after the host's own jobs (native `await` continuations) have had their
   * turn, or once the loop is closed. Real clock: the loop runs from the host's event
   * loop; this only waits. Manual clock: runs everything, moving virtual time from
   * deadline to deadline, and gives the host a macrotask after every callback (see
   * `advanceAsync`).
   * `limit` (manual clock): most moves of the clock before `LoopLimitError` (default: none).
   * @throws {ReentrancyError} (as a rejection) when called from inside a loop callback.
   */
  run(options?: DriveOptions): Promise<void> {
    const engine = this.#engine;
    if (engine.core.broken) return Promise.reject(engine.core.broken);
    if (engine.closed) return Promise.reject(new LoopClosedError("run the loop"));
    if (engine.depth > 0) return Promise.reject(new ReentrancyError("await loop.run()"));
    return this.#async(() => {
      this.#virtualTime?.assertIdle("run the loop");
      const virtual = this.#virtualTime;
      return virtual === undefined
        ? this.#realTime!.waitForIdle()
        : virtual.run(limitOption(options, Infinity));
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
    const limit = limitOption(options, DEFAULT_DRIVE_LIMIT);
    if (this.#virtualTime !== undefined) this.#virtualTime.runUntilIdle(limit);
    else this.#turn.drainNow("runUntilIdle()", limit);
  }

  /**
   * Manual clock: moves time forward by `ms`, firing every timer that falls due, in
   * order, each at its own deadline and with its microtask checkpoint, and running the
   * tasks and immediates queued along the way. Returns the new time.
   * @throws {LoopLimitError} after `limit` turns at one time (default 100,000): work that
   *   keeps re-arming without time moving (a 0 ms timer scheduled from a microtask).
   */
  advance(ms: ManualOnly<C, number>, options?: DriveOptions): number {
    return this.#manual("advance").advance(ms, limitOption(options, DEFAULT_DRIVE_LIMIT));
  }

  /**
   * Manual clock: one turn. If something is runnable now (tasks, immediates, a due
   * timer), a turn at the current time; else the clock moves to the earliest timer and
   * the turn runs there. The turn fires at most one timer, then its task and immediate
   * phases. Pending microtasks run first. Returns the new time.
   */
  next(..._: ManualOnly<C, []>): number {
    return this.#manual("next").next();
  }

  /**
   * Manual clock: runs every timer, task and microtask, moving time from deadline to
   * deadline, until no timer is left.
   * @throws {LoopLimitError} after `limit` time steps (default 1,000,000): something keeps
   *   scheduling timers (an interval, a timer that re-arms itself).
   */
  runAll(...[options]: ManualOnly<C, [options?: DriveOptions]>): number {
    return this.#manual("runAll").runAll(limitOption(options, DEFAULT_RUN_ALL_LIMIT));
  }

  /**
   * Manual clock: advances to the deadline of the latest timer that exists now, so
   * every timer present at the call fires; timers created meanwhile fire if they fall
   * due by then. Ends: time moves only up to that deadline, and work that keeps
   * re-arming at one time stops at `limit` turns with `LoopLimitError`.
   */
  runToLast(...[options]: ManualOnly<C, [options?: DriveOptions]>): number {
    return this.#manual("runToLast").runToLast(limitOption(options, DEFAULT_DRIVE_LIMIT));
  }

  /**
   * Manual clock: `advance(ms)`, giving the host a macrotask after every callback's
   * microtask checkpoint, so native `await` continuations run there, before the next
   * callback and before time moves on: code written with `async`/`await` sees the same
   * timeline as on a real clock. Resolves with the new time.
   * @throws {DriveInProgressError} if another drive of this loop is still running.
   */
  advanceAsync(ms: ManualOnly<C, number>, options?: DriveOptions): Promise<number> {
    return this.#async(() =>
      this.#manual("advanceAsync").advanceAsync(ms, limitOption(options, DEFAULT_DRIVE_LIMIT)),
    );
  }

  /** Manual clock: `next()`, with the host's jobs after every callback (see `advanceAsync`). */
  nextAsync(..._: ManualOnly<C, []>): Promise<number> {
    return this.#async(() => this.#manual("nextAsync").nextAsync());
  }

  /** Manual clock: `runAll()`, with the host's jobs after every callback (see `advanceAsync`). */
  runAllAsync(...[options]: ManualOnly<C, [options?: DriveOptions]>): Promise<number> {
    return this.#async(() =>
      this.#manual("runAllAsync").runAllAsync(limitOption(options, DEFAULT_RUN_ALL_LIMIT)),
    );
  }

  /** Manual clock: `runToLast()`, with the host's jobs after every callback (see `advanceAsync`). */
  runToLastAsync(...[options]: ManualOnly<C, [options?: DriveOptions]>): Promise<number> {
    return this.#async(() =>
      this.#manual("runToLastAsync").runToLastAsync(limitOption(options, DEFAULT_DRIVE_LIMIT)),
    );
  }

  /** Manual clock: `runUntilIdle()`, with the host's jobs after every callback (see `advanceAsync`). */
  runUntilIdleAsync(...[options]: ManualOnly<C, [options?: DriveOptions]>): Promise<void> {
    return this.#async(() =>
      this.#manual("runUntilIdleAsync").runUntilIdleAsync(
        limitOption(options, DEFAULT_DRIVE_LIMIT),
      ),
    );
  }

  /** The earliest timer's deadline in loop ms, or Infinity when no timer is pending. */
  nextDeadline(): number {
    return this.#engine.core.exports.zl_timers_next_deadline() / 1000;
  }

  /** A drive's promise; what its checks throw becomes a rejection. */
  #async<T>(drive: () => Promise<T>): Promise<T> {
    try {
      return drive();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The virtual-time driver, after the checks every manual-clock drive makes. */
  #manual(method: string): VirtualTime {
    if (this.#virtualTime === undefined) throw new ClockModeError(method);
    this.#assertDrivable(`${method}()`);
    return this.#virtualTime;
  }

  #assertDrivable(action: string): void {
    const engine = this.#engine;
    if (engine.core.broken) throw engine.core.broken;
    if (engine.closed) throw new LoopClosedError(action);
    if (engine.depth > 0) throw new ReentrancyError(action);
    this.#virtualTime?.assertIdle(action);
  }

  // ---- lifecycle -------------------------------------------------------------------

  /**
   * Graceful (default): refuses new work, cancels timers, runs the tasks, immediates
   * and microtasks already queued (each with its checkpoint), rejects still-pending
   * loop promises with a {@linkcode TerminationError}, then closes. Resolves with what
   * it did. `{ graceful: false }` is `close()`.
   */
  shutdown(options?: { graceful?: boolean }): Promise<ShutdownReport> {
    return this.#lifecycle.shutdown(options?.graceful !== false);
  }

  /**
   * Stops at once: cancels timers, drops queued tasks, immediates and microtasks
   * (counted in the report), resolves `run()` waiters. Later calls that schedule work
   * throw {@linkcode LoopClosedError}; clearing is a no-op. Idempotent.
   */
  close(): CloseReport {
    return this.#lifecycle.close();
  }

  /** `await using loop = await createEventLoop()`: a graceful shutdown at the end of the scope. */
  async [asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // ---- work from other threads -------------------------------------------------------

  /**
   * @internal What `zigloop/ingress` uses of this loop (`createIngress(loop)`,
   * `offload(loop, fn)`, `createPool(loop)`): its task queue, liveness, Promise and closing
   * (loop/ingress_host.ts). Created on first use.
   */
  [INGRESS_HOST](): IngressLoop {
    const lifecycle = this.#lifecycle;
    return (lifecycle.ingress ??= new IngressHost(this.#engine, this.#promises));
  }

  // ---- globals -----------------------------------------------------------------------

  /**
   * Installs this loop's timer functions (and `queueMicrotask`) onto `target`
   * (globalThis, or a `node:vm` context's global), so code there uses the loop.
   * Returns a Disposable that restores the previous values; disposers of several
   * loops installed on one target may run in any order.
   *
   * A vm context is a guest realm: the functions installed there are made in that realm
   * (nothing installed is a host object; see loop/guest.ts), its `queueMicrotask` queues
   * on the realm's own job queue, FIFO with its `await`s, and the loop drains that queue
   * at every checkpoint. The guest keeps its realm's own `Promise` (its jobs already run at
   * the loop's checkpoints), with or without `promise: true`.
   */
  installGlobals(target: object = globalThis, options?: InstallGlobalsOptions): GlobalsDisposer {
    if (target === null || (typeof target !== "object" && typeof target !== "function")) {
      throw invalidArgType("target", "an object (a global)", target);
    }
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgType("options", "an object", options, "installGlobals(target, options)");
    }
    const realm = this.#runtime.realm;
    if (realm?.isContext(target)) return this.#installGuest(target, realm);
    const values = new Map<string, unknown>();
    for (const name of GLOBAL_NAMES) {
      const method = (this as unknown as Record<string, Function>)[name]!.bind(this);
      Object.defineProperty(method, "name", { value: name });
      values.set(name, method);
    }
    if (options?.promise) values.set("Promise", this.Promise);
    return this.#install(target, target, values, () => {});
  }

  #installGuest(target: object, realm: RealmHooks): GlobalsDisposer {
    const engine = this.#engine;
    const guest = new GuestBinding(engine, realm, target);
    const drain = () => {
      realm.drain(target);
      guest.checkpointDone();
    };
    engine.drains.push(drain);
    this.#guests.add(guest);
    return this.#install(target, guest.global, new Map(Object.entries(guest.functions)), () => {
      engine.drains.splice(engine.drains.indexOf(drain), 1);
      this.#guests.delete(guest);
    });
  }

  /** Installs `values` on `target`; html callbacks get `thisArg` while this is the newest install. */
  #install(
    target: object,
    thisArg: object,
    values: Map<string, unknown>,
    removed: () => void,
  ): GlobalsDisposer {
    const installation = { thisArg };
    const dispose = installOnto(target, values, () => {
      this.#installedOn.splice(this.#installedOn.indexOf(installation), 1);
      this.#engine.thisArg = this.#installedOn.at(-1)?.thisArg ?? globalThis;
      removed();
    });
    this.#installedOn.push(installation);
    this.#engine.thisArg = thisArg;
    return dispose;
  }
}

/** `args` from `start` on, as an array (the callback's extra arguments). */
function restArgs(args: IArguments, start: number): unknown[] {
  const out = new Array(args.length - start);
  for (let i = start; i < args.length; i++) out[i - start] = args[i];
  return out;
}

export type { Immediate, Timeout };
