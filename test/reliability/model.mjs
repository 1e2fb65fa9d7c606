// @ts-check
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
export const DELAY_SPECIALS = Object.freeze({
  NaN: NaN,
  undef: undefined,
  neg: -5,
  frac: 2.7,
  str: "7",
  big: 2 ** 31,
  huge: 2 ** 32 + 5,
  inf: Infinity,
  negzero: -0,
  // The longest delay, and a day: only in runs that start near the end of virtual time,
  // where they fall due after it (elsewhere an interval would beat millions of times).
  max: 2 ** 31 - 1,
  long: 86_400_000,
});

/** Values passed to clear*() that are never a live id or handle of the loop. */
export const BOGUS = Object.freeze([
  0,
  -1,
  NaN,
  undefined,
  null,
  "x",
  {},
  1e9,
  2 ** 31 + 7,
  -0,
  [],
  () => 1,
]);

/** @param {unknown} d */
export function delayValue(d) {
  return typeof d === "number" ? d : /** @type {any} */ (DELAY_SPECIALS)[/** @type {string} */ (d)];
}

const TIMEOUT_MAX = 2 ** 31 - 1;
const NESTING_LIMIT = 5;
const CLAMP_MS = 4;
const DRIVE_LIMIT = 100_000;
const RUN_ALL_LIMIT = 1_000_000;
/** Timers, tasks or immediates the real loop collects from the core at once (metrics' default latencyGroup). */
const COLLECT_MAX = 64;
/**
 * The end of virtual time in µs: 2^53 µs less the longest delay, so every deadline of a
 * timer created before it is an exact double (README "Virtual time").
 */
export const TIME_US_LIMIT = 2 ** 53 - TIMEOUT_MAX * 1000;
/** The latest startTime in ms (what createEventLoop accepts). */
export const TIME_MS_LIMIT = Math.floor(TIME_US_LIMIT / 1000);

/** A model error: the loop would throw an error with this name. */
export class ModelThrow {
  /** @param {string} name @param {string} [tag] which RangeError ("eor": advance past the end, "eovt": a timer due after it) */
  constructor(name, tag) {
    this.name = name;
    this.tag = tag;
  }
}

/** Error-like rejection reasons of the model (TypeError of self-resolution, TerminationError). */
const TYPE_ERROR = Object.freeze({ name: "TypeError" });
const TERMINATION = Object.freeze({ name: "TerminationError" });

/**
 * Hostile values callbacks throw and promises are rejected with: each has a trace label
 * registered here (the runner cannot ask a revoked Proxy or an object without a
 * prototype what it is: every question throws), and a kind that says what the default
 * printer can make of it.
 * - nullproto: `Object.create(null)` (String() throws);
 * - badError: an Error whose own `stack` and `message` getters throw;
 * - revoked: a revoked Proxy (every operation on it throws, even Object.prototype.toString).
 */
export const HOSTILE_KINDS = Object.freeze(["nullproto", "badError", "revoked"]);

/** @type {WeakMap<object, { kind: string, label: string }>} */
const hostiles = new WeakMap();

/**
 * Registers `value` as a hostile value of `kind` with the trace label `label`.
 * @template {object} T @param {T} value @param {string} kind @param {string} label @returns {T}
 */
export function markHostile(value, kind, label) {
  hostiles.set(value, { kind, label });
  return value;
}

/** The hostile kind of `value`, or undefined. @param {unknown} value */
export function hostileKind(value) {
  return value !== null && (typeof value === "object" || typeof value === "function")
    ? hostiles.get(value)?.kind
    : undefined;
}

/**
 * What the default printer (report.ts errorText) prints for `value` after its prefix:
 * a string as is, "<stack>" for an Error with a stack, and for the hostile kinds the
 * fallbacks it reaches when a getter or a conversion throws.
 * @param {unknown} value
 */
export function printedText(value) {
  switch (hostileKind(value)) {
    case "nullproto":
      return "[object Object]";
    case "badError":
      return "[object Error]";
    case "revoked":
      return "<an error that cannot be printed>";
    default:
      return typeof value === "string" ? value : "<stack>";
  }
}

/** The model's stand-in for a hostile value of `kind` (only its label and kind matter). */
export function modelHostile(/** @type {string} */ kind, /** @type {string} */ label) {
  return markHostile({ hostile: kind }, kind, label);
}

/**
 * Node's isErrorLike (an own `stack`), as the rejection tracker asks it of a reason: the
 * model's error objects stand for real errors (they have one), a badError has one, a
 * string or a nullproto has none, and asking a revoked Proxy throws (undefined here).
 * @param {unknown} reason @returns {boolean | undefined}
 */
function errorLike(reason) {
  const kind = hostileKind(reason);
  if (kind === "revoked") return undefined;
  if (kind !== undefined) return kind === "badError";
  return reason !== null && typeof reason === "object";
}

/**
 * The label of a value, reason or error in traces (the real runner uses the same).
 * @param {any} v
 * @returns {string}
 */
export function valueLabel(v) {
  if (v !== null && (typeof v === "object" || typeof v === "function")) {
    const hostile = hostiles.get(v);
    if (hostile !== undefined) return hostile.label;
  }
  if (v === undefined) return "u";
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object") {
    if (v.name === "TerminationError") return "Term";
    if (v.name === "UnhandledPromiseRejection") return `UPR(${valueLabel(v.reason)})`;
    if (typeof v.name === "string") return v.name;
  }
  return String(v);
}

/**
 * @typedef {{ label: number, name: string, kind: "timeout"|"interval"|"immediate", live: boolean, armed: boolean,
 *   deadline: number, seq: number, delay: number, nesting: number, body: any[], stopAfter: number, beats: number,
 *   refed: boolean, cleared: boolean, primTaken: boolean, registered: boolean, chain: null | { k: number, depth: number, delay: any },
 *   atShutdown: boolean, inBatch?: boolean, collected?: boolean }} MHandle
 * @typedef {{ label: string, state: "pending"|"fulfilled"|"rejected", value: any, reactions: MPromise[], handled: boolean,
 *   linked: boolean, attached: boolean, queued: boolean, thenable: boolean, thenableTarget: MPromise | undefined,
 *   onF: ((v: any) => any) | undefined, onR: ((v: any) => any) | undefined, jobArg: any, jobRejected: boolean }} MPromise
 * @typedef {{ promise: MPromise, label: number, resolved: boolean }} MDeferred
 */

/**
 * @typedef {{ onError: "collect"|"throws"|"default", secondary: string, listener: string | null }} Hooks
 *   onError: "collect" records errors; "throws" records them and then throws a hostile value
 *   of kind `secondary` (the loop must print both and go on); "default" leaves the loop's
 *   default printer (console.error). listener: the kind of hostile value the
 *   unhandledrejection listener throws after recording the event, or null.
 * @typedef {{ label: number, types: string[], listening: boolean, closed: boolean, ref: boolean,
 *   readiness: Set<string>, iw: any }} MWatch
 * @typedef {{ who: number, target: number, promise: boolean }} MInstall
 */

/** @type {Hooks} */
const DEFAULT_HOOKS = Object.freeze({ onError: "collect", secondary: "nullproto", listener: null });

/** Watch event types that are readiness (consecutive ones coalesce while one is queued). */
const COALESCED = new Set(["readable", "writable"]);

/** @returns {MPromise} */
function newPromise(/** @type {string} */ label) {
  return {
    label,
    state: "pending",
    value: undefined,
    reactions: [],
    handled: false,
    linked: false,
    attached: false,
    queued: false,
    thenable: false,
    thenableTarget: undefined,
    onF: undefined,
    onR: undefined,
    jobArg: undefined,
    jobRejected: false,
  };
}

export class Model {
  /**
   * @param {{ profile: "html"|"node", startTime?: number, timersCap?: number, hooks?: Hooks }} options
   */
  constructor(options) {
    /** How the run's onError and unhandledrejection listener behave (see Hooks). */
    this.hooks = options.hooks ?? DEFAULT_HOOKS;
    /** loop.exitCode: 1 once the default printer (or a throwing onError's fallback) printed. */
    this.exitCode = 0;
    /** Callbacks run since creation (monotone), and their values at the last resetMetrics(). */
    this.ran = { timers: 0, tasks: 0, immediates: 0, microtasks: 0 };
    this.ranAtReset = { ...this.ran };
    /** Tasks at the head of `tasks` that the running task phase has collected but not run. */
    this.tasksCollected = 0;
    /** @type {MWatch[]} */
    this.watches = [];
    /** @type {undefined | { cancelledTimers: number, droppedTasks: number, droppedMicrotasks: number }} */
    this.closeReport = undefined;
    /**
     * installGlobals of this loop (who 0) and two helper loops (1, 2) onto two targets, in
     * install order; a disposed one is removed.
     * @type {MInstall[]}
     */
    this.installs = [];
    /** Called when a watch removes a listener from its source (the harness's source may call back). */
    /** @type {(w: MWatch) => void} */
    this.onRemoveListener = () => {};
    /** capacity.timers: live timers, intervals and queued immediates (collected ones no longer count) */
    this.timersCap = options.timersCap;
    this.profile = options.profile;
    this.html = options.profile === "html";
    // Whole microseconds, like the real clock: near the end of the range a millisecond
    // double cannot hold every microsecond, so the model never computes in ms.
    this.nowUs = Math.round((options.startTime ?? 0) * 1000);
    this.seq = 0;
    /** @type {string[]} */
    this.trace = [];
    /** @type {MHandle[]} every timer and immediate handle, in creation order (for picks) */
    this.handles = [];
    /** @type {MDeferred[]} */
    this.deferreds = [];
    this.nextLabel = 1;
    /** @type {Array<{ run: () => void, atShutdown?: boolean }>} */
    this.tasks = [];
    /** @type {MHandle[]} immediates in queue order (cleared ones stay as tombstones) */
    this.immediates = [];
    /** @type {Array<() => void>} */
    this.micro = [];
    /** @type {Array<() => void>} the host's microtask queue (promise jobs after close) */
    this.hostMicro = [];
    /** @type {Array<() => void>} host macrotasks (loop tasks queued after close) */
    this.hostMacro = [];
    this.closedCheckpointQueued = false;
    this.depth = 0;
    this.nesting = 0;
    this.checkpointing = false;
    this.stopping = false;
    this.closed = false;
    /** @type {undefined | { cancelled: number, queuedAtStart: number, report?: string }} */
    this.shutdownState = undefined;
    /** @type {Array<{ kind: "shutdown", state: any } | { kind: "run", name: string }>} */
    this.outcomes = [];
    this.warnedNegative = false;
    this.warnedNaN = false;
    /** @type {null | Array<{ h: MHandle, dropped: boolean }>} the timer batch of the running turn */
    this.batch = null;
    this.batchPos = 0;
    // Promise machinery (ECMA-262 §27.2 with zigloop's termination rules).
    /** @type {MPromise[]} pending promises with reactions that wait on nothing in the loop, in link order */
    this.linked = [];
    this.terminated = false;
    /** @type {Set<any>} */
    this.terminationReasons = new Set();
    /** @type {Map<MPromise, any>} HTML's about-to-be-notified rejected promises list */
    this.aboutToBeNotified = new Map();
    /** @type {Set<MPromise>} HTML's outstanding rejected promises weak set */
    this.outstanding = new Set();
    /** @type {MPromise[]} node: reported rejections handled since the last checkpoint end */
    this.handledLater = [];
    /** The handle whose callback runs (for `self` targets), or undefined. */
    /** @type {MHandle | undefined} */
    this.current = undefined;
    this.ranAtShutdown = 0;
    /** Whether `loop.Promise` has been created (it is created on first use). */
    this.promiseClass = false;
  }

  // ---- observation ----------------------------------------------------------------

  /** The loop time in ms, as `loop.now()` reports it (µs / 1000). */
  get now() {
    return this.nowUs / 1000;
  }

  /** The loop's `pending` as zigloop reports it. */
  keepsAlive() {
    const p = this.pending();
    return p.refs > 0 || p.tasks > 0 || p.microtasks > 0;
  }

  pending() {
    let timers = 0;
    let immediates = 0;
    let refs = 0;
    for (const w of this.watches) if (w.listening && w.ref) refs++;
    for (const h of this.handles) {
      if (!h.live) continue;
      if (h.kind === "immediate") immediates++;
      else timers++;
      if (h.refed) refs++;
    }
    return { timers, immediates, tasks: this.tasks.length, microtasks: this.micro.length, refs };
  }

  state() {
    if (this.closed) return "closed";
    if (this.stopping) return "stopping";
    return this.depth > 0 ? "running" : "idle";
  }

  /** @param {string} entry */
  log(entry) {
    this.trace.push(entry);
  }

  /**
   * An uncaught error reaches onError (report.ts reportSafely): recorded, or printed by
   * the default printer; an onError that throws has both errors printed and the loop
   * goes on.
   * @param {unknown} error
   */
  onError(error) {
    const hooks = this.hooks;
    if (hooks.onError === "default") {
      this.exitCode = 1;
      this.log(`print:cb:${printedText(error)}`);
      return;
    }
    this.log(`err:${valueLabel(error)}`);
    if (hooks.onError === "throws") {
      this.exitCode = 1;
      this.log(`print:hook:${printedText(modelHostile(hooks.secondary, "secondary"))}`);
      this.log(`print:cb:${printedText(error)}`);
    }
  }

  // ---- metrics ----------------------------------------------------------------------

  /** resetMetrics(): a new window (a no-op once closed). */
  resetMetrics() {
    if (!this.closed) this.ranAtReset = { ...this.ran };
  }

  /**
   * What metrics() reports that the model derives: counts since the last reset, and the
   * current queue depths (the core's: a collected task, timer or immediate is no longer
   * queued even before it runs), watched sources.
   */
  metrics() {
    const r = this.ran;
    const b = this.ranAtReset;
    const timers = r.timers - b.timers;
    const immediates = r.immediates - b.immediates;
    let armed = 0;
    let queuedImmediates = 0;
    for (const h of this.handles) {
      if (h.kind === "immediate") {
        if (h.live && !h.collected) queuedImmediates++;
      } else if (h.armed) armed++;
    }
    return {
      timersFired: timers,
      tasksExecuted: timers + immediates + r.tasks - b.tasks,
      immediatesExecuted: immediates,
      microtasksExecuted: r.microtasks - b.microtasks,
      ingress: this.tasks.length - this.tasksCollected,
      microtasks: this.micro.length,
      timers: armed,
      immediates: queuedImmediates,
      watchers: this.watches.filter((w) => w.listening).length,
    };
  }

  // ---- timers ---------------------------------------------------------------------

  /** Delay after the profile's coercion (and warnings), or throws like zigloop. */
  coerceDelay(/** @type {unknown} */ timeout) {
    if (this.html) {
      let delay;
      if (typeof timeout === "number") delay = timeout | 0;
      else delay = +(/** @type {any} */ (timeout)) | 0;
      if (delay < 0) delay = 0;
      if (this.nesting > NESTING_LIMIT && delay < CLAMP_MS) delay = CLAMP_MS;
      return delay;
    }
    if (typeof timeout === "number" && timeout >= 1 && timeout <= TIMEOUT_MAX)
      return Math.trunc(timeout);
    const after = timeout === undefined ? undefined : /** @type {number} */ (timeout) * 1;
    if (after !== undefined && !(after >= 1 && after <= TIMEOUT_MAX)) {
      if (after > TIMEOUT_MAX) this.log("warn:TimeoutOverflowWarning");
      else if (after < 0) {
        if (!this.warnedNegative) this.log("warn:TimeoutNegativeWarning");
        this.warnedNegative = true;
      } else if (Number.isNaN(after)) {
        if (!this.warnedNaN) this.log("warn:TimeoutNaNWarning");
        this.warnedNaN = true;
      }
    }
    const ms = /** @type {number} */ (after) * 1;
    if (!(ms >= 1 && ms <= TIMEOUT_MAX)) return 1;
    return Math.trunc(ms);
  }

  /** What counts against capacity.timers (the core's live handles minus collected ones). */
  timersCounted() {
    let n = 0;
    for (const h of this.handles) {
      if (h.kind === "immediate" ? h.live && !h.collected : h.armed) n++;
    }
    return n;
  }

  checkCapacity() {
    if (this.timersCap !== undefined && this.timersCounted() >= this.timersCap)
      throw new ModelThrow("CapacityError");
  }

  refuse() {
    throw new ModelThrow(this.closed ? "LoopClosedError" : "LoopShuttingDownError");
  }

  /**
   * setTimeout / setInterval. Returns the handle.
   * @param {"timeout"|"interval"} kind
   * @param {unknown} timeout
   * @param {Partial<MHandle>} extra
   */
  addTimer(kind, timeout, extra) {
    if (this.closed || this.stopping) this.refuse();
    const delay = this.coerceDelay(timeout);
    this.checkCapacity();
    /** @type {MHandle} */
    const h = {
      label: 0,
      name: "",
      kind,
      live: true,
      armed: true,
      deadline: this.nowUs + delay * 1000,
      seq: this.seq++,
      delay,
      nesting: Math.min(this.nesting + 1, 255),
      body: [],
      stopAfter: 0,
      beats: 0,
      refed: true,
      cleared: false,
      primTaken: false,
      registered: false,
      chain: null,
      atShutdown: false,
      ...extra,
    };
    this.handles.push(h);
    return h;
  }

  /** clearTimeout/clearInterval of a handle of this loop (the object path in node). */
  clearTimer(/** @type {MHandle} */ h) {
    if (this.closed || h.kind === "immediate") return;
    if (h.live) {
      h.live = false;
      h.armed = false;
    }
    h.cleared = true;
    h.registered = false;
  }

  /** html clearTimeout(number): only a live timer (not an immediate) with that id. */
  clearTimerById(/** @type {MHandle} */ h) {
    if (this.closed || h.kind === "immediate" || !h.live) return;
    h.live = false;
    h.armed = false;
  }

  clearImmediate(/** @type {MHandle} */ h) {
    if (this.closed || h.kind !== "immediate" || !h.live) return;
    h.live = false;
  }

  /** node: Number(timeout) — Symbol.toPrimitive registers a live timer in knownTimersById once. */
  toPrimitive(/** @type {MHandle} */ h) {
    if (!h.primTaken) {
      h.primTaken = true;
      if (h.live) h.registered = true;
    }
  }

  /** node: timeout.refresh(). */
  refresh(/** @type {MHandle} */ h) {
    if (h.cleared || this.closed) return;
    if (this.stopping) throw new ModelThrow("LoopShuttingDownError");
    if (!h.live) {
      // A fired one-shot is revived (nesting restarts at 1). While its record is still in
      // this turn's timer batch the core re-arms it in place; afterwards it needs a new
      // record, which counts against capacity.
      if (!h.inBatch) this.checkCapacity();
      h.live = true;
      h.nesting = 1;
    }
    h.armed = true;
    h.deadline = this.nowUs + h.delay * 1000;
    h.seq = this.seq++;
    if (this.batch) {
      for (let i = this.batchPos; i < this.batch.length; i++)
        if (this.batch[i].h === h) this.batch[i].dropped = true;
    }
  }

  /** node: ref()/unref() */
  setRef(/** @type {MHandle} */ h, /** @type {boolean} */ ref) {
    h.refed = ref;
  }

  nextDeadline() {
    let next = Infinity;
    for (const h of this.handles) if (h.armed && h.deadline < next) next = h.deadline;
    return next;
  }

  lastDeadline() {
    let last = -Infinity;
    for (const h of this.handles) if (h.armed && h.deadline > last) last = h.deadline;
    return last;
  }

  /** Drift-free: the next beat after `due` (µs) that is still ahead. @param {number} due @param {number} periodMs */
  nextIntervalDeadline(due, periodMs) {
    if (periodMs === 0) return this.nowUs;
    const period = periodMs * 1000;
    let next = due + period;
    if (next <= this.nowUs) next = due + (Math.floor((this.nowUs - due) / period) + 1) * period;
    return next;
  }

  // ---- immediates, tasks, microtasks ---------------------------------------------

  /** @param {Partial<MHandle>} extra */
  addImmediate(extra) {
    if (this.closed || this.stopping) this.refuse();
    this.checkCapacity();
    /** @type {MHandle} */
    const h = {
      label: 0,
      name: "",
      kind: "immediate",
      live: true,
      armed: false,
      deadline: 0,
      seq: 0,
      delay: 0,
      nesting: 0,
      body: [],
      stopAfter: 0,
      beats: 0,
      refed: true,
      cleared: false,
      primTaken: false,
      registered: false,
      chain: null,
      atShutdown: false,
      ...extra,
    };
    this.handles.push(h);
    this.immediates.push(h);
    return h;
  }

  /** submit(fn) */
  submit(/** @type {() => void} */ run) {
    if (this.closed || this.stopping) this.refuse();
    this.tasks.push({ run });
  }

  /** queueMicrotask(fn) */
  queueMicrotask(/** @type {() => void} */ job) {
    if (this.closed) throw new ModelThrow("LoopClosedError");
    this.micro.push(job);
  }

  /** Promise jobs: the loop's queue, or the host's after close. */
  enqueueJob(/** @type {() => void} */ job) {
    if (this.closed) this.hostMicro.push(job);
    else this.micro.push(job);
  }

  /** Tasks the loop queues for itself (rejection events): real tasks, also while stopping. */
  queueInternalTask(/** @type {() => void} */ task) {
    if (this.closed) this.hostMacro.push(task);
    else this.tasks.push({ run: task });
  }

  // ---- running callbacks ------------------------------------------------------------

  /** Runs a user callback: errors go to onError. */
  call(/** @type {() => void} */ fn) {
    try {
      fn();
      return false;
    } catch (error) {
      if (error instanceof ModelThrow)
        throw new Error(`model bug: uncaught ModelThrow ${error.name}`);
      this.onError(error);
      return true;
    }
  }

  /** The microtask checkpoint. */
  checkpoint() {
    // Closed: no checkpoint, and no notification at its end (a closed loop notifies at
    // the end of a host task, see closedCheckpointNeeded).
    if (this.checkpointing || this.closed) return;
    this.checkpointing = true;
    const saved = this.nesting;
    this.nesting = 0;
    try {
      for (;;) {
        const job = this.micro.shift();
        if (job === undefined) break;
        this.ran.microtasks++;
        this.call(job);
        if (this.closed) return;
      }
    } finally {
      this.checkpointing = false;
      this.nesting = saved;
    }
    this.checkpointEnd();
  }

  /** A checkpoint outside a turn (start of a driving call). */
  checkpointNow() {
    const notify = this.aboutToBeNotified.size > 0 || this.handledLater.length > 0;
    if (this.micro.length === 0 && !notify) return;
    this.depth++;
    try {
      this.checkpoint();
    } finally {
      this.depth--;
    }
  }

  /** @param {(h: MHandle) => void} body @param {MHandle} h @returns {boolean} whether it threw */
  runHandle(h, body) {
    const saved = this.current;
    this.current = h;
    try {
      return this.call(() => body(h));
    } finally {
      this.current = saved;
    }
  }

  /** @param {MHandle} h @param {(h: MHandle) => void} callback @returns {boolean} whether it threw */
  runTimer(h, callback) {
    const level = h.nesting;
    if (h.kind === "timeout") {
      h.live = false;
      h.registered = false;
    }
    // html: the next beat is sequenced (and clamped) before the callback, as Chromium
    // does; node: after it, counting from when it ran, as Node re-inserts it.
    if (this.html && h.kind === "interval") this.rearm(h, level);
    this.nesting = level;
    this.ran.timers++;
    const threw = this.runHandle(h, callback);
    this.nesting = 0;
    if (!this.html && h.kind === "interval" && h.live) this.rearm(h, level);
    return threw;
  }

  /** @param {MHandle} h @param {number} level */
  rearm(h, level) {
    if (this.html && level > NESTING_LIMIT && h.delay < CLAMP_MS) {
      const base = Math.max(h.deadline - h.delay * 1000, 0);
      h.deadline = base + CLAMP_MS * 1000;
      h.delay = CLAMP_MS;
    }
    if (!this.html) h.deadline = this.nowUs + h.delay * 1000; // Node: from when it ran
    h.seq = this.seq++;
    if (level < 255) h.nesting = level + 1;
  }

  /**
   * One turn at `this.now`. `callbacks` maps a handle to what its callback does.
   * @param {boolean} oneTimer @param {(h: MHandle) => void} onHandle
   */
  runTurn(oneTimer, onHandle) {
    this.depth++;
    /** @type {MHandle[]} */
    const batchHandles = [];
    try {
      const limit = this.seq;
      let due = this.handles
        .filter((h) => h.armed && h.deadline <= this.nowUs && h.seq < limit)
        .sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
      if (oneTimer) due = due.slice(0, 1);
      // The real loop collects due timers from the core in groups of COLLECT_MAX; a timer
      // not collected yet is still armed (visible in metrics().queue.timers) and is skipped
      // if it was cleared or refreshed (a new start sequence) before its group.
      let dueNext = 0;
      const collectTimers = () => {
        let n = 0;
        while (dueNext < due.length && n < COLLECT_MAX) {
          const h = due[dueNext++];
          if (!(h.armed && h.deadline <= this.nowUs && h.seq < limit)) continue;
          if (h.kind === "interval") {
            h.deadline = this.nextIntervalDeadline(h.deadline, h.delay);
            h.seq = this.seq++;
          } else {
            h.armed = false;
          }
          h.inBatch = true;
          batchHandles.push(h);
          /** @type {Array<{ h: MHandle, dropped: boolean }>} */ (this.batch).push({
            h,
            dropped: false,
          });
          n++;
        }
        return n;
      };
      this.batch = [];
      this.batchPos = 0;
      collectTimers();
      let owed = false;
      for (;;) {
        if (this.batchPos === this.batch.length && collectTimers() === 0) break;
        const entry = this.batch[this.batchPos++];
        const threw = !entry.dropped && entry.h.live && this.runTimer(entry.h, onHandle);
        if (this.closed) return;
        if (threw && !this.html) {
          owed = true;
          continue;
        }
        owed = false;
        this.checkpoint();
        if (this.closed) return;
      }
      this.batch = null;
      if (owed) {
        this.checkpoint();
        if (this.closed) return;
      }
      // Tasks queued before the phase began, collected in groups (metrics' ingress depth
      // counts the ones not collected yet).
      const taskCount = this.tasks.length;
      this.tasksCollected = 0;
      for (let i = 0; i < taskCount; i++) {
        if (this.tasksCollected === 0) this.tasksCollected = Math.min(COLLECT_MAX, taskCount - i);
        const task = /** @type {{ run: () => void, atShutdown?: boolean }} */ (this.tasks.shift());
        this.tasksCollected--;
        if (task.atShutdown) this.ranAtShutdown++;
        this.ran.tasks++;
        this.call(task.run);
        this.checkpoint();
        if (this.closed) return;
      }
      // Immediates queued before the phase began, collected in groups; one cleared after
      // its group was collected is skipped but, like a skipped timer, still followed by a
      // checkpoint (which matters when the previous checkpoint left a job behind: a
      // rejection notification parked as a microtask during a shutdown). One cleared
      // before its group is not collected at all.
      const phase = this.immediates.filter((h) => h.live);
      this.immediates = [];
      owed = false;
      for (let next = 0; next < phase.length; ) {
        /** @type {MHandle[]} */
        const group = [];
        while (next < phase.length && group.length < COLLECT_MAX) {
          const h = phase[next++];
          if (!h.live) continue;
          h.collected = true;
          group.push(h);
        }
        for (const h of group) {
          let threw = false;
          if (h.live) {
            h.live = false;
            if (h.atShutdown) this.ranAtShutdown++;
            this.ran.immediates++;
            threw = this.runHandle(h, onHandle);
          }
          if (this.closed) return;
          if (threw && !this.html) {
            owed = true; // node: the next immediate runs before the checkpoint, as for timers
            continue;
          }
          owed = false;
          this.checkpoint();
          if (this.closed) return;
        }
      }
      if (owed) this.checkpoint();
    } finally {
      this.batch = null;
      this.tasksCollected = 0;
      for (const h of batchHandles) h.inBatch = false;
      this.depth--;
    }
  }

  runnableNow() {
    return (
      this.tasks.length > 0 ||
      this.immediates.some((h) => h.live) ||
      this.micro.length > 0 ||
      this.nextDeadline() <= this.nowUs
    );
  }

  /** @param {number} limit @param {(h: MHandle) => void} onHandle */
  drainNow(limit, onHandle) {
    for (let rounds = 0; ; rounds++) {
      if (this.closed) return;
      this.checkpointNow();
      if (this.closed || !this.runnableNow()) return;
      if (rounds >= limit) throw new ModelThrow("LoopLimitError");
      this.runTurn(false, onHandle);
    }
  }

  /**
   * A drive: turns at the current time while something is runnable (at most
   * `turnsPerInstant` of them), then the next deadline, up to `target`.
   * @param {{ target: number, turnsPerInstant: number, maxSteps: number, oneTurn?: boolean, untilUnrefd?: boolean }} d
   * @param {(h: MHandle) => void} onHandle
   */
  drive(d, onHandle) {
    let turns = 0;
    let steps = 0;
    for (;;) {
      if (this.closed) return;
      this.checkpointNow();
      if (this.closed || (d.oneTurn && turns === 1)) return;
      // run() is uv_run: once nothing keeps the loop alive (no ref'd handle, task or
      // microtask), nothing more runs, not even an unref'd immediate that is queued.
      if (d.untilUnrefd && !this.keepsAlive()) return;
      if (this.runnableNow()) {
        if (++turns > d.turnsPerInstant) throw new ModelThrow("LoopLimitError");
        this.runTurn(d.oneTurn === true, onHandle);
        continue;
      }
      const next = this.nextDeadline();
      if (next === Infinity || next > d.target) break;
      // The clock stops at the end of the exact range: a timer due after it is an error,
      // never an early fire (and the clock does not move).
      if (next > TIME_US_LIMIT) throw new ModelThrow("RangeError", "eovt");
      if (++steps > d.maxSteps) throw new ModelThrow("LoopLimitError");
      if (next > this.nowUs) this.nowUs = next;
      if (!d.oneTurn) turns = 0;
    }
    // Never past the end: runToLast's target may be the deadline of a timer cleared since.
    const target = Math.min(d.target, TIME_US_LIMIT);
    if (d.target !== Infinity && !d.oneTurn && !this.closed && target > this.nowUs)
      this.nowUs = target;
  }

  assertDrivable() {
    if (this.closed) throw new ModelThrow("LoopClosedError");
    if (this.depth > 0) throw new ModelThrow("ReentrancyError");
  }

  /** @param {number} ms @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  advance(ms, limit, onHandle) {
    this.assertDrivable();
    const target = this.nowUs + Math.round(ms * 1000);
    if (target > TIME_US_LIMIT) throw new ModelThrow("RangeError", "eor");
    this.drive({ target, turnsPerInstant: limit ?? DRIVE_LIMIT, maxSteps: Infinity }, onHandle);
    return this.now;
  }

  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runUntilIdle(limit, onHandle) {
    this.assertDrivable();
    this.drive(
      { target: this.nowUs, turnsPerInstant: limit ?? DRIVE_LIMIT, maxSteps: Infinity },
      onHandle,
    );
  }

  /** @param {(h: MHandle) => void} onHandle */
  next(onHandle) {
    this.assertDrivable();
    this.drive({ target: Infinity, turnsPerInstant: 1, maxSteps: 1, oneTurn: true }, onHandle);
    return this.now;
  }

  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runAll(limit, onHandle) {
    this.assertDrivable();
    this.drive(
      { target: Infinity, turnsPerInstant: DRIVE_LIMIT, maxSteps: limit ?? RUN_ALL_LIMIT },
      onHandle,
    );
    return this.now;
  }

  /** @param {number | undefined} limit @param {(h: MHandle) => void} onHandle */
  runToLast(limit, onHandle) {
    this.assertDrivable();
    const target = Math.max(this.lastDeadline(), this.nowUs);
    this.drive({ target, turnsPerInstant: limit ?? DRIVE_LIMIT, maxSteps: Infinity }, onHandle);
    return this.now;
  }

  /**
   * `await run()` on the manual clock: a drive to no deadline that stops once nothing
   * ref'd is left (README Lifecycle, `uv_loop_alive`). Returns "ok" or the name of the
   * error it rejects with.
   * @param {(h: MHandle) => void} onHandle
   */
  runVirtual(onHandle) {
    try {
      this.drive(
        { target: Infinity, turnsPerInstant: DRIVE_LIMIT, maxSteps: Infinity, untilUnrefd: true },
        onHandle,
      );
      return "ok";
    } catch (error) {
      if (error instanceof ModelThrow) return error.name;
      throw error;
    }
  }

  /** The host's microtask checkpoint after a top-level operation (microtasks are not time). */
  hostCheckpoint() {
    if (this.closed || this.depth > 0) return;
    this.checkpointNow();
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** shutdown() (graceful): the synchronous part. Returns what the call's promise will resolve to. */
  shutdown() {
    if (this.shutdownState) return this.shutdownState;
    if (this.closed) return { cancelled: 0, queuedAtStart: 0, report: "0,0,0" };
    let cancelled = 0;
    for (const h of this.handles) {
      if (h.kind === "immediate" || !h.live) continue;
      cancelled++;
      h.live = false;
      h.armed = false;
      h.cleared = true;
      h.registered = false;
    }
    this.stopping = true;
    // Watches stop listening (new I/O events would be new work); their queued events run.
    for (const w of this.watches) if (!w.closed) this.stopListening(w);
    let queuedAtStart = 0;
    for (const task of this.tasks) {
      task.atShutdown = true;
      queuedAtStart++;
    }
    // Live immediates: queued, or collected in the running immediate phase and not yet run.
    for (const h of this.handles) {
      if (h.kind !== "immediate" || !h.live) continue;
      h.atShutdown = true;
      queuedAtStart++;
    }
    this.ranAtShutdown = 0;
    this.shutdownState = { cancelled, queuedAtStart, report: undefined };
    return this.shutdownState;
  }

  /** The asynchronous part of a graceful shutdown (runs when the caller awaits). */
  finishShutdown(/** @type {(h: MHandle) => void} */ onHandle) {
    const state = /** @type {{ cancelled: number, queuedAtStart: number, report?: string }} */ (
      this.shutdownState
    );
    if (!this.closed) this.drainNow(DRIVE_LIMIT, onHandle);
    const rejected = this.closed ? 0 : this.terminatePending(TERMINATION);
    // The terminations' reactions, and the rejection reports they cause (the loop's own
    // tasks, accepted while stopping), run before closing.
    if (!this.closed) this.drainNow(DRIVE_LIMIT, onHandle);
    const ran = this.ranAtShutdown;
    if (!this.closed) this.close();
    state.report = `${state.cancelled},${ran},${rejected}`;
  }

  /**
   * close(): refuses new work first (a listener removed while the watches detach may call
   * back into the loop), then drops everything; returns what it dropped (the same report
   * when called again, and the one of the close that ended a graceful shutdown).
   */
  close() {
    if (this.closeReport) return this.closeReport;
    const p = this.pending();
    this.closeReport = {
      cancelledTimers: p.timers,
      droppedTasks: p.tasks + p.immediates,
      droppedMicrotasks: p.microtasks,
    };
    this.closed = true;
    this.stopping = false;
    for (const w of this.watches) this.closeWatch(w);
    for (const h of this.handles) {
      if (h.live) {
        h.live = false;
        h.armed = false;
      }
      if (h.kind !== "immediate") {
        h.cleared = true;
        h.registered = false;
      }
    }
    this.tasks = [];
    this.tasksCollected = 0; // closed during the task phase: nothing left to run either
    this.immediates = [];
    this.micro = [];
    // Closed inside a checkpoint: its end never came; what it would have notified is
    // notified at the end of a host task, like rejections after close.
    if (this.aboutToBeNotified.size > 0 || this.handledLater.length > 0)
      this.closedCheckpointNeeded();
    return this.closeReport;
  }

  // ---- watches (loop.watch on an EventEmitter-like source) ----------------------------

  /**
   * watch(source, callback, { events: types }): listens for each type, all or nothing:
   * if the source refuses the `failAt`-th listener, the ones added are removed (each
   * removal may call back into the loop) and the error propagates; nothing changed.
   * @param {any} iw the interpreter's record @param {string[]} types @param {number} failAt
   */
  addWatch(iw, types, failAt) {
    if (this.closed || this.stopping) this.refuse();
    /** @type {MWatch} */
    const w = {
      label: iw.label,
      types: [],
      listening: false,
      closed: false,
      ref: true,
      readiness: new Set(),
      iw,
    };
    for (const type of types) {
      if (w.types.length + 1 === failAt) {
        for (let i = 0; i < w.types.length; i++) this.onRemoveListener(w);
        throw new ModelThrow("SourceRefused");
      }
      w.types.push(type);
    }
    w.listening = true;
    this.watches.push(w);
    return w;
  }

  /** Stops listening (each listener removed from the source); queued events still run. */
  stopListening(/** @type {MWatch} */ w) {
    if (!w.listening) return;
    w.listening = false;
    for (let i = 0; i < w.types.length; i++) this.onRemoveListener(w);
  }

  /** watch.close(): final; drops its queued events (their tasks run and deliver nothing). */
  closeWatch(/** @type {MWatch} */ w) {
    if (w.closed) return;
    w.closed = true;
    w.readiness.clear();
    this.stopListening(w);
  }

  /** The source emits `type`: a listening watch queues a task that delivers it. */
  emit(
    /** @type {MWatch} */ w,
    /** @type {string} */ type,
    /** @type {(w: MWatch, type: string) => void} */ deliver,
  ) {
    if (!w.listening || !w.types.includes(type)) return;
    if (COALESCED.has(type)) {
      if (w.readiness.has(type)) return;
      w.readiness.add(type);
    }
    // A listening watch means the loop accepts work (shutdown and close detach first).
    this.tasks.push({
      run: () => {
        if (w.closed) return;
        if (COALESCED.has(type)) w.readiness.delete(type);
        deliver(w, type);
      },
    });
  }

  // ---- installGlobals -----------------------------------------------------------------

  /** installGlobals of loop `who` onto target `target`; returns the record (the disposer's key). */
  install(/** @type {number} */ who, /** @type {number} */ target, /** @type {boolean} */ promise) {
    /** @type {MInstall} */
    const record = { who, target, promise };
    this.installs.push(record);
    return record;
  }

  /** The disposer: idempotent; any order. */
  uninstall(/** @type {MInstall} */ record) {
    const i = this.installs.indexOf(record);
    if (i >= 0) this.installs.splice(i, 1);
  }

  /**
   * Who owns `name` on `target`: the newest installation still in place that installed
   * it, else the original ("o", or "-" when the target had none).
   * @param {number} target @param {"setTimeout"|"setImmediate"|"Promise"} name
   */
  owner(target, name) {
    for (let i = this.installs.length - 1; i >= 0; i--) {
      const r = this.installs[i];
      if (r.target === target && (name !== "Promise" || r.promise)) return String(r.who);
    }
    return name === "setTimeout" ? "o" : "-";
  }

  /** html: the `this` of this loop's callbacks: its newest installation's target, or the global. */
  thisTag() {
    if (!this.html) return "h";
    for (let i = this.installs.length - 1; i >= 0; i--) {
      const r = this.installs[i];
      if (r.who === 0) return `t${r.target}`;
    }
    return "g";
  }

  /** After an operation, the host's own queues run (only used once the loop is closed). */
  drainHost() {
    for (;;) {
      const job = this.hostMicro.shift();
      if (job !== undefined) {
        this.call(job);
        continue;
      }
      const task = this.hostMacro.shift();
      if (task === undefined) return;
      this.call(task);
    }
  }

  // ---- promises ---------------------------------------------------------------------

  /** Promise.withResolvers() */
  newDeferred(/** @type {number} */ label) {
    this.promiseClass = true;
    /** @type {MDeferred} */
    const d = { promise: newPromise(`d${label}`), label, resolved: false };
    this.deferreds.push(d);
    return d;
  }

  /** The deferred's resolve/reject function (one [[AlreadyResolved]] for the pair). */
  settleDeferred(
    /** @type {MDeferred} */ d,
    /** @type {boolean} */ reject,
    /** @type {any} */ value,
  ) {
    if (d.resolved) return;
    d.resolved = true;
    if (reject) this.rejectPromise(d.promise, value);
    else this.resolvePromise(d.promise, value);
  }

  /** @param {MPromise} p */
  notWaiting(p) {
    return p.attached || p.queued || p.thenable;
  }

  /** @param {MPromise} p @param {any} x */
  resolvePromise(p, x) {
    if (p.state !== "pending") return;
    if (x === p) {
      this.rejectPromise(p, TYPE_ERROR);
      return;
    }
    if (x !== null && typeof x === "object" && "reactions" in x) {
      p.thenable = true;
      p.thenableTarget = x;
      this.enqueueJob(() => this.thenableJob(p));
      return;
    }
    this.fulfillPromise(p, x);
  }

  /** @param {MPromise} p @param {any} value */
  fulfillPromise(p, value) {
    if (p.state !== "pending") return;
    const reactions = p.reactions;
    p.value = value;
    p.reactions = [];
    p.state = "fulfilled";
    this.unlink(p);
    for (const r of reactions) this.queueChild(r, value, false);
  }

  /** @param {MPromise} p @param {any} reason */
  rejectPromise(p, reason) {
    if (p.state !== "pending") return;
    const reactions = p.reactions;
    p.value = reason;
    p.reactions = [];
    if (!p.handled && this.terminationReasons.has(reason)) p.handled = true;
    p.state = "rejected";
    this.unlink(p);
    if (!p.handled) {
      this.aboutToBeNotified.set(p, reason);
      this.closedCheckpointNeeded();
    }
    for (const r of reactions) this.queueChild(r, reason, true);
  }

  /** @param {MPromise} p */
  unlink(p) {
    if (!p.linked) return;
    p.linked = false;
    this.linked.splice(this.linked.indexOf(p), 1);
  }

  /** @param {MPromise} child @param {any} arg @param {boolean} rejected */
  queueChild(child, arg, rejected) {
    if (child.state !== "pending") return;
    child.jobArg = arg;
    child.jobRejected = rejected;
    child.attached = false;
    child.queued = true;
    this.enqueueJob(() => this.childJob(child));
  }

  /** @param {MPromise} child */
  childJob(child) {
    child.queued = false;
    if (child.state !== "pending") return;
    const arg = child.jobArg;
    const rejected = child.jobRejected;
    child.jobArg = undefined;
    const handler = rejected ? child.onR : child.onF;
    child.onF = undefined;
    child.onR = undefined;
    if (handler === undefined) {
      if (rejected) this.rejectPromise(child, arg);
      else this.resolvePromise(child, arg);
      return;
    }
    let result;
    try {
      result = handler(arg);
    } catch (error) {
      if (error instanceof ModelThrow)
        throw new Error(`model bug: uncaught ModelThrow ${error.name}`);
      this.rejectPromise(child, error);
      return;
    }
    this.resolvePromise(child, result);
  }

  /** @param {MPromise} p */
  thenableJob(p) {
    const target = /** @type {MPromise} */ (p.thenableTarget);
    p.thenableTarget = undefined;
    p.thenable = false;
    if (p.state !== "pending") return;
    this.attachChild(target, p);
  }

  /** @param {MPromise} p @param {MPromise} child */
  attachChild(p, child) {
    if (p.state === "pending") {
      child.attached = true;
      this.addReaction(p, child);
      return;
    }
    if (p.state === "rejected" && !p.handled) this.onHandle(p);
    p.handled = true;
    this.queueChild(child, p.value, p.state === "rejected");
  }

  /** @param {MPromise} p @param {MPromise} reaction */
  addReaction(p, reaction) {
    const first = p.reactions.length === 0;
    p.handled = true;
    p.reactions.push(reaction);
    if (first && !this.notWaiting(p)) {
      p.linked = true;
      this.linked.push(p);
    }
    if (this.terminated) this.terminateIfWaiting(p);
  }

  /** loop.Promise.resolve().then(fn): `fn` runs as a promise job. */
  resolvedThen(/** @type {string} */ label, /** @type {() => void} */ fn) {
    this.promiseClass = true;
    const p = newPromise(`${label}.r`);
    this.fulfillPromise(p, undefined);
    return this.then(p, label, fn, fn);
  }

  /** p.then(onF, onR): returns the derived promise. */
  then(
    /** @type {MPromise} */ p,
    /** @type {string} */ label,
    /** @type {(v: any) => any} */ onF,
    /** @type {(v: any) => any} */ onR,
  ) {
    const child = newPromise(label);
    child.onF = onF;
    child.onR = onR;
    this.attachChild(p, child);
    return child;
  }

  /** @param {MPromise} p */
  terminateIfWaiting(p) {
    if (p.state !== "pending" || this.notWaiting(p) || p.reactions.length === 0) return;
    p.handled = true;
    p.onF = undefined;
    p.onR = undefined;
    this.rejectPromise(p, TERMINATION);
  }

  terminatePending(/** @type {any} */ reason) {
    this.terminated = true;
    this.terminationReasons.add(reason);
    let count = 0;
    for (const p of [...this.linked]) {
      if (!p.linked) continue;
      if (!this.notWaiting(p)) {
        this.terminateIfWaiting(p);
        count++;
      }
    }
    return count;
  }

  // ---- the rejection tracker (HTML "unhandled promise rejections") --------------------

  /** @param {MPromise} p */
  onHandle(p) {
    if (this.aboutToBeNotified.delete(p)) return;
    if (!this.outstanding.has(p)) return;
    this.outstanding.delete(p);
    // node: Node emits rejectionHandled in processPromiseRejections (the checkpoint's end).
    if (this.html) this.queueInternalTask(() => this.log(`rh:${p.label}`));
    else {
      this.handledLater.push(p);
      this.closedCheckpointNeeded();
    }
  }

  /**
   * A closed loop has no checkpoints: its rejections are still notified, at the end of a
   * later host task (README Lifecycle).
   */
  closedCheckpointNeeded() {
    if (!this.closed || this.closedCheckpointQueued) return;
    this.closedCheckpointQueued = true;
    this.hostMacro.push(() => {
      this.closedCheckpointQueued = false;
      this.checkpointEnd();
    });
  }

  checkpointEnd() {
    if (!this.html) {
      // Node's processPromiseRejections: late handlers, then unhandled rejections, at once.
      const handled = this.handledLater;
      this.handledLater = [];
      for (const p of handled) this.log(`rh:${p.label}`);
    }
    if (this.aboutToBeNotified.size === 0) return;
    const list = this.aboutToBeNotified;
    this.aboutToBeNotified = new Map();
    if (this.html) this.queueInternalTask(() => this.notify(list));
    else this.notify(list);
  }

  /**
   * Fires `unhandledrejection` for each promise still unhandled, then reports it (html:
   * the reason; node "throw" mode: the reason if it is error-like, else an
   * UnhandledPromiseRejection wrapping it). A listener that throws is reported and the
   * rest goes on. node: asking a revoked Proxy whether it is error-like throws; as in
   * Node's processPromiseRejections that TypeError is what gets reported (after the
   * other entries), and the promise is not remembered as reported.
   * @param {Map<MPromise, any>} list
   */
  notify(list) {
    let failure;
    for (const [p, reason] of list) {
      if (p.handled) continue;
      this.log(`unh:${p.label}:${valueLabel(reason)}`);
      const listener = this.hooks.listener;
      if (listener !== null) this.onError(modelHostile(listener, `L:${listener}`));
      if (this.html) this.onError(reason);
      else {
        const like = errorLike(reason);
        if (like === undefined) {
          failure ??= TYPE_ERROR;
          continue;
        }
        this.onError(like ? reason : { name: "UnhandledPromiseRejection", reason });
      }
      if (!p.handled) this.outstanding.add(p);
    }
    if (failure !== undefined) this.onError(failure);
  }
}
