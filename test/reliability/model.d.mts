/**
 * The reference model of a zigloop loop on the MANUAL clock: a trivially correct event
 * loop made of arrays, written from README "Semantics", "Virtual time", "Lifecycle" and
 * "The loop's Promise" (plus docs/PROMISE.md and src-ts/rejection_tracker.ts for the
 * HTML "notify about rejected promises" steps). No heap, no batches, no slots: due
 * timers are found by scanning and sorting by (deadline, start sequence).
 *
 * It interprets the same operation records (see `harness.mjs`) as the runner that drives
 * a real loop, and produces the same kind of trace, so the two can be compared entry by
 * entry. It is plain JavaScript (with `// @ts-check` and `model.d.mts`) so that both the
 * vitest suite and `scripts/soak.mjs` import this one implementation.
 *
 * The rules it encodes, in one place:
 * - A turn at time `now`: (1) every timer armed before the turn began whose deadline is
 *   <= now, in (deadline, start sequence) order; (2) every task queued before the task
 *   phase began; (3) every immediate queued before the immediate phase began; a full
 *   microtask checkpoint after every callback (jobs queued by jobs included), then the
 *   rejection tracker's "notify" step (one task per checkpoint that left rejections).
 * - A timer's deadline is now + delay (html: WebIDL long, negatives 0, nesting clamp to
 *   4 ms when the creating timer task's level is > 5; node: outside [1, 2^31-1] -> 1,
 *   truncated, warnings). Equal deadlines fire in start order.
 * - html intervals are drift-free (next = due + period, missed beats skipped) and take
 *   their next start sequence (and, once their level > 5, the clamp) just before their
 *   callback, as Chromium does (so the next beat goes before timers the callback creates
 *   for the same deadline); node intervals count their next beat from the turn's time
 *   after the callback and take the sequence then (Node re-inserts them: the callback's
 *   timers for the same deadline run first).
 * - node: after a timer (immediate) callback throws, the next timer (immediate) of the
 *   same phase runs before the checkpoint (Node re-enters processTimers or
 *   processImmediate without runNextTicks); the checkpoint follows that callback, or
 *   ends the phase.
 * - Microtasks are not time: a checkpoint runs on the host's microtask queue after any
 *   top-level operation that left microtasks or rejections waiting.
 * - Clearing a due-but-not-run timer or immediate prevents it; clearing unknown, stale
 *   or foreign ids does nothing; nothing works after close except promise settlement,
 *   whose jobs then run on the host's microtask queue.
 * - advance/next/runAll/runToLast/runUntilIdle as in README "Virtual time": a drive runs
 *   what is runnable at the current time, then moves to the next deadline; `limit`
 *   bounds the turns at one time (runAll's bounds its time steps); next() is one turn
 *   firing at most one timer. A re-entrant drive from a callback throws ReentrancyError.
 * - Graceful shutdown: cancel timers, refuse new timers/tasks/immediates, run what is
 *   queued, reject waiting promises with TerminationError (handled), close.
 *
 * The bugs this model found in zigloop are fixed; model.test.ts keeps a regression test
 * for each ("fixed bugs").
 *
 * @module
 */
/** Delay values beyond plain integers, by name (the records stay JSON). */
export declare const DELAY_SPECIALS: Readonly<{
  NaN: number;
  undef: undefined;
  neg: -5;
  frac: 2.7;
  str: "7";
  big: number;
  huge: number;
  inf: number;
  negzero: 0;
  max: number;
  long: 86400000;
}>;
/** Values passed to clear*() that are never a live id or handle of the loop. */
export declare const BOGUS: readonly ({} | null | undefined)[];
/** @param {unknown} d */
export declare function delayValue(d: unknown): any;
/**
 * The end of virtual time in µs: 2^53 µs less the longest delay, so every deadline of a
 * timer created before it is an exact double (README "Virtual time").
 */
export declare const TIME_US_LIMIT: number;
/** The latest startTime in ms (what createEventLoop accepts). */
export declare const TIME_MS_LIMIT: number;
/** A model error: the loop would throw an error with this name. */
export declare class ModelThrow {
  name: string;
  tag: string | undefined;
  /** @param {string} name @param {string} [tag] which RangeError ("eor": advance past the end, "eovt": a timer due after it) */
  constructor(name: string, tag?: string);
}
/**
 * Hostile values callbacks throw and promises are rejected with: each has a trace label
 * registered here (the runner cannot ask a revoked Proxy or an object without a
 * prototype what it is: every question throws), and a kind that says what the default
 * printer can make of it.
 * - nullproto: `Object.create(null)` (String() throws);
 * - badError: an Error whose own `stack` and `message` getters throw;
 * - revoked: a revoked Proxy (every operation on it throws, even Object.prototype.toString).
 */
export declare const HOSTILE_KINDS: readonly string[];
/**
 * Registers `value` as a hostile value of `kind` with the trace label `label`.
 * @template {object} T @param {T} value @param {string} kind @param {string} label @returns {T}
 */
export declare function markHostile<T extends object>(value: T, kind: string, label: string): T;
/** The hostile kind of `value`, or undefined. @param {unknown} value */
export declare function hostileKind(value: unknown): string | undefined;
/**
 * What the default printer (report.ts errorText) prints for `value` after its prefix:
 * a string as is, "<stack>" for an Error with a stack, and for the hostile kinds the
 * fallbacks it reaches when a getter or a conversion throws.
 * @param {unknown} value
 */
export declare function printedText(value: unknown): string;
/** The model's stand-in for a hostile value of `kind` (only its label and kind matter). */
export declare function modelHostile(
  /** @type {string} */ kind: string,
  /** @type {string} */ label: string,
): {
  hostile: string;
};
/**
 * The label of a value, reason or error in traces (the real runner uses the same).
 * @param {any} v
 * @returns {string}
 */
export declare function valueLabel(v: any): string;
export type MHandle = {
  label: number;
  name: string;
  kind: "timeout" | "interval" | "immediate";
  live: boolean;
  armed: boolean;
  deadline: number;
  seq: number;
  delay: number;
  nesting: number;
  body: any[];
  stopAfter: number;
  beats: number;
  refed: boolean;
  cleared: boolean;
  primTaken: boolean;
  registered: boolean;
  chain: null | {
    k: number;
    depth: number;
    delay: any;
  };
  atShutdown: boolean;
  inBatch?: boolean;
  collected?: boolean;
};
export type MPromise = {
  label: string;
  state: "pending" | "fulfilled" | "rejected";
  value: any;
  reactions: MPromise[];
  handled: boolean;
  linked: boolean;
  attached: boolean;
  queued: boolean;
  thenable: boolean;
  thenableTarget: MPromise | undefined;
  onF: ((v: any) => any) | undefined;
  onR: ((v: any) => any) | undefined;
  jobArg: any;
  jobRejected: boolean;
};
export type MDeferred = {
  promise: MPromise;
  label: number;
  resolved: boolean;
};
export type Hooks = {
  onError: "collect" | "throws" | "default";
  secondary: string;
  listener: string | null;
};
export type MWatch = {
  label: number;
  types: string[];
  listening: boolean;
  closed: boolean;
  ref: boolean;
  readiness: Set<string>;
  iw: any;
};
export type MInstall = {
  who: number;
  target: number;
  promise: boolean;
};
export declare class Model {
  /** How the run's onError and unhandledrejection listener behave (see Hooks). */
  hooks: Hooks;
  /** loop.exitCode: 1 once the default printer (or a throwing onError's fallback) printed. */
  exitCode: number;
  /** Callbacks run since creation (monotone), and their values at the last resetMetrics(). */
  ran: {
    timers: number;
    tasks: number;
    immediates: number;
    microtasks: number;
  };
  ranAtReset: {
    timers: number;
    tasks: number;
    immediates: number;
    microtasks: number;
  };
  /** Tasks at the head of `tasks` that the running task phase has collected but not run. */
  tasksCollected: number;
  /** @type {MWatch[]} */
  watches: MWatch[];
  /** @type {undefined | { cancelledTimers: number, droppedTasks: number, droppedMicrotasks: number }} */
  closeReport:
    | undefined
    | {
        cancelledTimers: number;
        droppedTasks: number;
        droppedMicrotasks: number;
      };
  /**
   * installGlobals of this loop (who 0) and two helper loops (1, 2) onto two targets, in
   * install order; a disposed one is removed.
   * @type {MInstall[]}
   */
  installs: MInstall[];
  /** Called when a watch removes a listener from its source (the harness's source may call back). */
  /** @type {(w: MWatch) => void} */
  onRemoveListener: (w: MWatch) => void;
  /** capacity.timers: live timers, intervals and queued immediates (collected ones no longer count) */
  timersCap: number | undefined;
  profile: "html" | "node";
  html: boolean;
  nowUs: number;
  seq: number;
  /** @type {string[]} */
  trace: string[];
  /** @type {MHandle[]} every timer and immediate handle, in creation order (for picks) */
  handles: MHandle[];
  /** @type {MDeferred[]} */
  deferreds: MDeferred[];
  nextLabel: number;
  /** @type {Array<{ run: () => void, atShutdown?: boolean }>} */
  tasks: Array<{
    run: () => void;
    atShutdown?: boolean;
  }>;
  /** @type {MHandle[]} immediates in queue order (cleared ones stay as tombstones) */
  immediates: MHandle[];
  /** @type {Array<() => void>} */
  micro: Array<() => void>;
  /** @type {Array<() => void>} the host's microtask queue (promise jobs after close) */
  hostMicro: Array<() => void>;
  /** @type {Array<() => void>} host macrotasks (loop tasks queued after close) */
  hostMacro: Array<() => void>;
  closedCheckpointQueued: boolean;
  depth: number;
  nesting: number;
  checkpointing: boolean;
  stopping: boolean;
  closed: boolean;
  /** @type {undefined | { cancelled: number, queuedAtStart: number, report?: string }} */
  shutdownState:
    | undefined
    | {
        cancelled: number;
        queuedAtStart: number;
        report?: string;
      };
  /** @type {Array<{ kind: "shutdown", state: any } | { kind: "run", name: string }>} */
  outcomes: Array<
    | {
        kind: "shutdown";
        state: any;
      }
    | {
        kind: "run";
        name: string;
      }
  >;
  warnedNegative: boolean;
  warnedNaN: boolean;
  /** @type {null | Array<{ h: MHandle, dropped: boolean }>} the timer batch of the running turn */
  batch: null | Array<{
    h: MHandle;
    dropped: boolean;
  }>;
  batchPos: number;
  /** @type {MPromise[]} pending promises with reactions that wait on nothing in the loop, in link order */
  linked: MPromise[];
  terminated: boolean;
  /** @type {Set<any>} */
  terminationReasons: Set<any>;
  /** @type {Map<MPromise, any>} HTML's about-to-be-notified rejected promises list */
  aboutToBeNotified: Map<MPromise, any>;
  /** @type {Set<MPromise>} HTML's outstanding rejected promises weak set */
  outstanding: Set<MPromise>;
  /** @type {MPromise[]} node: reported rejections handled since the last checkpoint end */
  handledLater: MPromise[];
  /** The handle whose callback runs (for `self` targets), or undefined. */
  /** @type {MHandle | undefined} */
  current: MHandle | undefined;
  ranAtShutdown: number;
  /** Whether `loop.Promise` has been created (it is created on first use). */
  promiseClass: boolean;
  /**
   * @param {{ profile: "html"|"node", startTime?: number, timersCap?: number, hooks?: Hooks }} options
   */
  constructor(options: {
    profile: "html" | "node";
    startTime?: number;
    timersCap?: number;
    hooks?: Hooks;
  });
  /** The loop time in ms, as `loop.now()` reports it (µs / 1000). */
  get now(): number;
  /** The loop's `pending` as zigloop reports it. */
  keepsAlive(): boolean;
  pending(): {
    timers: number;
    immediates: number;
    tasks: number;
    microtasks: number;
    refs: number;
  };
  state(): "closed" | "idle" | "running" | "stopping";
  /** @param {string} entry */
  log(entry: string): void;
  /**
   * An uncaught error reaches onError (report.ts reportSafely): recorded, or printed by
   * the default printer; an onError that throws has both errors printed and the loop
   * goes on.
   * @param {unknown} error
   */
  onError(error: unknown): void;
  /** resetMetrics(): a new window (a no-op once closed). */
  resetMetrics(): void;
  /**
   * What metrics() reports that the model derives: counts since the last reset, and the
   * current queue depths (the core's: a collected task, timer or immediate is no longer
   * queued even before it runs), watched sources.
   */
  metrics(): {
    timersFired: number;
    tasksExecuted: number;
    immediatesExecuted: number;
    microtasksExecuted: number;
    ingress: number;
    microtasks: number;
    timers: number;
    immediates: number;
    watchers: number;
  };
  /** Delay after the profile's coercion (and warnings), or throws like zigloop. */
  coerceDelay(/** @type {unknown} */ timeout: unknown): number;
  /** What counts against capacity.timers (the core's live handles minus collected ones). */
  timersCounted(): number;
  checkCapacity(): void;
  refuse(): void;
  /**
   * setTimeout / setInterval. Returns the handle.
   * @param {"timeout"|"interval"} kind
   * @param {unknown} timeout
   * @param {Partial<MHandle>} extra
   */
  addTimer(kind: "timeout" | "interval", timeout: unknown, extra: Partial<MHandle>): MHandle;
  /** clearTimeout/clearInterval of a handle of this loop (the object path in node). */
  clearTimer(/** @type {MHandle} */ h: MHandle): void;
  /** html clearTimeout(number): only a live timer (not an immediate) with that id. */
  clearTimerById(/** @type {MHandle} */ h: MHandle): void;
  clearImmediate(/** @type {MHandle} */ h: MHandle): void;
  /** node: Number(timeout) — Symbol.toPrimitive registers a live timer in knownTimersById once. */
  toPrimitive(/** @type {MHandle} */ h: MHandle): void;
  /** node: timeout.refresh(). */
  refresh(/** @type {MHandle} */ h: MHandle): void;
  /** node: ref()/unref() */
  setRef(/** @type {MHandle} */ h: MHandle, /** @type {boolean} */ ref: boolean): void;
  nextDeadline(): number;
  lastDeadline(): number;
  /** Drift-free: the next beat after `due` (µs) that is still ahead. @param {number} due @param {number} periodMs */
  nextIntervalDeadline(due: number, periodMs: number): number;
  /** @param {Partial<MHandle>} extra */
  addImmediate(extra: Partial<MHandle>): MHandle;
  /** submit(fn) */
  submit(/** @type {() => void} */ run: () => void): void;
  /** queueMicrotask(fn) */
  queueMicrotask(/** @type {() => void} */ job: () => void): void;
  /** Promise jobs: the loop's queue, or the host's after close. */
  enqueueJob(/** @type {() => void} */ job: () => void): void;
  /** Tasks the loop queues for itself (rejection events): real tasks, also while stopping. */
  queueInternalTask(/** @type {() => void} */ task: () => void): void;
  /** Runs a user callback: errors go to onError. */
  call(/** @type {() => void} */ fn: () => void): boolean;
  /** The microtask checkpoint. */
  checkpoint(): void;
  /** A checkpoint outside a turn (start of a driving call). */
  checkpointNow(): void;
  /** @param {(h: MHandle) => void} body @param {MHandle} h @returns {boolean} whether it threw */
  runHandle(h: MHandle, body: (h: MHandle) => void): boolean;
  /** @param {MHandle} h @param {(h: MHandle) => void} callback @returns {boolean} whether it threw */
  runTimer(h: MHandle, callback: (h: MHandle) => void): boolean;
  /** @param {MHandle} h @param {number} level */
  rearm(h: MHandle, level: number): void;
  /**
   * One turn at `this.now`. `callbacks` maps a handle to what its callback does.
   * @param {boolean} oneTimer @param {(h: MHandle) => void} onHandle
   */
  runTurn(oneTimer: boolean, onHandle: (h: MHandle) => void): void;
  runnableNow(): boolean;
  /** @param {number} limit @param {(h: MHandle) => void} onHandle */
  drainNow(limit: number, onHandle: (h: MHandle) => void): void;
  /**
   * A drive: turns at the current time while something is runnable (at most
   * `turnsPerInstant` of them), then the next deadline, up to `target`.
   * @param {{ target: number, turnsPerInstant: number, maxSteps: number, oneTurn?: boolean, untilUnrefd?: boolean }} d
   * @param {(h: MHandle) => void} onHandle
   */
  drive(
    d: {
      target: number;
      turnsPerInstant: number;
      maxSteps: number;
      oneTurn?: boolean;
      untilUnrefd?: boolean;
    },
    onHandle: (h: MHandle) => void,
  ): void;
  assertDrivable(): void;
  /** @param {number} ms @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  advance(ms: number, limit: number | undefined, onHandle: (h: MHandle) => void): number;
  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runUntilIdle(limit: number | undefined, onHandle: (h: MHandle) => void): void;
  /** @param {(h: MHandle) => void} onHandle */
  next(onHandle: (h: MHandle) => void): number;
  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runAll(limit: number | undefined, onHandle: (h: MHandle) => void): number;
  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runToLast(limit: number | undefined, onHandle: (h: MHandle) => void): number;
  /**
   * `await run()` on the manual clock: a drive to no deadline that stops once nothing
   * ref'd is left (README Lifecycle, `uv_loop_alive`). Returns "ok" or the name of the
   * error it rejects with.
   * @param {(h: MHandle) => void} onHandle
   */
  runVirtual(onHandle: (h: MHandle) => void): string;
  /** The host's microtask checkpoint after a top-level operation (microtasks are not time). */
  hostCheckpoint(): void;
  /** shutdown() (graceful): the synchronous part. Returns what the call's promise will resolve to. */
  shutdown(): {
    cancelled: number;
    queuedAtStart: number;
    report?: string;
  };
  /** The asynchronous part of a graceful shutdown (runs when the caller awaits). */
  finishShutdown(/** @type {(h: MHandle) => void} */ onHandle: (h: MHandle) => void): void;
  /**
   * close(): refuses new work first (a listener removed while the watches detach may call
   * back into the loop), then drops everything; returns what it dropped (the same report
   * when called again, and the one of the close that ended a graceful shutdown).
   */
  close(): {
    cancelledTimers: number;
    droppedTasks: number;
    droppedMicrotasks: number;
  };
  /**
   * watch(source, callback, { events: types }): listens for each type, all or nothing:
   * if the source refuses the `failAt`-th listener, the ones added are removed (each
   * removal may call back into the loop) and the error propagates; nothing changed.
   * @param {any} iw the interpreter's record @param {string[]} types @param {number} failAt
   */
  addWatch(iw: any, types: string[], failAt: number): MWatch;
  /** Stops listening (each listener removed from the source); queued events still run. */
  stopListening(/** @type {MWatch} */ w: MWatch): void;
  /** watch.close(): final; drops its queued events (their tasks run and deliver nothing). */
  closeWatch(/** @type {MWatch} */ w: MWatch): void;
  /** The source emits `type`: a listening watch queues a task that delivers it. */
  emit(
    /** @type {MWatch} */ w: MWatch,
    /** @type {string} */ type: string,
    /** @type {(w: MWatch, type: string) => void} */ deliver: (w: MWatch, type: string) => void,
  ): void;
  /** installGlobals of loop `who` onto target `target`; returns the record (the disposer's key). */
  install(
    /** @type {number} */ who: number,
    /** @type {number} */ target: number,
    /** @type {boolean} */ promise: boolean,
  ): MInstall;
  /** The disposer: idempotent; any order. */
  uninstall(/** @type {MInstall} */ record: MInstall): void;
  /**
   * Who owns `name` on `target`: the newest installation still in place that installed
   * it, else the original ("o", or "-" when the target had none).
   * @param {number} target @param {"setTimeout"|"setImmediate"|"Promise"} name
   */
  owner(target: number, name: "setTimeout" | "setImmediate" | "Promise"): string;
  /** html: the `this` of this loop's callbacks: its newest installation's target, or the global. */
  thisTag(): string;
  /** After an operation, the host's own queues run (only used once the loop is closed). */
  drainHost(): void;
  /** Promise.withResolvers() */
  newDeferred(/** @type {number} */ label: number): MDeferred;
  /** The deferred's resolve/reject function (one [[AlreadyResolved]] for the pair). */
  settleDeferred(
    /** @type {MDeferred} */ d: MDeferred,
    /** @type {boolean} */ reject: boolean,
    /** @type {any} */ value: any,
  ): void;
  /** @param {MPromise} p */
  notWaiting(p: MPromise): boolean;
  /** @param {MPromise} p @param {any} x */
  resolvePromise(p: MPromise, x: any): void;
  /** @param {MPromise} p @param {any} value */
  fulfillPromise(p: MPromise, value: any): void;
  /** @param {MPromise} p @param {any} reason */
  rejectPromise(p: MPromise, reason: any): void;
  /** @param {MPromise} p */
  unlink(p: MPromise): void;
  /** @param {MPromise} child @param {any} arg @param {boolean} rejected */
  queueChild(child: MPromise, arg: any, rejected: boolean): void;
  /** @param {MPromise} child */
  childJob(child: MPromise): void;
  /** @param {MPromise} p */
  thenableJob(p: MPromise): void;
  /** @param {MPromise} p @param {MPromise} child */
  attachChild(p: MPromise, child: MPromise): void;
  /** @param {MPromise} p @param {MPromise} reaction */
  addReaction(p: MPromise, reaction: MPromise): void;
  /** loop.Promise.resolve().then(fn): `fn` runs as a promise job. */
  resolvedThen(
    /** @type {string} */ label: string,
    /** @type {() => void} */ fn: () => void,
  ): MPromise;
  /** p.then(onF, onR): returns the derived promise. */
  then(
    /** @type {MPromise} */ p: MPromise,
    /** @type {string} */ label: string,
    /** @type {(v: any) => any} */ onF: (v: any) => any,
    /** @type {(v: any) => any} */ onR: (v: any) => any,
  ): MPromise;
  /** @param {MPromise} p */
  terminateIfWaiting(p: MPromise): void;
  terminatePending(/** @type {any} */ reason: any): number;
  /** @param {MPromise} p */
  onHandle(p: MPromise): void;
  /**
   * A closed loop has no checkpoints: its rejections are still notified, at the end of a
   * later host task (README Lifecycle).
   */
  closedCheckpointNeeded(): void;
  checkpointEnd(): void;
  /**
   * Fires `unhandledrejection` for each promise still unhandled, then reports it (html:
   * the reason; node "throw" mode: the reason if it is error-like, else an
   * UnhandledPromiseRejection wrapping it). A listener that throws is reported and the
   * rest goes on. node: asking a revoked Proxy whether it is error-like throws; as in
   * Node's processPromiseRejections that TypeError is what gets reported (after the
   * other entries), and the promise is not remembered as reported.
   * @param {Map<MPromise, any>} list
   */
  notify(list: Map<MPromise, any>): void;
}
