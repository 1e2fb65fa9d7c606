// @ts-check
/// <reference types="node" />
/**
 * The model-based property test of the whole loop: the operation records and their
 * fast-check arbitraries, one interpreter that turns records into calls, and two
 * backends for it: the reference model (model.mjs) and a real zigloop loop on the
 * manual clock. Both produce a trace; `checkRun` runs both and throws on the first
 * difference. Plain JavaScript with JSDoc types (harness.d.mts is generated from them, see
 * tsconfig.json here) so that the vitest suite and `scripts/soak.mjs` share it.
 *
 * Operation records (JSON, shrinkable by fast-check):
 *   scheduling (top level or inside callbacks; `body` is what the callback does):
 *     {t:"timeout",delay,body} {t:"interval",delay,stopAfter,body} {t:"chain",delay,depth,body}
 *     {t:"immediate",body} {t:"task",body} {t:"micro",body}
 *     {t:"clear",via,target}   via: clearTimeout|clearInterval|clearImmediate|close|dispose
 *                              target: {k:"own",pick}|{k:"num",pick}|{k:"self"}|{k:"bogus",v}|{k:"foreign",which}
 *     {t:"pnew",handled,body} {t:"psettle",pick,reject,adopt} {t:"pthen",pick,body}
 *     {t:"ref",pick,ref} {t:"refresh",pick}   (node profile; no-ops in html)
 *     {t:"shutdown"}
 *   only inside callbacks: {t:"throw"} {t:"reenter",call} {t:"verify"}
 *   only at top level: {t:"advance",ms,limit} {t:"runUntilIdle",limit} {t:"next"} {t:"runAll",limit}
 *     {t:"runToLast"} {t:"run"} (run() only in runs built for it, see actionArb)
 *
 * @module
 */
import fc from "fast-check";
import { BOGUS, delayValue, Model, ModelThrow, valueLabel } from "./model.mjs";

// ---- arbitraries ------------------------------------------------------------------------

const delayArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 30 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "NaN",
      "undef",
      "neg",
      "frac",
      "str",
      "big",
      "huge",
      "inf",
      "negzero",
    ),
  },
);

const targetArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant("own"), pick: fc.nat(64) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("num"), pick: fc.nat(64) }) },
  { weight: 3, arbitrary: fc.constant({ k: "self" }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("bogus"), v: fc.nat(BOGUS.length - 1) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("foreign"),
      which: fc.constantFrom("timeout", "immediate"),
    }),
  },
);

const viaArb = fc.constantFrom(
  "clearTimeout",
  "clearTimeout",
  "clearInterval",
  "clearImmediate",
  "close",
  "dispose",
);

/** @type {Map<string, fc.Arbitrary<any>>} */
const actionArbs = new Map();

/**
 * An action a callback (or the top level) performs; `depth` bounds how deep bodies nest.
 * `forRun`: for runs that call `run()` at top level, which only ends when no ref'd work is
 * left: every interval stops itself after 1-4 beats, and callbacks do not shut down (a
 * shutdown racing run() interleaves two drivers over host macrotasks), nor refresh timers
 * (a callback that refreshes its own timer would run forever; top-level refresh is kept).
 * @param {number} depth
 * @param {boolean} [forRun]
 * @returns {fc.Arbitrary<any>}
 */
export function actionArb(depth, forRun = false) {
  const key = `${depth}:${forRun}`;
  const cached = actionArbs.get(key);
  if (cached) return cached;
  const body =
    depth <= 0 ? fc.constant([]) : fc.array(actionArb(depth - 1, forRun), { maxLength: 3 });
  const arb = fc.oneof(
    { weight: 12, arbitrary: fc.record({ t: fc.constant("timeout"), delay: delayArb, body }) },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant("interval"),
        delay: delayArb,
        stopAfter: fc.integer({ min: forRun ? 1 : 0, max: 4 }),
        body,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("chain"),
        delay: fc.integer({ min: 0, max: 5 }),
        // deep enough (> 5) to reach the html nesting clamp half of the time
        depth: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 6, max: 8 })),
        body,
      }),
    },
    { weight: 6, arbitrary: fc.record({ t: fc.constant("immediate"), body }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant("task"), body }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant("micro"), body }) },
    {
      weight: 10,
      arbitrary: fc.record({ t: fc.constant("clear"), via: viaArb, target: targetArb }),
    },
    { weight: 5, arbitrary: fc.record({ t: fc.constant("pnew"), handled: fc.boolean(), body }) },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("psettle"),
        pick: fc.nat(64),
        reject: fc.boolean(),
        adopt: fc.option(fc.nat(64), { freq: 4 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant("pthen"), pick: fc.nat(64), body }) },
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant("ref"), pick: fc.nat(64), ref: fc.boolean() }),
    },
    // (a callback that refreshes its own timer re-runs forever: not in runs that call run())
    {
      weight: forRun ? 0 : 2,
      arbitrary: fc.record({ t: fc.constant("refresh"), pick: fc.nat(64) }),
    },
    { weight: 2, arbitrary: fc.constant({ t: "throw" }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("reenter"),
        call: fc.constantFrom("runUntilIdle", "advance", "next", "runAll", "runToLast", "run"),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ t: "verify" }) },
    { weight: forRun ? 0 : 1, arbitrary: fc.constant({ t: "shutdown" }) },
  );
  actionArbs.set(key, arb);
  return arb;
}

const INNER_ONLY = new Set(["throw", "reenter", "verify"]);

/**
 * A top-level operation: scheduling (with nested bodies), driving, or shutdown; with
 * `forRun`, also `run()` (see actionArb).
 * @param {boolean} forRun
 */
function topOpArbOf(forRun) {
  return fc.oneof(
    {
      weight: 24,
      arbitrary: actionArb(3, forRun).filter((a) => !INNER_ONLY.has(a.t) && a.t !== "shutdown"),
    },
    { weight: forRun ? 5 : 0, arbitrary: fc.constant({ t: "run" }) },
    {
      weight: forRun ? 2 : 0,
      arbitrary: fc.record({ t: fc.constant("refresh"), pick: fc.nat(64) }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("advance"),
        ms: fc.oneof(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 160 }).map((q) => q / 4),
        ),
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 6 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant("runUntilIdle"),
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 4 }),
      }),
    },
    { weight: 4, arbitrary: fc.constant({ t: "next" }) },
    // Always with a limit: the default (1,000,000 time steps) with a live interval is a
    // second of zigloop but minutes of the scanning model.
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant("runAll"), limit: fc.integer({ min: 1, max: 40 }) }),
    },
    { weight: 2, arbitrary: fc.constant({ t: "runToLast" }) },
    { weight: 1, arbitrary: fc.constant({ t: "shutdown" }) },
  );
}

/** A top-level operation of the runs without `run()`. */
export const topOpArb = topOpArbOf(false);

/**
 * Runs: the start time, capacity.timers (small, so CapacityError happens, or the default),
 * metrics on or off (they change nothing observable on the manual clock) and the operations.
 * @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} [options]
 */
export function runArbOf(options = {}) {
  return fc.oneof(runArbFor(options, false), runArbFor(options, true));
}

/** @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} options @param {boolean} forRun */
function runArbFor(options, forRun) {
  return fc
    .record({
      startTime: fc.constantFrom(0, 0, 0, 1000.75),
      timersCap: fc.option(fc.integer({ min: 1, max: 8 }), { freq: 3 }),
      metrics: fc.boolean(),
      ops: fc.array(topOpArbOf(forRun), {
        minLength: 1,
        maxLength: options.maxOps ?? 40,
        size: options.size ?? "medium",
      }),
      // Most runs end with a graceful shutdown, so every run also checks its report.
      end: fc.constantFrom("shutdown", "shutdown", "runAll", "none"),
    })
    .map(({ startTime, timersCap, metrics, ops, end }) => ({
      startTime,
      timersCap: timersCap ?? undefined,
      metrics,
      ops:
        end === "none"
          ? ops
          : [...ops, end === "runAll" ? { t: "runAll", limit: 200 } : { t: "shutdown" }],
    }));
}

/** The runs `npm test` checks. */
export const runArb = runArbOf();

/** Counts every action in a run, nested bodies included. */
export function countActions(/** @type {any[]} */ ops) {
  let n = 0;
  const walk = (/** @type {any[]} */ list) => {
    for (const a of list) {
      n++;
      if (Array.isArray(a.body)) walk(a.body);
    }
  };
  walk(ops);
  return n;
}

// ---- the interpreter --------------------------------------------------------------------

/** @typedef {{ startTime: number, timersCap?: number, metrics?: boolean, ops: any[] }} Run */

/**
 * @typedef {{ label: number, kind: "timeout"|"interval"|"immediate", body: any[], stopAfter: number, beats: number,
 *   chain: null | { k: number, depth: number, delay: any }, ref: any }} IHandle
 */

/** Turns operation records into backend calls and callback traces; shared by both backends. */
class Interpreter {
  /** @param {any} backend @param {"html"|"node"} profile */
  constructor(backend, profile) {
    this.b = backend;
    this.html = profile === "html";
    /** @type {string[]} */
    this.trace = backend.trace;
    /** @type {IHandle[]} */
    this.handles = [];
    /** @type {Array<{ label: number, ref: any }>} */
    this.deferreds = [];
    this.nextLabel = 1;
    /** Timer and interval callbacks, and immediates, seen to run: what the loop's metrics must count. */
    this.fired = { timers: 0, immediates: 0 };
    backend.interp = this;
  }

  /** Runs `call`; a thrown loop error becomes a trace entry `x:<name>`. */
  api(/** @type {() => any} */ call) {
    try {
      return { ok: true, value: call() };
    } catch (error) {
      if (error instanceof ModelThrow || (error instanceof Error && error.name !== "Error")) {
        this.trace.push(`x:${/** @type {any} */ (error).name}`);
        return { ok: false, value: undefined };
      }
      throw error;
    }
  }

  /** What a clear target denotes right now. @param {any} target @param {IHandle | undefined} self */
  resolveTarget(target, self) {
    switch (target.k) {
      case "own":
      case "num": {
        if (this.handles.length === 0) return null;
        const h = this.handles[target.pick % this.handles.length];
        return { type: target.k === "num" && !this.html ? "num" : "handle", h };
      }
      case "self":
        return self ? { type: "handle", h: self } : null;
      case "bogus":
        return { type: "value", v: BOGUS[target.v % BOGUS.length] };
      default:
        return this.html ? { type: "value", v: 1e9 } : { type: "foreign", which: target.which };
    }
  }

  /**
   * Performs one action. `self` is the handle whose callback runs (if any).
   * @param {any} a @param {IHandle | undefined} self @param {string} name the running callback's trace name
   */
  exec(a, self, name) {
    const b = this.b;
    switch (a.t) {
      case "timeout":
      case "interval":
      case "chain": {
        const label = this.nextLabel++;
        /** @type {IHandle} */
        const h = {
          label,
          kind: a.t === "interval" ? "interval" : "timeout",
          body: a.body,
          stopAfter: a.stopAfter ?? 0,
          beats: 0,
          chain: a.t === "chain" ? { k: 1, depth: a.depth, delay: a.delay } : null,
          ref: undefined,
        };
        this.schedule(h, a.delay);
        return;
      }
      case "immediate": {
        /** @type {IHandle} */
        const h = {
          label: this.nextLabel++,
          kind: "immediate",
          body: a.body,
          stopAfter: 0,
          beats: 0,
          chain: null,
          ref: undefined,
        };
        const r = this.api(() => b.setImmediate(h));
        if (r.ok) {
          h.ref = r.value;
          this.handles.push(h);
        }
        return;
      }
      case "task": {
        const label = this.nextLabel++;
        this.api(() => b.submit(() => this.runCallback(`K${label}`, a.body)));
        return;
      }
      case "micro": {
        const label = this.nextLabel++;
        this.api(() => b.queueMicrotask(() => this.runCallback(`Q${label}`, a.body)));
        return;
      }
      case "clear": {
        const resolved = this.resolveTarget(a.target, self);
        if (resolved) this.api(() => b.clear(a.via, resolved));
        return;
      }
      case "ref":
      case "refresh": {
        if (this.html || this.handles.length === 0) return;
        const h = this.handles[a.pick % this.handles.length];
        if (a.t === "ref") this.api(() => b.setRef(h, a.ref));
        else if (h.kind !== "immediate") this.api(() => b.refresh(h));
        return;
      }
      case "pnew": {
        const label = this.nextLabel++;
        const r = this.api(() => b.newDeferred(label));
        if (!r.ok) return;
        const d = { label, ref: r.value };
        this.deferreds.push(d);
        if (a.handled) this.attachHandler(d, a.body);
        return;
      }
      case "psettle": {
        if (this.deferreds.length === 0) return;
        const d = this.deferreds[a.pick % this.deferreds.length];
        const label = this.nextLabel++;
        // A rejection reason is always a plain string (a promise as reason would print differently).
        const value =
          a.reject || a.adopt === null || a.adopt === undefined
            ? { kind: "plain", text: `${a.reject ? "R" : "V"}${label}` }
            : { kind: "adopt", d: this.deferreds[a.adopt % this.deferreds.length] };
        this.api(() => b.settle(d, a.reject, value));
        return;
      }
      case "pthen": {
        if (this.deferreds.length === 0) return;
        this.attachHandler(this.deferreds[a.pick % this.deferreds.length], a.body);
        return;
      }
      case "throw":
        throw `E:${name}`;
      case "verify":
        b.verify();
        return;
      case "shutdown":
        this.api(() => b.shutdown());
        return;
      case "reenter":
        this.drive(a.call === "advance" ? { t: "advance", ms: 1 } : { t: a.call }, false);
        return;
      default:
        this.drive(a, true);
    }
  }

  /** @param {IHandle} h @param {any} delay */
  schedule(h, delay) {
    const r = this.api(() => this.b.setTimer(h, delayValue(delay)));
    if (r.ok) {
      h.ref = r.value;
      this.handles.push(h);
    }
  }

  /** @param {{ label: number, ref: any }} d @param {any[]} body */
  attachHandler(d, body) {
    const label = this.nextLabel++;
    const handler = (/** @type {"f"|"r"} */ how) => (/** @type {any} */ v) => {
      this.trace.push(`P${label}:${how}:${valueLabel(v)}`);
      this.runBody(body, `P${label}`, undefined);
    };
    this.api(() => this.b.then(d, `h${label}`, handler("f"), handler("r")));
  }

  /** A driving call. @param {any} a @param {boolean} top */
  drive(a, top) {
    const b = this.b;
    const r = this.api(() => {
      switch (a.t) {
        case "advance":
          return b.advance(a.ms, a.limit ?? undefined);
        case "runUntilIdle":
          return b.runUntilIdle(a.limit ?? undefined);
        case "next":
          return b.next();
        case "runAll":
          return b.runAll(a.limit ?? undefined);
        case "runToLast":
          return b.runToLast();
        case "run":
          return b.run(top);
        default:
          throw new Error(`unknown operation ${JSON.stringify(a)}`);
      }
    });
    if (r.ok && top && r.value !== undefined) this.trace.push(`ret:${r.value}`);
  }

  /** Runs a body; a `throw` action throws out of the callback (to the loop's onError). */
  runBody(
    /** @type {any[]} */ body,
    /** @type {string} */ name,
    /** @type {IHandle | undefined} */ self,
  ) {
    for (const a of body) this.exec(a, self, name);
  }

  /** A task or microtask callback. */
  runCallback(/** @type {string} */ name, /** @type {any[]} */ body) {
    this.trace.push(`${name}@${this.b.now()}`);
    this.runBody(body, name, undefined);
  }

  /**
   * A timer's or immediate's callback ran.
   * @param {IHandle} h @param {boolean} thisOk @param {boolean} argOk
   */
  fire(h, thisOk, argOk) {
    let name;
    if (h.kind === "immediate") this.fired.immediates++;
    else this.fired.timers++;
    if (h.kind === "immediate") name = `M${h.label}`;
    else if (h.kind === "interval") name = `I${h.label}.${++h.beats}`;
    else if (h.chain) name = `C${h.label}.${h.chain.k}`;
    else name = `T${h.label}`;
    this.trace.push(`${name}@${this.b.now()}${thisOk ? "" : "!this"}${argOk ? "" : "!arg"}`);
    if (h.kind === "interval" && h.stopAfter > 0 && h.beats >= h.stopAfter) {
      this.api(() => this.b.clear("clearInterval", { type: "handle", h }));
    }
    const chain = h.chain;
    if (chain && chain.k < chain.depth) {
      /** @type {IHandle} */
      const next = { ...h, beats: 0, chain: { ...chain, k: chain.k + 1 }, ref: undefined };
      this.schedule(next, chain.delay);
      return;
    }
    this.runBody(h.body, name, h);
  }

  /** Runs a top-level operation (sync part). */
  op(/** @type {any} */ a) {
    this.trace.push(`# ${a.t}`);
    try {
      this.exec(a, undefined, "top");
    } catch (error) {
      throw new Error(`harness bug: ${String(error)}`);
    }
  }
}

// ---- the model backend ------------------------------------------------------------------

class ModelBackend {
  /** @param {"html"|"node"} profile @param {number} startTime @param {number | undefined} timersCap */
  constructor(profile, startTime, timersCap) {
    this.m = new Model({ profile, startTime, timersCap });
    this.trace = this.m.trace;
    /** @type {any} */
    this.interp = undefined;
    this.onHandle = (/** @type {any} */ mh) => this.interp.fire(mh.ih, true, true);
  }
  now() {
    return this.m.now;
  }
  /** @param {IHandle} h @param {unknown} delay */
  setTimer(h, delay) {
    const mh = this.m.addTimer(h.kind === "interval" ? "interval" : "timeout", delay, {});
    /** @type {any} */ (mh).ih = h;
    return mh;
  }
  /** @param {IHandle} h */
  setImmediate(h) {
    const mh = this.m.addImmediate({});
    /** @type {any} */ (mh).ih = h;
    return mh;
  }
  submit(/** @type {() => void} */ fn) {
    this.m.submit(fn);
  }
  queueMicrotask(/** @type {() => void} */ fn) {
    this.m.queueMicrotask(fn);
  }
  /** @param {string} via @param {any} target */
  clear(via, target) {
    const m = this.m;
    if (target.type !== "handle" && target.type !== "num") return;
    const mh = target.h.ref;
    const isImmediate = mh.kind === "immediate";
    if (m.html) {
      if (via === "clearImmediate" || via === "dispose") m.clearImmediate(mh);
      else m.clearTimerById(mh);
      return;
    }
    if (target.type === "num") {
      if (isImmediate) return; // Number(immediate) is NaN
      m.toPrimitive(mh);
      // close -> clearTimeout(number); dispose -> clearImmediate(number), which ignores a timer id
      if (via !== "clearImmediate" && via !== "dispose" && mh.registered) m.clearTimer(mh);
      return;
    }
    if (isImmediate) {
      if (via === "clearImmediate" || via === "dispose") m.clearImmediate(mh);
      return;
    }
    if (via !== "clearImmediate") m.clearTimer(mh);
  }
  /** @param {IHandle} h @param {boolean} ref */
  setRef(h, ref) {
    this.m.setRef(h.ref, ref);
  }
  /** @param {IHandle} h */
  refresh(h) {
    this.m.refresh(h.ref);
  }
  newDeferred(/** @type {number} */ label) {
    return this.m.newDeferred(label);
  }
  /** @param {any} d @param {boolean} reject @param {any} value */
  settle(d, reject, value) {
    this.m.settleDeferred(d.ref, reject, value.kind === "plain" ? value.text : value.d.ref.promise);
  }
  /** @param {any} d @param {string} label @param {any} onF @param {any} onR */
  then(d, label, onF, onR) {
    this.m.then(d.ref.promise, label, onF, onR);
  }
  verify() {
    this.trace.push(`state:${this.m.state()}`);
  }
  shutdown() {
    this.m.outcomes.push({ kind: "shutdown", state: this.m.shutdown() });
  }
  run(/** @type {boolean} */ top) {
    const m = this.m;
    if (m.closed) m.outcomes.push({ kind: "run", name: "LoopClosedError" });
    else if (!top || m.depth > 0) m.outcomes.push({ kind: "run", name: "ReentrancyError" });
    else this.topRun = m.runVirtual(this.onHandle);
  }
  /** @type {string | undefined} the outcome of a top-level run() (reported before the others) */
  topRun = undefined;
  advance(/** @type {number} */ ms, /** @type {number|undefined} */ limit) {
    return this.m.advance(ms, limit, this.onHandle);
  }
  runUntilIdle(/** @type {number|undefined} */ limit) {
    this.m.runUntilIdle(limit, this.onHandle);
  }
  next() {
    return this.m.next(this.onHandle);
  }
  runAll(/** @type {number|undefined} */ limit) {
    return this.m.runAll(limit, this.onHandle);
  }
  runToLast() {
    return this.m.runToLast(this.onHandle);
  }
  async afterOp() {
    const m = this.m;
    // Microtasks are not time: what the op left queued runs on the host's microtask
    // queue before anything else the host does.
    m.hostCheckpoint();
    if (m.shutdownState && m.shutdownState.report === undefined) m.finishShutdown(this.onHandle);
    if (this.topRun !== undefined) this.trace.push(`run:${this.topRun}`);
    this.topRun = undefined;
    if (m.closed) m.drainHost();
    for (let i = 0; i < m.outcomes.length; i++) {
      const o = m.outcomes[i];
      if (o.kind === "run") this.trace.push(`run:${o.name}`);
      else this.trace.push(`shutdown:${o.state.report}`);
    }
    m.outcomes = [];
    const p = m.pending();
    this.trace.push(
      `@ ${p.timers},${p.immediates},${p.tasks},${p.microtasks},${p.refs} ${m.state()}`,
    );
    // The metrics the model can derive: callbacks counted as they ran, queue depths.
    const f = this.interp.fired;
    this.trace.push(
      `metrics ${f.timers},${f.immediates} queues ${p.timers},${p.immediates},${p.tasks}`,
    );
  }
}

// ---- the zigloop backend ------------------------------------------------------------------

/** `Symbol.dispose`, or the registered symbol zigloop uses where the runtime lacks it. */
const disposeSymbol = /** @type {any} */ (Symbol).dispose ?? Symbol.for("Symbol.dispose");

/**
 * @typedef {{ createLoop: (options: any) => any, foreign?: { timeout: any, immediate: any } }} RealApi
 */

class RealBackend {
  /** @param {any} loop @param {"html"|"node"} profile @param {RealApi} api */
  constructor(loop, profile, api) {
    this.loop = loop;
    this.html = profile === "html";
    this.api = api;
    /** @type {string[]} */
    this.trace = [];
    /** @type {any} */
    this.interp = undefined;
    /** @type {Array<{ kind: "shutdown"|"run", promise: Promise<any> }>} */
    this.outcomes = [];
    /** @type {Promise<any> | undefined} */
    this.shutdownPromise = undefined;
    this.corrupt = 0;
  }
  now() {
    return this.loop.now();
  }
  /** @param {IHandle} h @param {unknown} delay */
  setTimer(h, delay) {
    const interp = this.interp;
    const html = this.html;
    /** @this {unknown} */
    const fn = function (/** @type {any} */ arg) {
      interp.fire(h, html ? this === globalThis : this === h.ref, arg === h.label);
    };
    return h.kind === "interval"
      ? this.loop.setInterval(fn, delay, h.label)
      : this.loop.setTimeout(fn, delay, h.label);
  }
  /** @param {IHandle} h */
  setImmediate(h) {
    const interp = this.interp;
    const html = this.html;
    return this.loop.setImmediate(
      /** @this {unknown} */ function (/** @type {any} */ arg) {
        interp.fire(h, html ? this === globalThis : this === h.ref, arg === h.label);
      },
      h.label,
    );
  }
  submit(/** @type {() => void} */ fn) {
    this.loop.submit(fn);
  }
  queueMicrotask(/** @type {() => void} */ fn) {
    this.loop.queueMicrotask(fn);
  }
  /** @param {string} via @param {any} target */
  clear(via, target) {
    const loop = this.loop;
    let value;
    if (target.type === "value") value = target.v;
    else if (target.type === "foreign")
      value = this.api.foreign?.[/** @type {"timeout"|"immediate"} */ (target.which)];
    else if (target.type === "num") value = Number(target.h.ref);
    else value = target.h.ref;
    const isObject = value !== null && typeof value === "object";
    // A foreign handle is only ever passed to this loop's clear functions (its own
    // close()/dispose would clear it in its own loop, which is not the point).
    const methods = isObject && target.type !== "foreign";
    if (via === "close" && methods && typeof value.close === "function") value.close();
    else if (via === "dispose" && methods && typeof value[disposeSymbol] === "function")
      value[disposeSymbol]();
    else if (via === "close") loop.clearTimeout(value);
    else if (via === "dispose") loop.clearImmediate(value);
    else loop[via](value);
  }
  /** @param {IHandle} h @param {boolean} ref */
  setRef(h, ref) {
    if (ref) h.ref.ref();
    else h.ref.unref();
  }
  /** @param {IHandle} h */
  refresh(h) {
    h.ref.refresh();
  }
  newDeferred(/** @type {number} */ label) {
    const d = this.loop.Promise.withResolvers();
    this.promiseLabels.set(d.promise, `d${label}`);
    return d;
  }
  /** @type {WeakMap<object, string>} */
  promiseLabels = new WeakMap();
  /** @param {any} d @param {boolean} reject @param {any} value */
  settle(d, reject, value) {
    const v = value.kind === "plain" ? value.text : value.d.ref.promise;
    if (reject) d.ref.reject(v);
    else d.ref.resolve(v);
  }
  /** @param {any} d @param {string} label @param {any} onF @param {any} onR */
  then(d, label, onF, onR) {
    const derived = d.ref.promise.then(onF, onR);
    this.promiseLabels.set(derived, label);
  }
  verify() {
    const code = this.loop.verifyCore();
    if (code !== 0) this.trace.push(`CORRUPT:${code}`);
    this.trace.push(`state:${this.loop.state}`);
  }
  shutdown() {
    const promise = this.loop.shutdown();
    this.shutdownPromise ??= promise;
    this.outcomes.push({ kind: "shutdown", promise });
  }
  run(/** @type {boolean} */ top) {
    const promise = this.loop.run();
    promise.catch(() => undefined); // observed in afterOp; not an unhandled rejection meanwhile
    // A top-level run() is reported first: its synchronous start runs callbacks (which may
    // call run() themselves) before it returns its promise.
    if (top && this.loop.state !== "closed" && this.topRun === undefined) this.topRun = promise;
    else this.outcomes.push({ kind: "run", promise });
  }
  /** @type {Promise<void> | undefined} */
  topRun = undefined;
  advance(/** @type {number} */ ms, /** @type {number|undefined} */ limit) {
    return this.loop.advance(ms, limit === undefined ? undefined : { limit });
  }
  runUntilIdle(/** @type {number|undefined} */ limit) {
    this.loop.runUntilIdle(limit === undefined ? undefined : { limit });
  }
  next() {
    return this.loop.next();
  }
  runAll(/** @type {number|undefined} */ limit) {
    return this.loop.runAll(limit === undefined ? undefined : { limit });
  }
  runToLast() {
    return this.loop.runToLast();
  }
  async afterOp() {
    const loop = this.loop;
    // The host checkpoint the op requested (if any) was queued first: it runs here.
    await Promise.resolve();
    if (this.shutdownPromise) {
      await this.shutdownPromise.catch(() => undefined);
    }
    if (this.topRun !== undefined) {
      try {
        await this.topRun;
        this.trace.push("run:ok");
      } catch (error) {
        this.trace.push(`run:${/** @type {any} */ (error).name}`);
      }
      this.topRun = undefined;
    }
    if (loop.state === "closed") {
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < this.outcomes.length; i++) {
      const o = this.outcomes[i];
      try {
        const value = await o.promise;
        if (o.kind === "run") this.trace.push("run:ok");
        else
          this.trace.push(
            `shutdown:${value.cancelledTimers},${value.ranTasks},${value.rejectedPromises}`,
          );
      } catch (error) {
        this.trace.push(`${o.kind}:${/** @type {any} */ (error).name}`);
      }
    }
    this.outcomes = [];
    const p = loop.pending;
    const code = loop.verifyCore();
    if (code !== 0) this.trace.push(`CORRUPT:${code}`);
    this.trace.push(
      `@ ${p.timers},${p.immediates},${p.tasks},${p.microtasks},${p.refs} ${loop.state}`,
    );
    // Counts and queue depths are kept with metrics on or off (loop.metrics()).
    const mt = loop.metrics();
    const q = mt.queue;
    this.trace.push(
      `metrics ${mt.timersFired},${mt.immediatesExecuted} queues ${q.timers.current},${q.immediates.current},${q.ingress.current}`,
    );
  }
}

// ---- running and comparing ------------------------------------------------------------------

/**
 * Runs `ops` on the model. @param {"html"|"node"} profile @param {Run} run
 */
export async function traceModel(profile, run) {
  const backend = new ModelBackend(profile, run.startTime, run.timersCap);
  const interp = new Interpreter(backend, profile);
  for (const op of run.ops) {
    interp.op(op);
    await backend.afterOp();
  }
  return backend.trace;
}

/**
 * Runs `ops` on a fresh zigloop loop (manual clock). @param {RealApi} api @param {"html"|"node"} profile
 * @param {Run} run
 */
export async function traceReal(api, profile, run) {
  /** @type {RealBackend} */
  let backend;
  const loop = api.createLoop({
    clock: "manual",
    profile,
    startTime: run.startTime,
    ...(run.timersCap === undefined ? {} : { capacity: { timers: run.timersCap } }),
    metrics: run.metrics === true,
    onError: (/** @type {unknown} */ error) => backend.trace.push(`err:${valueLabel(error)}`),
    onWarning: (/** @type {Error} */ warning) => backend.trace.push(`warn:${warning.name}`),
  });
  backend = new RealBackend(loop, profile, api);
  loop.addEventListener("unhandledrejection", (/** @type {any} */ event) => {
    backend.trace.push(
      `unh:${backend.promiseLabels.get(event.promise) ?? "?"}:${valueLabel(event.reason)}`,
    );
  });
  loop.addEventListener("rejectionhandled", (/** @type {any} */ event) => {
    backend.trace.push(`rh:${backend.promiseLabels.get(event.promise) ?? "?"}`);
  });
  const interp = new Interpreter(backend, profile);
  for (const op of run.ops) {
    interp.op(op);
    await backend.afterOp();
  }
  if (loop.state !== "closed") loop.close();
  return backend.trace;
}

/** The first index where two traces differ, or -1. */
export function firstDifference(/** @type {string[]} */ a, /** @type {string[]} */ b) {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A side-by-side excerpt of two traces around their first difference. */
export function describeDifference(
  /** @type {string[]} */ expected,
  /** @type {string[]} */ actual,
) {
  const at = firstDifference(expected, actual);
  if (at < 0) return "traces are equal";
  const from = Math.max(0, at - 12);
  const lines = [`first difference at trace entry ${at} (model | zigloop):`];
  for (let i = from; i < Math.min(Math.max(expected.length, actual.length), at + 6); i++) {
    const mark = i === at ? ">>" : "  ";
    lines.push(
      `${mark} ${String(i).padStart(4)}  ${String(expected[i] ?? "(end)").padEnd(34)} | ${actual[i] ?? "(end)"}`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs both and throws (with a readable excerpt) when the traces differ.
 * @param {RealApi} api @param {"html"|"node"} profile @param {Run} run
 */
export async function checkRun(api, profile, run) {
  const expected = await traceModel(profile, run);
  const actual = await traceReal(api, profile, run);
  if (firstDifference(expected, actual) >= 0) {
    throw new Error(
      `model and zigloop disagree (${profile} profile)\n${describeDifference(expected, actual)}`,
    );
  }
  return expected.length;
}
