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
 *     {t:"rearm",via,count}    a 0 ms timeout that re-arms itself `count` times from a
 *                              microtask, task, loop promise or immediate (via)
 *     {t:"clear",via,target}   via: clearTimeout|clearInterval|clearImmediate|close|dispose
 *                              target: {k:"own",pick}|{k:"num",pick}|{k:"self"}|{k:"bogus",v}|{k:"foreign",which}
 *     {t:"pnew",handled,body} {t:"psettle",pick,reject,adopt,hv} {t:"pthen",pick,body}
 *                              hv: reject with a hostile value of that kind (model.mjs HOSTILE_KINDS)
 *     {t:"ref",pick,ref} {t:"refresh",pick}   (node profile; no-ops in html)
 *     {t:"metrics"} {t:"resetMetrics"}
 *     {t:"watch",types,failAt,onRemove,body}  an EventEmitter-like source; its on() throws for
 *                              the failAt-th listener (0: never); onRemove: removing a listener
 *                              calls back into the loop (submit)
 *     {t:"emit",pick,type} {t:"wclose",pick} {t:"wref",pick,ref}
 *     {t:"install",who,target,promise} {t:"uninstall",pick}   installGlobals of this loop
 *                              (who 0) or a helper loop (1, 2) onto one of two targets
 *     {t:"shutdown"} {t:"close"}
 *   only inside callbacks: {t:"throw",v} (v: a hostile kind, or null for a string) {t:"reenter",call} {t:"verify"}
 *   only at top level: {t:"advance",ms,limit} {t:"advanceEnd",d,limit} {t:"runUntilIdle",limit}
 *     {t:"next"} {t:"runAll",limit} {t:"runToLast",limit} {t:"run"} (run() only in runs built for it)
 *
 * A run also says how its hooks behave (model.mjs `Hooks`): onError records errors, or
 * records them and throws a hostile value, or is left to the default printer (whose
 * console.error calls the runner records); the unhandledrejection listener may throw.
 *
 * Invariants the traces check after every operation, besides every callback, error and
 * refused call: the pending counts, `state` (never "running" outside a callback), the
 * time and next deadline, `verifyCore() === 0`, the metrics counts and queue depths the
 * model derives (never negative, peaks never below current), `exitCode`, and the close
 * and shutdown reports (nothing accepted is lost without being counted). A drive that
 * does not end within its limit makes the run fail (RUNAWAY), not hang.
 *
 * @module
 */
import fc from "fast-check";
import {
  BOGUS,
  delayValue,
  HOSTILE_KINDS,
  Model,
  ModelThrow,
  markHostile,
  modelHostile,
  TIME_MS_LIMIT,
  TIME_US_LIMIT,
  valueLabel,
} from "./model.mjs";

// ---- arbitraries ------------------------------------------------------------------------

/**
 * How the runs of one family differ: `forRun` runs call `run()` at top level (see
 * actionArb); `nearEnd` runs start within a minute of the end of virtual time, with
 * delays up to the longest one.
 * @typedef {{ forRun: boolean, nearEnd: boolean }} Family
 */

/** @param {Family} family */
function delayArbOf(family) {
  return fc.oneof(
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
    // Due after the end of virtual time: drives must throw, never fire them early.
    { weight: family.nearEnd ? 3 : 0, arbitrary: fc.constantFrom("max", "long") },
  );
}

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

const hostileArb = fc.constantFrom(...HOSTILE_KINDS);

/** Settles a loop promise; one in `hostileFreq` rejects or resolves with a hostile value. */
function psettleArb(/** @type {number} */ hostileFreq) {
  return fc.record({
    t: fc.constant("psettle"),
    pick: fc.nat(64),
    reject: fc.boolean(),
    adopt: fc.option(fc.nat(64), { freq: 4 }),
    hv: fc.option(hostileArb, { freq: hostileFreq }),
  });
}

/** Watch event types: "readable" coalesces while one is queued, the others do not. */
export const WATCH_TYPES = Object.freeze(["readable", "a", "b"]);

/** @type {Map<string, fc.Arbitrary<any>>} */
const actionArbs = new Map();

/**
 * An action a callback (or the top level) performs; `depth` bounds how deep bodies nest.
 * `forRun`: for runs that call `run()` at top level, which only ends when no ref'd work is
 * left: every interval stops itself after 1-4 beats, and callbacks do not shut down (a
 * shutdown racing run() interleaves two drivers over host macrotasks), nor refresh timers
 * (a callback that refreshes its own timer would run forever; top-level refresh is kept).
 * @param {number} depth
 * @param {Family} [family]
 * @returns {fc.Arbitrary<any>}
 */
export function actionArb(depth, family = { forRun: false, nearEnd: false }) {
  const { forRun } = family;
  const key = `${depth}:${forRun}:${family.nearEnd}`;
  const cached = actionArbs.get(key);
  if (cached) return cached;
  const delayArb = delayArbOf(family);
  const body =
    depth <= 0 ? fc.constant([]) : fc.array(actionArb(depth - 1, family), { maxLength: 3 });
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
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("rearm"),
        via: fc.constantFrom("micro", "task", "promise", "immediate"),
        // Mostly a few re-arms; sometimes more than any drive's limit in these runs
        // (html: 0 ms stays 0, so they pile up at one instant and drives must throw).
        count: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }) }, fc.constant(40)),
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
    { weight: 6, arbitrary: psettleArb(5) },
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
    { weight: 2, arbitrary: fc.constant({ t: "metrics" }) },
    { weight: 1, arbitrary: fc.constant({ t: "resetMetrics" }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("watch"),
        types: fc.integer({ min: 1, max: WATCH_TYPES.length }),
        failAt: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 3 })),
        onRemove: fc.boolean(),
        body,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant("emit"),
        pick: fc.nat(16),
        type: fc.nat(WATCH_TYPES.length - 1),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("wclose"), pick: fc.nat(16) }) },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.constant("wref"), pick: fc.nat(16), ref: fc.boolean() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("install"),
        who: fc.integer({ min: 0, max: 2 }),
        target: fc.integer({ min: 0, max: 1 }),
        promise: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("uninstall"), pick: fc.nat(16) }) },
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant("throw"), v: fc.option(hostileArb, { freq: 2 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("reenter"),
        call: fc.constantFrom("runUntilIdle", "advance", "next", "runAll", "runToLast", "run"),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ t: "verify" }) },
    { weight: forRun ? 0 : 1, arbitrary: fc.constant({ t: "shutdown" }) },
    { weight: 1, arbitrary: fc.constant({ t: "close" }) },
  );
  actionArbs.set(key, arb);
  return arb;
}

const INNER_ONLY = new Set(["throw", "reenter", "verify"]);
/** Ending the loop is drawn separately at top level (rarer there: the rest of the run would be moot). */
const ENDINGS = new Set(["shutdown", "close"]);

/**
 * A top-level operation: scheduling (with nested bodies), driving, or ending the loop;
 * with `forRun`, also `run()` (see actionArb).
 * @param {Family} family
 */
function topOpArbOf(family) {
  const { forRun, nearEnd } = family;
  return fc.oneof(
    {
      weight: 24,
      arbitrary: actionArb(3, family).filter((a) => !INNER_ONLY.has(a.t) && !ENDINGS.has(a.t)),
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
          { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) },
          { weight: 8, arbitrary: fc.integer({ min: 0, max: 160 }).map((q) => q / 4) },
          // Past the end of virtual time from anywhere: a RangeError, the clock unchanged.
          { weight: 1, arbitrary: fc.constant(1e13) },
        ),
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 6 }),
      }),
    },
    {
      // To within `d` ms of the end of virtual time (d > 0 passes it: a RangeError).
      weight: nearEnd ? 3 : 0,
      arbitrary: fc.record({
        t: fc.constant("advanceEnd"),
        d: fc.integer({ min: -2, max: 2 }),
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 2 }),
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
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant("runToLast"),
        limit: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ t: "shutdown" }) },
    { weight: 1, arbitrary: fc.constant({ t: "close" }) },
  );
}

/** A top-level operation of the runs without `run()`. */
export const topOpArb = topOpArbOf({ forRun: false, nearEnd: false });

/** What a run may do after close(): loop promises still settle, and their rejections are reported. */
const afterCloseArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("pnew"), handled: fc.boolean(), body: fc.constant([]) }),
  },
  { weight: 4, arbitrary: psettleArb(4) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("pthen"),
      pick: fc.nat(64),
      body: fc.array(fc.constantFrom({ t: "throw", v: null }, { t: "throw", v: "nullproto" }), {
        maxLength: 1,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "metrics" }) },
);

const hooksArb = fc.record({
  onError: fc.constantFrom("collect", "collect", "collect", "throws", "default"),
  secondary: hostileArb,
  listener: fc.option(hostileArb, { freq: 4 }),
});

/**
 * Runs: the start time, capacity.timers (small, so CapacityError happens, or the default),
 * metrics on or off (they change nothing observable on the manual clock), the hooks, and
 * the operations. Three families: plain, with run(), and near the end of virtual time.
 * @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} [options]
 */
export function runArbOf(options = {}) {
  return fc.oneof(
    { weight: 4, arbitrary: runArbFor(options, { forRun: false, nearEnd: false }) },
    { weight: 3, arbitrary: runArbFor(options, { forRun: true, nearEnd: false }) },
    { weight: 2, arbitrary: runArbFor(options, { forRun: false, nearEnd: true }) },
  );
}

/** @param {{ maxOps?: number, size?: "small"|"medium"|"large" }} options @param {Family} family */
function runArbFor(options, family) {
  const startArb = family.nearEnd
    ? fc.oneof(
        fc.integer({ min: 0, max: 60 }).map((k) => TIME_MS_LIMIT - k),
        fc.integer({ min: 1, max: 60 }).map((k) => TIME_MS_LIMIT - k - 0.25),
      )
    : fc.constantFrom(0, 0, 0, 1000.75);
  return fc
    .record({
      startTime: startArb,
      timersCap: fc.option(fc.integer({ min: 1, max: 8 }), { freq: 3 }),
      metrics: fc.boolean(),
      hooks: hooksArb,
      ops: fc.array(topOpArbOf(family), {
        minLength: 1,
        maxLength: options.maxOps ?? 40,
        size: options.size ?? "medium",
      }),
      // Most runs end with a graceful shutdown, so every run also checks its report; some
      // close at once and then settle loop promises (rejections after close are reported).
      end: fc.constantFrom("shutdown", "shutdown", "runAll", "none", "close"),
      afterClose: fc.array(afterCloseArb, { minLength: 1, maxLength: 4 }),
    })
    .map(({ startTime, timersCap, metrics, hooks, ops, end, afterClose }) => ({
      startTime,
      timersCap: timersCap ?? undefined,
      metrics,
      hooks,
      ops:
        end === "none"
          ? ops
          : end === "close"
            ? [...ops, { t: "close" }, ...afterClose]
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

/**
 * What a run exercises, for the soak's summary: actions by type (nested included), hostile
 * values thrown or rejected with, and how its hooks behave.
 * @param {Run} run @param {Record<string, number>} into
 */
export function tallyRun(run, into) {
  const add = (/** @type {string} */ key) => {
    into[key] = (into[key] ?? 0) + 1;
  };
  const walk = (/** @type {any[]} */ list) => {
    for (const a of list) {
      add(a.t);
      if (a.t === "throw" && a.v) add("hostile throw");
      if (a.t === "psettle" && a.reject && a.hv) add("hostile rejection");
      if (a.t === "watch" && a.failAt > 0 && a.failAt <= a.types) add("failing watch");
      if (Array.isArray(a.body)) walk(a.body);
    }
  };
  walk(run.ops);
  const hooks = run.hooks ?? { onError: "collect", listener: null };
  if (hooks.onError === "throws") add("run: onError throws");
  if (hooks.onError === "default") add("run: default printer");
  if (hooks.listener) add("run: listener throws");
  if (run.startTime > TIME_MS_LIMIT - 100) add("run: near the end of time");
}

// ---- the interpreter --------------------------------------------------------------------

/**
 * @typedef {{ onError: "collect"|"throws"|"default", secondary: string, listener: string | null }} RunHooks
 * @typedef {{ startTime: number, timersCap?: number, metrics?: boolean, hooks?: RunHooks, ops: any[] }} Run
 */

/**
 * @typedef {{ label: number, kind: "timeout"|"interval"|"immediate", body: any[], stopAfter: number, beats: number,
 *   chain: null | { k: number, depth: number, delay: any },
 *   rearm: null | { via: string, left: number, k: number }, ref: any }} IHandle
 * @typedef {{ label: number, types: string[], failAt: number, onRemove: boolean, body: any[], fired: number, ref: any, source: any }} IWatch
 */

/** Deliveries of a watch whose callback runs its body (later ones are traced only). */
const WATCH_BODY_RUNS = 4;

/** Callbacks one top-level operation may run before the run counts as a drive that does not end. */
const RUNAWAY_CALLBACKS = 100_000;

/** The default `this` of a callback: the global (html, no installGlobals), the handle (node). */
const PLAIN_THIS = new Set(["g", "h"]);

/**
 * The trace label of a thrown loop error: its name, and for a RangeError of virtual
 * time which end it hit (":eor" an advance past the end of the range, ":eovt" a timer
 * due after it).
 * @param {any} error
 */
export function errorLabel(error) {
  if (error instanceof ModelThrow) return error.tag ? `${error.name}:${error.tag}` : error.name;
  const name = String(error.name);
  if (name !== "RangeError") return name;
  const message = String(error.message);
  if (message.includes("end of virtual time")) return `${name}:eovt`;
  if (message.includes("end of the exact range")) return `${name}:eor`;
  return name;
}

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
    /** @type {IWatch[]} */
    this.watches = [];
    /** installGlobals disposers, in install order (the backend's keys) */
    /** @type {any[]} */
    this.installs = [];
    this.nextLabel = 1;
    /** Callbacks run by the current top-level operation (see RUNAWAY_CALLBACKS). */
    this.callbacks = 0;
    this.runaway = false;
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
        this.trace.push(`x:${errorLabel(error)}`);
        return { ok: false, value: undefined };
      }
      throw error;
    }
  }

  /**
   * A callback starts. Past RUNAWAY_CALLBACKS in one top-level operation the run has a
   * drive that does not end: the trace says so once and callbacks stop doing anything,
   * so the run ends and fails instead of hanging.
   */
  enter() {
    if (++this.callbacks <= RUNAWAY_CALLBACKS) return true;
    if (!this.runaway) this.trace.push("RUNAWAY");
    this.runaway = true;
    return false;
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

  /** @param {any[]} body @returns {IHandle} */
  newHandle(/** @type {"timeout"|"interval"|"immediate"} */ kind, body) {
    return {
      label: this.nextLabel++,
      kind,
      body,
      stopAfter: 0,
      beats: 0,
      chain: null,
      rearm: null,
      ref: undefined,
    };
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
        const h = this.newHandle(a.t === "interval" ? "interval" : "timeout", a.body);
        h.stopAfter = a.stopAfter ?? 0;
        if (a.t === "chain") h.chain = { k: 1, depth: a.depth, delay: a.delay };
        this.schedule(h, a.delay);
        return;
      }
      case "rearm": {
        const h = this.newHandle("timeout", []);
        h.rearm = { via: a.via, left: a.count, k: 1 };
        this.schedule(h, 0);
        return;
      }
      case "_rearm": {
        // The re-arming step (queued by a rearm timer's callback): the next 0 ms timeout.
        /** @type {IHandle} */
        const prev = a.h;
        const rearm = /** @type {{ via: string, left: number, k: number }} */ (prev.rearm);
        const next = { ...prev, rearm: { ...rearm, left: rearm.left - 1, k: rearm.k + 1 } };
        this.schedule({ ...next, ref: undefined }, 0);
        return;
      }
      case "immediate": {
        const h = this.newHandle("immediate", a.body);
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
      case "_presolved": {
        const label = this.nextLabel++;
        this.api(() => b.resolvedThen(`h${label}`, () => this.runCallback(`J${label}`, a.body)));
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
        // A rejection reason is a plain string (a promise as reason would print
        // differently) or a hostile value.
        let value;
        if (a.reject && a.hv) value = { kind: "value", v: b.hostile(a.hv, `${a.hv}@R${label}`) };
        else if (a.reject || a.adopt === null || a.adopt === undefined)
          value = { kind: "value", v: `${a.reject ? "R" : "V"}${label}` };
        else value = { kind: "adopt", d: this.deferreds[a.adopt % this.deferreds.length] };
        this.api(() => b.settle(d, a.reject, value));
        return;
      }
      case "pthen": {
        if (this.deferreds.length === 0) return;
        this.attachHandler(this.deferreds[a.pick % this.deferreds.length], a.body);
        return;
      }
      case "metrics":
        this.trace.push(b.metricsLine());
        return;
      case "resetMetrics":
        b.resetMetrics();
        return;
      case "watch":
        this.watch(a);
        return;
      case "emit": {
        if (this.watches.length === 0) return;
        const w = this.watches[a.pick % this.watches.length];
        b.emit(w, WATCH_TYPES[a.type % WATCH_TYPES.length]);
        return;
      }
      case "wclose":
      case "wref": {
        if (this.watches.length === 0) return;
        const w = this.watches[a.pick % this.watches.length];
        if (w.ref === undefined) return;
        if (a.t === "wclose") b.watchClose(w);
        else b.watchRef(w, a.ref);
        return;
      }
      case "install": {
        const r = this.api(() => b.install(a.who, a.target, a.promise));
        if (r.ok) this.installs.push(r.value);
        this.trace.push(b.ownersLine());
        return;
      }
      case "uninstall": {
        if (this.installs.length === 0) return;
        b.uninstall(this.installs[a.pick % this.installs.length]);
        this.trace.push(b.ownersLine());
        return;
      }
      case "throw":
        throw a.v ? b.hostile(a.v, `${a.v}@${name}`) : `E:${name}`;
      case "verify":
        b.verify();
        return;
      case "shutdown":
        this.api(() => b.shutdown());
        return;
      case "close": {
        const r = this.api(() => b.close());
        if (r.ok) {
          const c = r.value;
          this.trace.push(`close:${c.cancelledTimers},${c.droppedTasks},${c.droppedMicrotasks}`);
        }
        return;
      }
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

  /** watch(): a source that refuses its `failAt`-th listener leaves no listener behind. */
  watch(/** @type {any} */ a) {
    /** @type {IWatch} */
    const w = {
      label: this.nextLabel++,
      types: WATCH_TYPES.slice(0, a.types),
      failAt: a.failAt,
      onRemove: a.onRemove,
      body: a.body,
      fired: 0,
      ref: undefined,
      source: undefined,
    };
    this.watches.push(w);
    const r = this.api(() => this.b.watch(w));
    if (r.ok) w.ref = r.value;
    else this.trace.push(`W${w.label}:listeners=${this.b.listenerCount(w)}`);
  }

  /** The source removes one of a watch's listeners; its hook may call back into the loop. */
  onRemoveListener(/** @type {IWatch} */ w) {
    if (!w.onRemove) return;
    const label = this.nextLabel++;
    this.trace.push(`rl:W${w.label}`);
    this.api(() => this.b.submit(() => this.runCallback(`K${label}`, [])));
  }

  /** A watch's callback ran (a loop task). */
  fireWatch(/** @type {IWatch} */ w, /** @type {string} */ type, /** @type {boolean} */ sourceOk) {
    if (!this.enter()) return;
    const name = `W${w.label}`;
    this.trace.push(`${name}:${type}@${this.b.now()}${sourceOk ? "" : "!source"}`);
    // Like an interval's beats: a callback that emits on its own source would run forever.
    if (++w.fired <= WATCH_BODY_RUNS) this.runBody(w.body, name, undefined);
  }

  /** @param {{ label: number, ref: any }} d @param {any[]} body */
  attachHandler(d, body) {
    const label = this.nextLabel++;
    const handler = (/** @type {"f"|"r"} */ how) => (/** @type {any} */ v) => {
      if (!this.enter()) return;
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
        case "advanceEnd": {
          // To `d` ms from the end of the range; from far away, well past it.
          const leftUs = TIME_US_LIMIT - Math.round(b.now() * 1000);
          const ms = leftUs > 1e10 ? 1e13 : Math.max(0, (leftUs + a.d * 1000) / 1000);
          return b.advance(ms, a.limit ?? undefined);
        }
        case "runUntilIdle":
          return b.runUntilIdle(a.limit ?? undefined);
        case "next":
          return b.next();
        case "runAll":
          return b.runAll(a.limit ?? undefined);
        case "runToLast":
          return b.runToLast(a.limit ?? undefined);
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
    if (!this.enter()) return;
    this.trace.push(`${name}@${this.b.now()}`);
    this.runBody(body, name, undefined);
  }

  /**
   * A timer's or immediate's callback ran. `thisTag` names its `this`: "g" the global,
   * "t0"/"t1" an installGlobals target (html), "h" its own handle (node), "?" anything else.
   * @param {IHandle} h @param {string} thisTag @param {boolean} argOk
   */
  fire(h, thisTag, argOk) {
    if (!this.enter()) return;
    let name;
    if (h.kind === "immediate") this.fired.immediates++;
    else this.fired.timers++;
    if (h.kind === "immediate") name = `M${h.label}`;
    else if (h.kind === "interval") name = `I${h.label}.${++h.beats}`;
    else if (h.chain) name = `C${h.label}.${h.chain.k}`;
    else if (h.rearm) name = `R${h.label}.${h.rearm.k}`;
    else name = `T${h.label}`;
    const thisNote = PLAIN_THIS.has(thisTag) ? "" : `/this=${thisTag}`;
    this.trace.push(`${name}@${this.b.now()}${thisNote}${argOk ? "" : "!arg"}`);
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
    const rearm = h.rearm;
    if (rearm && rearm.left > 0) {
      // Re-arm through another kind of callback, which schedules the next 0 ms timeout.
      const step = [{ t: "_rearm", h }];
      const via = rearm.via === "promise" ? "_presolved" : rearm.via;
      this.exec({ t: via, body: step }, undefined, name);
      return;
    }
    this.runBody(h.body, name, h);
  }

  /** Runs a top-level operation (sync part). */
  op(/** @type {any} */ a) {
    this.trace.push(`# ${a.t}`);
    this.callbacks = 0;
    try {
      this.exec(a, undefined, "top");
    } catch (error) {
      throw new Error(`harness bug: ${valueLabel(error)}`);
    }
  }
}

// ---- the model backend ------------------------------------------------------------------

/** The metrics line of the traces: counts since the last reset, queue depths, watched sources. */
function formatMetrics(
  /** @type {{ timersFired: number, tasksExecuted: number, immediatesExecuted: number, microtasksExecuted: number, ingress: number, microtasks: number, timers: number, immediates: number, watchers: number }} */ m,
) {
  return (
    `m:${m.timersFired},${m.tasksExecuted},${m.immediatesExecuted},${m.microtasksExecuted}` +
    ` q:${m.ingress},${m.microtasks},${m.timers},${m.immediates} w:${m.watchers}`
  );
}

class ModelBackend {
  /** @param {"html"|"node"} profile @param {Run} run */
  constructor(profile, run) {
    this.m = new Model({
      profile,
      startTime: run.startTime,
      timersCap: run.timersCap,
      hooks: run.hooks,
    });
    this.trace = this.m.trace;
    /** @type {any} */
    this.interp = undefined;
    this.onHandle = (/** @type {any} */ mh) => this.interp.fire(mh.ih, this.m.thisTag(), true);
    this.m.onRemoveListener = (w) => this.interp.onRemoveListener(w.iw);
  }
  now() {
    return this.m.now;
  }
  /** @param {string} kind @param {string} label */
  hostile(kind, label) {
    return modelHostile(kind, label);
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
  /** @param {string} label @param {() => void} fn */
  resolvedThen(label, fn) {
    this.m.resolvedThen(label, fn);
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
    this.m.settleDeferred(d.ref, reject, value.kind === "value" ? value.v : value.d.ref.promise);
  }
  /** @param {any} d @param {string} label @param {any} onF @param {any} onR */
  then(d, label, onF, onR) {
    this.m.then(d.ref.promise, label, onF, onR);
  }
  metricsLine() {
    return formatMetrics(this.m.metrics());
  }
  resetMetrics() {
    this.m.resetMetrics();
    // Counts start again from here, also inside a callback (counted before it ran); a
    // closed loop's metrics stay as they were at close.
    if (this.m.state() !== "closed") this.interp.fired = { timers: 0, immediates: 0 };
  }
  /** @param {IWatch} w */
  watch(w) {
    return this.m.addWatch(w, w.types, w.failAt);
  }
  listenerCount(/** @type {IWatch} */ _w) {
    return 0; // a failed watch() leaves the source as it was
  }
  /** @param {IWatch} w @param {string} type */
  emit(w, type) {
    if (w.ref === undefined) return;
    this.m.emit(w.ref, type, (mw, t) => this.interp.fireWatch(mw.iw, t, true));
  }
  watchClose(/** @type {IWatch} */ w) {
    this.m.closeWatch(w.ref);
  }
  watchRef(/** @type {IWatch} */ w, /** @type {boolean} */ ref) {
    w.ref.ref = ref;
  }
  /** @param {number} who @param {number} target @param {boolean} promise */
  install(who, target, promise) {
    return this.m.install(who, target, promise);
  }
  uninstall(/** @type {any} */ record) {
    this.m.uninstall(record);
  }
  ownersLine() {
    const m = this.m;
    const of = (/** @type {number} */ t) =>
      `${m.owner(t, "setTimeout")}${m.owner(t, "setImmediate")}${m.owner(t, "Promise")}`;
    return `g:${of(0)},${of(1)}`;
  }
  verify() {
    this.trace.push(`state:${this.m.state()}`);
  }
  shutdown() {
    this.m.outcomes.push({ kind: "shutdown", state: this.m.shutdown() });
  }
  close() {
    return this.m.close();
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
  runToLast(/** @type {number|undefined} */ limit) {
    return this.m.runToLast(limit, this.onHandle);
  }
  async afterOp() {
    const m = this.m;
    // Microtasks are not time: what the op left queued runs on the host's microtask
    // queue before anything else the host does.
    m.hostCheckpoint();
    if (m.shutdownState && m.shutdownState.report === undefined) m.finishShutdown(this.onHandle);
    // Closed: the host's queues (loop promise jobs and rejection notifications of a closed
    // loop) run before run()'s outcome is recorded. How their host microtasks interleave
    // with the settling of run()'s own promise is the host's business, not the loop's.
    if (m.closed) m.drainHost();
    if (this.topRun !== undefined) this.trace.push(`run:${this.topRun}`);
    this.topRun = undefined;
    for (let i = 0; i < m.outcomes.length; i++) {
      const o = m.outcomes[i];
      if (o.kind === "run") this.trace.push(`run:${o.name}`);
      else this.trace.push(`shutdown:${o.state.report}`);
    }
    m.outcomes = [];
    const p = m.pending();
    this.trace.push(
      `@ ${p.timers},${p.immediates},${p.tasks},${p.microtasks},${p.refs} ${m.state()} ` +
        `t:${m.now} nd:${m.nextDeadline() / 1000} ${this.metricsLine()} x:${m.exitCode}`,
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

/** What a watched source throws when it refuses a listener. */
class SourceRefused extends Error {
  constructor() {
    super("the source refused a listener");
    this.name = "SourceRefused";
  }
}

/**
 * An EventEmitter-like source (on/off/emit) that refuses its `failAt`-th listener, and
 * whose `off` may call back into the loop (the interpreter's onRemoveListener).
 */
class FakeSource {
  /** @param {Interpreter} interp @param {IWatch} w */
  constructor(interp, w) {
    this.interp = interp;
    this.w = w;
    this.calls = 0;
    /** @type {Array<[string, (...args: unknown[]) => void]>} */
    this.listeners = [];
  }
  /** @param {string} name @param {(...args: unknown[]) => void} listener */
  on(name, listener) {
    if (++this.calls === this.w.failAt) throw new SourceRefused();
    this.listeners.push([name, listener]);
    return this;
  }
  /** @param {string} name @param {(...args: unknown[]) => void} listener */
  off(name, listener) {
    const i = this.listeners.findIndex(([n, l]) => n === name && l === listener);
    if (i < 0) return this;
    this.listeners.splice(i, 1);
    this.interp.onRemoveListener(this.w);
    return this;
  }
  emit(/** @type {string} */ name) {
    for (const [n, listener] of [...this.listeners]) if (n === name) listener();
  }
}

/** The names installGlobals puts on a target; `setTimeout` and `queueMicrotask` have originals there. */
const INSTALLED = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
  "queueMicrotask",
];
const WITH_ORIGINAL = new Set(["setTimeout", "queueMicrotask"]);

/** A real hostile value of `kind`, registered with its trace label. @param {string} kind @param {string} label */
function makeHostile(kind, label) {
  switch (kind) {
    case "nullproto":
      return markHostile(Object.create(null), kind, label);
    case "badError": {
      const error = new Error("x");
      for (const key of ["stack", "message"]) {
        Object.defineProperty(error, key, {
          get() {
            throw new Error(`${key} getter`);
          },
        });
      }
      return markHostile(error, kind, label);
    }
    default: {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return markHostile(proxy, kind, label);
    }
  }
}

/**
 * @typedef {{ createLoop: (options: any) => any, foreign?: { timeout: any, immediate: any } }} RealApi
 */

class RealBackend {
  /** @param {any} loop @param {"html"|"node"} profile @param {RealApi} api */
  constructor(loop, profile, api) {
    this.loop = loop;
    this.profile = profile;
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
    /** installGlobals targets: each starts with its own setTimeout and queueMicrotask */
    /** @type {Array<Record<string, unknown>>} */
    this.targets = [0, 1].map((i) => ({
      setTimeout: function originalSetTimeout() {
        return i;
      },
      queueMicrotask: function originalQueueMicrotask() {
        return i;
      },
    }));
    /** @type {Array<Record<string, unknown>>} the originals, to recognise them */
    this.originals = this.targets.map((t) => ({ ...t }));
    /** what each installation put on a target, to its loop (0 this one, 1 and 2 helpers) */
    /** @type {Map<unknown, number>} */
    this.installedBy = new Map();
    /** @type {any[]} helper loops, created on first use */
    this.helpers = [];
  }
  now() {
    return this.loop.now();
  }
  /** @param {string} kind @param {string} label */
  hostile(kind, label) {
    return makeHostile(kind, label);
  }
  /** `this` of a callback, by name. @param {unknown} self @param {IHandle} h */
  thisTag(self, h) {
    if (!this.html) return self === h.ref ? "h" : "?";
    if (self === globalThis) return "g";
    const i = this.targets.indexOf(/** @type {any} */ (self));
    return i >= 0 ? `t${i}` : "?";
  }
  /** @param {IHandle} h @param {unknown} delay */
  setTimer(h, delay) {
    const interp = this.interp;
    const backend = this;
    /** @this {unknown} */
    const fn = function (/** @type {any} */ arg) {
      interp.fire(h, backend.thisTag(this, h), arg === h.label);
    };
    return h.kind === "interval"
      ? this.loop.setInterval(fn, delay, h.label)
      : this.loop.setTimeout(fn, delay, h.label);
  }
  /** @param {IHandle} h */
  setImmediate(h) {
    const interp = this.interp;
    const backend = this;
    return this.loop.setImmediate(
      /** @this {unknown} */ function (/** @type {any} */ arg) {
        interp.fire(h, backend.thisTag(this, h), arg === h.label);
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
  /** @param {string} label @param {() => void} fn */
  resolvedThen(label, fn) {
    this.promiseLabels.set(this.loop.Promise.resolve().then(fn, fn), label);
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
    const v = value.kind === "value" ? value.v : value.d.ref.promise;
    if (reject) d.ref.reject(v);
    else d.ref.resolve(v);
  }
  /** @param {any} d @param {string} label @param {any} onF @param {any} onR */
  then(d, label, onF, onR) {
    const derived = d.ref.promise.then(onF, onR);
    this.promiseLabels.set(derived, label);
  }
  /**
   * The metrics line, after checking what needs no model: counts are never negative and
   * no peak is below its current depth.
   */
  metricsLine() {
    const m = this.loop.metrics();
    const counts = [m.tasksExecuted, m.timersFired, m.immediatesExecuted, m.microtasksExecuted];
    const queues = [m.queue.ingress, m.queue.microtasks, m.queue.timers, m.queue.immediates];
    const broken = [];
    if (counts.some((n) => !(n >= 0))) broken.push("NEGATIVE-COUNT");
    if (queues.some((q) => !(q.current >= 0 && q.max >= q.current))) broken.push("PEAK<CURRENT");
    if (m.tasksExecuted < m.timersFired + m.immediatesExecuted) broken.push("TASKS<TIMERS+IMM");
    const line = formatMetrics({
      timersFired: m.timersFired,
      tasksExecuted: m.tasksExecuted,
      immediatesExecuted: m.immediatesExecuted,
      microtasksExecuted: m.microtasksExecuted,
      ingress: m.queue.ingress.current,
      microtasks: m.queue.microtasks.current,
      timers: m.queue.timers.current,
      immediates: m.queue.immediates.current,
      watchers: m.handles.watchers,
    });
    return broken.length === 0 ? line : `${line} ${broken.join(" ")}`;
  }
  resetMetrics() {
    this.loop.resetMetrics();
  }
  /** @param {IWatch} w */
  watch(w) {
    w.source = new FakeSource(this.interp, w);
    return this.loop.watch(
      w.source,
      (/** @type {any} */ event) => this.interp.fireWatch(w, event.type, event.source === w.source),
      { events: w.types },
    );
  }
  listenerCount(/** @type {IWatch} */ w) {
    return w.source.listeners.length;
  }
  /** @param {IWatch} w @param {string} type */
  emit(w, type) {
    w.source.emit(type);
  }
  watchClose(/** @type {IWatch} */ w) {
    w.ref.close();
  }
  watchRef(/** @type {IWatch} */ w, /** @type {boolean} */ ref) {
    if (ref) w.ref.ref();
    else w.ref.unref();
  }
  /** @param {number} who @param {number} target @param {boolean} promise */
  install(who, target, promise) {
    if (who > 0)
      this.helpers[who] ??= this.api.createLoop({ clock: "manual", profile: this.profile });
    const loop = who === 0 ? this.loop : this.helpers[who];
    const t = this.targets[target];
    const dispose = loop.installGlobals(t, { promise });
    // Right after installing, what is on the target is this installation's.
    for (const name of promise ? [...INSTALLED, "Promise"] : INSTALLED)
      this.installedBy.set(t[name], who);
    return dispose;
  }
  uninstall(/** @type {any} */ dispose) {
    dispose();
  }
  /**
   * Who owns setTimeout, setImmediate and Promise on each target (a loop's number, "o"
   * the original, "-" nothing); "MIXED" if names that should move together do not (a
   * disposed loop's function left behind, or an original not restored).
   */
  ownersLine() {
    const of = (/** @type {number} */ i) => {
      const t = this.targets[i];
      const owner = (/** @type {string} */ name) => {
        if (!Object.hasOwn(t, name)) return "-";
        const value = t[name];
        if (value === this.originals[i][name]) return "o";
        const who = this.installedBy.get(value);
        return who === undefined ? "?" : String(who);
      };
      for (const name of INSTALLED) {
        const representative = WITH_ORIGINAL.has(name) ? "setTimeout" : "setImmediate";
        if (owner(name) !== owner(representative)) return "MIXED";
      }
      return `${owner("setTimeout")}${owner("setImmediate")}${owner("Promise")}`;
    };
    return `g:${of(0)},${of(1)}`;
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
  close() {
    return this.loop.close();
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
  runToLast(/** @type {number|undefined} */ limit) {
    return this.loop.runToLast(limit === undefined ? undefined : { limit });
  }
  async afterOp() {
    const loop = this.loop;
    // The host checkpoint the op requested (if any) was queued first: it runs here.
    await Promise.resolve();
    if (this.shutdownPromise) {
      await this.shutdownPromise.catch(() => undefined);
    }
    /** @type {string | undefined} */
    let runOutcome;
    if (this.topRun !== undefined) {
      try {
        await this.topRun;
        runOutcome = "run:ok";
      } catch (error) {
        runOutcome = `run:${errorLabel(error)}`;
      }
      this.topRun = undefined;
    }
    // Closed (also by a callback of that run()): the host's queues, then run()'s outcome
    // (see ModelBackend.afterOp).
    if (loop.state === "closed") {
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    }
    if (runOutcome !== undefined) this.trace.push(runOutcome);
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
        this.trace.push(`${o.kind}:${errorLabel(error)}`);
      }
    }
    this.outcomes = [];
    const p = loop.pending;
    const code = loop.verifyCore();
    if (code !== 0) this.trace.push(`CORRUPT:${code}`);
    this.trace.push(
      `@ ${p.timers},${p.immediates},${p.tasks},${p.microtasks},${p.refs} ${loop.state} ` +
        `t:${loop.now()} nd:${loop.nextDeadline()} ${this.metricsLine()} x:${loop.exitCode}`,
    );
    // Counts and queue depths are kept with metrics on or off (loop.metrics()).
    const mt = loop.metrics();
    const q = mt.queue;
    this.trace.push(
      `metrics ${mt.timersFired},${mt.immediatesExecuted} queues ${q.timers.current},${q.immediates.current},${q.ingress.current}`,
    );
  }
  /** Closes the helper loops (the loop under test is closed by traceReal). */
  dispose() {
    for (const helper of this.helpers) helper?.close();
  }
}

// ---- running and comparing ------------------------------------------------------------------

/** The default run hooks: errors recorded, listeners that do not throw. */
/** @type {RunHooks} */
const PLAIN_HOOKS = { onError: "collect", secondary: "nullproto", listener: null };

/**
 * Runs `ops` on the model. @param {"html"|"node"} profile @param {Run} run
 */
export async function traceModel(profile, run) {
  const backend = new ModelBackend(profile, { ...run, hooks: run.hooks ?? PLAIN_HOOKS });
  const interp = new Interpreter(backend, profile);
  for (const op of run.ops) {
    interp.op(op);
    await backend.afterOp();
  }
  if (!backend.m.closed) {
    interp.op({ t: "close" });
    await backend.afterOp();
  }
  return backend.trace;
}

/** What the default printer writes before the error's text (report.ts). */
const PRINT_PREFIXES = /** @type {const} */ ([
  ["Uncaught (in a zigloop callback) ", "cb"],
  ["Uncaught (in a zigloop onError hook) ", "hook"],
]);

/**
 * Records the loop's default printer (console.error) into `trace` while `body` runs: a
 * stack prints as "<stack>", anything else as printed. Other console.error calls pass.
 * @template T @param {string[]} trace @param {() => Promise<T>} body @returns {Promise<T>}
 */
async function recordingPrinter(trace, body) {
  const original = console.error;
  console.error = (/** @type {unknown[]} */ ...args) => {
    const text = args[0];
    const prefix =
      typeof text === "string" ? PRINT_PREFIXES.find(([p]) => text.startsWith(p)) : undefined;
    if (prefix === undefined || typeof text !== "string") {
      original.apply(console, args);
      return;
    }
    const rest = text.slice(prefix[0].length);
    trace.push(`print:${prefix[1]}:${rest.includes("\n") ? "<stack>" : rest}`);
  };
  try {
    return await body();
  } finally {
    console.error = original;
  }
}

/**
 * Runs `ops` on a fresh zigloop loop (manual clock). @param {RealApi} api @param {"html"|"node"} profile
 * @param {Run} run
 */
export async function traceReal(api, profile, run) {
  const hooks = run.hooks ?? PLAIN_HOOKS;
  /** @type {RealBackend} */
  let backend;
  /** @param {unknown} error */
  const onError = (error) => {
    backend.trace.push(`err:${valueLabel(error)}`);
    if (hooks.onError === "throws") throw makeHostile(hooks.secondary, "secondary");
  };
  const loop = api.createLoop({
    clock: "manual",
    profile,
    startTime: run.startTime,
    ...(run.timersCap === undefined ? {} : { capacity: { timers: run.timersCap } }),
    metrics: run.metrics === true,
    ...(hooks.onError === "default" ? {} : { onError }),
    onWarning: (/** @type {Error} */ warning) => backend.trace.push(`warn:${warning.name}`),
  });
  backend = new RealBackend(loop, profile, api);
  loop.addEventListener("unhandledrejection", (/** @type {any} */ event) => {
    backend.trace.push(
      `unh:${backend.promiseLabels.get(event.promise) ?? "?"}:${valueLabel(event.reason)}`,
    );
    if (hooks.listener !== null) throw makeHostile(hooks.listener, `L:${hooks.listener}`);
  });
  loop.addEventListener("rejectionhandled", (/** @type {any} */ event) => {
    backend.trace.push(`rh:${backend.promiseLabels.get(event.promise) ?? "?"}`);
  });
  const interp = new Interpreter(backend, profile);
  try {
    await recordingPrinter(backend.trace, async () => {
      for (const op of run.ops) {
        interp.op(op);
        await backend.afterOp();
      }
      // Every run ends closed, so its close report is compared too.
      if (loop.state !== "closed") {
        interp.op({ t: "close" });
        await backend.afterOp();
      }
    });
  } finally {
    backend.dispose();
  }
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
 * Runs both and throws (with a readable excerpt) when the traces differ, or when a drive
 * did not end within its limit (RUNAWAY in either trace).
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
  if (actual.includes("RUNAWAY")) {
    throw new Error(
      `a drive did not end within its limit (${profile} profile): more than ${RUNAWAY_CALLBACKS} callbacks in one operation`,
    );
  }
  return expected.length;
}
