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
 * - Intervals are drift-free (next = due + period, missed beats skipped); after its
 *   callback a still-live interval takes a new start sequence (so timers its callback
 *   created for the same deadline run first) and, html, is clamped once its level > 5.
 * - Clearing a due-but-not-run timer or immediate prevents it; clearing unknown, stale
 *   or foreign ids does nothing; nothing works after close except promise settlement,
 *   whose jobs then run on the host's microtask queue.
 * - advance/next/runAll/runToLast/runUntilIdle as in README "Virtual time"; a
 *   re-entrant drive from a callback throws ReentrancyError.
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
}>;
/** Values passed to clear*() that are never a live id or handle of the loop. */
export declare const BOGUS: readonly ({} | null | undefined)[];
/** @param {unknown} d */
export declare function delayValue(d: unknown): any;
/** A model error: the loop would throw an error with this name. */
export declare class ModelThrow {
  name: string;
  /** @param {string} name */
  constructor(name: string);
}
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
export declare class Model {
  /** capacity.timers: live timers, intervals and queued immediates (collected ones no longer count) */
  timersCap: number | undefined;
  profile: "html" | "node";
  html: boolean;
  now: number;
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
   * @param {{ profile: "html"|"node", startTime?: number, timersCap?: number }} options
   */
  constructor(options: {
    profile: "html" | "node";
    startTime?: number;
    timersCap?: number;
  });
  /** The loop's `pending` as zigloop reports it. */
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
  /** @param {unknown} error */
  onError(error: unknown): void;
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
  /** @param {number} due @param {number} period */
  nextIntervalDeadline(due: number, period: number): number;
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
  /** Runs a user callback: errors go to onError. Returns whether it threw. */
  call(/** @type {() => void} */ fn: () => void): boolean;
  /** The microtask checkpoint. */
  checkpoint(): void;
  /** A checkpoint outside a turn (start of a driving call). */
  checkpointNow(): void;
  /** @param {(h: MHandle) => void} body @param {MHandle} h */
  runHandle(h: MHandle, body: (h: MHandle) => void): boolean;
  /** @param {MHandle} h @param {(h: MHandle) => void} callback */
  runTimer(h: MHandle, callback: (h: MHandle) => void): boolean;
  /**
   * One turn at `this.now`. `callbacks` maps a handle to what its callback does.
   * @param {boolean} oneTimer @param {(h: MHandle) => void} onHandle
   */
  runTurn(oneTimer: boolean, onHandle: (h: MHandle) => void): void;
  runnableNow(): boolean;
  /** @param {number} limit @param {(h: MHandle) => void} onHandle */
  drainNow(limit: number, onHandle: (h: MHandle) => void): void;
  /** A drive: turns while runnable at the current time (bounded), then the next deadline, up to target. */
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
  /** @param {(h: MHandle) => void} onHandle */
  runToLast(onHandle: (h: MHandle) => void): number;
  /**
   * `await run()` on the manual clock: drains, then moves time from deadline to deadline
   * (one turn per step) until nothing ref'd is left (README Lifecycle, `uv_loop_alive`).
   * Returns "ok" or the name of the error it rejects with.
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
  /** close(): drops everything. */
  close(): void;
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
  checkpointEnd(): void;
  /** @param {Map<MPromise, any>} list */
  notify(list: Map<MPromise, any>): void;
}
