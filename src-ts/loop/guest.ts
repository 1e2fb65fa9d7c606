/**
 * Guests: a loop installed into another realm (a `node:vm` context).
 *
 * Nothing zigloop hands to guest code may come from the host's realm: a host function's
 * `.constructor` is the host's `Function`, and `setTimeout.constructor("return process")()`
 * would give the guest the host's `process`. So `installGlobals(context)` does not install
 * host functions. It evaluates a small trampoline *inside the guest realm*; the trampoline
 * defines every installed function, the node profile's `Timeout`/`Immediate` classes and
 * the loop's error classes there, from the realm's own intrinsics captured before any guest
 * code runs, and keeps one host function in its closure (`host`), which guest code cannot
 * reach. The host side answers through that function with primitives and guest-realm
 * objects only: results are written into a guest-realm "box", and an error the loop throws
 * is copied into a guest-realm error of the same class, name, code and message. A value the
 * guest itself threw (from a `valueOf`, say) is rethrown as it is.
 *
 * One job queue for guests: the guest's `queueMicrotask` queues a reaction on the realm's
 * own promise job queue, FIFO with its `await`s and `.then`s, so a guest mixing them sees
 * the order of a real runtime. The loop drains that queue at every microtask checkpoint
 * (with the realm's `drain`, e.g. a vm context created with
 * `microtaskMode: "afterEvaluate"`), so every guest job still runs after the task that
 * queued it and before the next one.
 *
 * @module
 */

import { Kind } from "../core/handle_mirror.ts";
import { type Immediate, setFacade, type Timeout } from "../profile/handles.ts";
import type { RealmHooks } from "../runtime.ts";
import type { Engine } from "./engine.ts";
import { rememberErrorText } from "./report.ts";

/** Operations the trampoline asks of the host (numbers: one switch, no string compares). */
const Op = {
  setTimeout: 0,
  setInterval: 1,
  clearTimer: 2,
  setImmediate: 3,
  clearImmediate: 4,
  queueMicrotaskCheck: 5,
  report: 6,
  ref: 7,
  unref: 8,
  hasRef: 9,
  refresh: 10,
  close: 11,
  primitive: 12,
  closeImmediate: 13,
  thrown: 14,
} as const;

/** What the trampoline returns to the host (all guest-realm values). */
interface GuestSide {
  /** The installed functions, by global name. */
  functions: Record<string, Function>;
  /** The guest's own global object (the `this` of html-profile callbacks). */
  global: object;
  /**
   * Makes a guest Timeout / Immediate facade for a host handle, kept in the facade's
   * private field: only the trampoline's own code can read it (no reflection reaches a
   * private field), and guest code cannot construct a facade (its constructor needs a
   * token the trampoline keeps).
   */
  newTimeout(handle: Timeout): object;
  newImmediate(handle: Immediate): object;
  /** The host handle behind a facade of this trampoline, or undefined for anything else (runs no guest code). */
  handleOf(value: unknown): Timeout | Immediate | undefined;
  /** Guest microtasks run since the last call (for the loop's metrics). */
  takeMicrotaskCount(): number;
}

/** The box the trampoline reads a call's outcome from (a guest-realm object). */
interface Box {
  /** 0: value; 1: a loop error described by the fields below; 2: rethrow `thrown` as is. */
  kind: number;
  value: unknown;
  thrown: unknown;
  name: string;
  message: string;
  code: string | undefined;
  capacity: string | undefined;
  limit: number | undefined;
}

export class GuestBinding {
  readonly #engine: Engine;
  readonly #side: GuestSide;
  readonly global: object;

  constructor(engine: Engine, realm: RealmHooks, target: object) {
    this.#engine = engine;
    const source = trampolineSource();
    const factory = realm.evaluate(target, source, "zigloop:guest") as (
      host: Function,
    ) => GuestSide;
    this.#side = factory(this.#host);
    this.global = this.#side.global;
  }

  /** The guest-realm functions to install, by name. */
  get functions(): Record<string, Function> {
    return this.#side.functions;
  }

  /** Guest microtasks run since the last call. */
  takeMicrotaskCount(): number {
    return this.#side.takeMicrotaskCount();
  }

  /**
   * `queueMicrotask` calls since the last checkpoint. The guest's microtasks live on its
   * realm's job queue, not the loop's, so `capacity.microtasks` bounds them here: a guest
   * that keeps queueing within one checkpoint gets a CapacityError instead of a host that
   * never gets control back. (A flood of promise jobs never passes through the loop.)
   */
  #queuedMicrotasks = 0;

  /** The loop drained the realm's queue: a new checkpoint's budget. */
  checkpointDone(): void {
    this.#queuedMicrotasks = 0;
  }

  /** The guest facade for a host handle the engine just created (node profile). */
  facade(handle: Timeout | Immediate, kind: "timeout" | "immediate"): object {
    const facade =
      kind === "timeout"
        ? this.#side.newTimeout(handle as Timeout)
        : this.#side.newImmediate(handle as Immediate);
    setFacade(handle, facade);
    return facade;
  }

  /** The one host function the guest realm can call (it never returns a host object). */
  readonly #host = (
    op: number,
    box: Box,
    a: unknown,
    b: unknown,
    c: unknown[] | undefined,
  ): void => {
    box.kind = 0;
    try {
      box.value = this.#dispatch(op, a, b, c);
    } catch (error) {
      this.#fail(box, error);
    }
  };

  #dispatch(op: number, a: unknown, b: unknown, c: unknown[] | undefined): unknown {
    const engine = this.#engine;
    const args = c === undefined || c.length === 0 ? undefined : c;
    switch (op) {
      case Op.setTimeout:
        return engine.addTimer(Kind.timeout, a, b, args, this);
      case Op.setInterval:
        return engine.addTimer(Kind.interval, a, b, args, this);
      case Op.clearTimer:
        engine.clearTimer(this.#unwrap(a));
        return undefined;
      case Op.setImmediate:
        return engine.addImmediate(a, args, this);
      case Op.clearImmediate:
        engine.clearImmediate(this.#unwrap(a));
        return undefined;
      case Op.queueMicrotaskCheck: {
        engine.checkMicrotask(a);
        const limit = engine.config.microtasksMax;
        if (++this.#queuedMicrotasks > limit) {
          this.#queuedMicrotasks--;
          throw engine.core.capacityError("microtasks", limit, "queue a microtask");
        }
        return undefined;
      }
      case Op.report:
        engine.report(a);
        return undefined;
      case Op.thrown:
        rememberErrorText(a as object, String(b));
        return undefined;
      default:
        return this.#handleOp(op, a);
    }
  }

  /** The node profile's Timeout/Immediate methods, on the host handle behind a facade. */
  #handleOp(op: number, facade: unknown): unknown {
    const handle = this.#side.handleOf(facade);
    if (handle === undefined) {
      throw new TypeError("Illegal invocation: not a Timeout or Immediate of this loop.");
    }
    const engine = this.#engine;
    switch (op) {
      case Op.ref:
      case Op.unref:
        engine.handleSetRef(handle, op === Op.ref);
        return undefined;
      case Op.hasRef:
        return handle.hasRef();
      case Op.refresh:
        engine.timeoutRefresh(handle as Timeout);
        return undefined;
      case Op.close:
        engine.timeoutClear(handle as Timeout);
        return undefined;
      case Op.primitive:
        return engine.timeoutPrimitive(handle as Timeout);
      case Op.closeImmediate:
        engine.immediateClear(handle as Immediate);
        return undefined;
      default:
        throw new TypeError(`zigloop guest: unknown operation ${op}.`);
    }
  }

  /** A facade passed back by the guest stands for its host handle; anything else as is. */
  #unwrap(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    return this.#side.handleOf(value) ?? value;
  }

  /** Describes `error` for the trampoline: a host error by its fields, a guest value as is. */
  #fail(box: Box, error: unknown): void {
    if (!(error instanceof Error)) {
      box.kind = 2; // thrown by guest code (or a primitive): not a host object
      box.thrown = error;
      return;
    }
    box.kind = 1;
    box.name = error.name;
    box.message = error.message;
    const extra = error as { code?: unknown; capacity?: unknown; limit?: unknown };
    box.code = typeof extra.code === "string" ? extra.code : undefined;
    box.capacity = typeof extra.capacity === "string" ? extra.capacity : undefined;
    box.limit = typeof extra.limit === "number" ? extra.limit : undefined;
  }
}

/**
 * The trampoline, evaluated in the guest realm: a function expression taking the host
 * function and returning the guest side. Everything it uses is captured first, so guest
 * code that later replaces `Promise.prototype.then` or `Object.defineProperty` changes
 * nothing here.
 */
function trampolineSource(): string {
  return `(function zigloopGuest(host) {
  "use strict";
  const G = globalThis;
  const O = G.Object, P = G.Promise, S = G.Symbol, R = G.Reflect;
  const defineProperty = O.defineProperty, freeze = O.freeze, create = O.create;
  const apply = R.apply, getProto = R.getPrototypeOf, getOwn = R.getOwnPropertyDescriptor;
  const isArray = G.Array.isArray, GString = G.String, OP = O.prototype;
  const objectToString = OP.toString, dateToPrimitive = G.Date.prototype[S.toPrimitive];
  const toPrimitiveKey = S.toPrimitive;
  const then = P.prototype.then, resolved = P.resolve();
  // then() looks up resolved.constructor[Symbol.species]: an own undefined means %Promise%.
  defineProperty(resolved, "constructor", { value: undefined });
  const GError = G.Error, GTypeError = G.TypeError, GRangeError = G.RangeError;
  const box = { kind: 0, value: undefined, thrown: undefined, name: "", message: "", code: undefined,
    capacity: undefined, limit: undefined };
  const classes = {};
  function named(base, name) {
    const C = class extends base {};
    defineProperty(C, "name", { value: name });
    defineProperty(C.prototype, "name", { value: name, writable: true, configurable: true });
    classes[name] = C;
    return C;
  }
  const LoopStateError = named(GError, "LoopStateError");
  for (const name of ["LoopClosedError", "LoopShuttingDownError", "ReentrancyError", "CoreTrapError",
    "TerminationError", "DriveInProgressError"]) named(LoopStateError, name);
  named(GRangeError, "CapacityError");
  named(GRangeError, "LoopLimitError");
  named(GTypeError, "ClockModeError");
  classes.TypeError = GTypeError;
  classes.RangeError = GRangeError;
  classes.Error = GError;
  function loopError() {
    const C = classes[box.name] || GError;
    const error = new C(box.message);
    if (!classes[box.name] && box.name !== "Error") defineProperty(error, "name", { value: box.name, writable: true, configurable: true });
    if (box.code !== undefined) defineProperty(error, "code", { value: box.code, enumerable: true, writable: true, configurable: true });
    if (box.capacity !== undefined) error.capacity = box.capacity;
    if (box.limit !== undefined) error.limit = box.limit;
    return error;
  }
  // What guest code threw while the host coerced a stand-in: the host only sees MARK.
  const MARK = "zigloop: a guest value was thrown";
  let pending, hasPending = false;
  function call(op, a, b, c) {
    host(op, box, a, b, c);
    if (box.kind === 0) { const value = box.value; box.value = undefined; return value; }
    if (box.kind === 2) {
      let thrown = box.thrown; box.thrown = undefined;
      if (thrown === MARK && hasPending) { thrown = pending; pending = undefined; hasPending = false; }
      throw thrown;
    }
    throw loopError();
  }
  // ECMA-262 ToPrimitive, evaluated here, so whatever it runs (valueOf, a Proxy's traps)
  // is called from this realm and never sees an object of the host's.
  function toPrimitive(value, hint) {
    try {
      const exotic = value[toPrimitiveKey];
      if (exotic === undefined || exotic === null)
        return apply(dateToPrimitive, value, [hint === "string" ? "string" : "number"]);
      const result = apply(exotic, value, [hint]);
      if (result === null || (typeof result !== "object" && typeof result !== "function")) return result;
      throw new GTypeError("Cannot convert object to primitive value");
    } catch (error) {
      pending = error; hasPending = true;
      throw MARK;
    }
  }
  // What the host gets for a guest object it may coerce or describe in an error message:
  // a plain object of this realm that describes the same way (array, null prototype, or
  // its constructor's name) and converts through toPrimitive above.
  function standIn(value) {
    let stand;
    try {
      if (isArray(value)) stand = [];
      else {
        const proto = getProto(value);
        if (proto === null) stand = create(null);
        else {
          const c = getOwn(proto, "constructor");
          const ctor = c === undefined ? undefined : c.value;
          const n = typeof ctor === "function" ? getOwn(ctor, "name") : undefined;
          const C = function () {};
          defineProperty(C, "name", { value: n !== undefined && typeof n.value === "string" ? n.value : "" });
          stand = create(create(OP, { constructor: { value: C } }));
        }
      }
    } catch {
      stand = create(create(OP));
    }
    defineProperty(stand, toPrimitiveKey, { value: function (hint) { return toPrimitive(value, hint); } });
    return stand;
  }
  // A facade (below) crosses as itself; the host asks handleOf for the host handle in its
  // private field. The brand is that field, which a Proxy never has; checking it runs no code.
  let isTimeout, isImmediate, timeoutHandle, immediateHandle;
  // Only the trampoline constructs facades: \`new (setTimeout(f).constructor)(x)\` must not
  // make a facade whose field holds a guest value the host would then treat as its own.
  const token = {};
  function safe(value) {
    return value !== null && typeof value === "object" && !isTimeout(value) && !isImmediate(value)
      ? standIn(value) : value;
  }
  // A guest error's text, read here (the host never reads a guest value's properties).
  function errorText(error) {
    try {
      if (error !== null && (typeof error === "object" || typeof error === "function")) {
        const stack = error.stack;
        if (typeof stack === "string" && stack !== "") return stack;
        if (error instanceof GError) return GString(error.name) + ": " + GString(error.message);
      }
    } catch {}
    try { return GString(error); } catch {}
    try { return apply(objectToString, error, []); } catch { return "<an error that cannot be printed>"; }
  }
  function thrown(error) {
    if (error !== null && (typeof error === "object" || typeof error === "function")) call(${Op.thrown}, error, errorText(error));
  }
  // The host calls this, never the guest's handler: a Proxy's apply trap would otherwise
  // receive an arguments array made by the host's realm.
  function guard(handler, args) {
    return function () {
      try { return apply(handler, this, args); } catch (error) { thrown(error); throw error; }
    };
  }
  function timer(op, handler, timeout, args) {
    return call(op, typeof handler === "function" ? guard(handler, args) : safe(handler),
      typeof timeout === "object" || typeof timeout === "function" ? (timeout === null ? null : standIn(timeout)) : timeout);
  }
  let microtasks = 0;
  function queueMicrotask(callback) {
    call(${Op.queueMicrotaskCheck}, typeof callback === "function" ? callback : safe(callback));
    apply(then, resolved, [function () {
      microtasks++;
      try { callback(); } catch (error) { thrown(error); call(${Op.report}, error); }
    }]);
  }
  const functions = {
    setTimeout: function setTimeout(handler, timeout, ...args) { return timer(${Op.setTimeout}, handler, timeout, args); },
    clearTimeout: function clearTimeout(id) { call(${Op.clearTimer}, safe(id)); },
    setInterval: function setInterval(handler, timeout, ...args) { return timer(${Op.setInterval}, handler, timeout, args); },
    clearInterval: function clearInterval(id) { call(${Op.clearTimer}, safe(id)); },
    setImmediate: function setImmediate(callback, ...args) {
      return call(${Op.setImmediate}, typeof callback === "function" ? guard(callback, args) : safe(callback));
    },
    clearImmediate: function clearImmediate(id) { call(${Op.clearImmediate}, safe(id)); },
    queueMicrotask: queueMicrotask,
  };
  const dispose = S.dispose || S.for("Symbol.dispose");
  class Timeout {
    #handle;
    constructor(key, handle) {
      if (key !== token) throw new GTypeError("Illegal constructor");
      this.#handle = handle;
    }
    static {
      isTimeout = (value) => #handle in value;
      timeoutHandle = (value) => #handle in value ? value.#handle : undefined;
    }
    ref() { call(${Op.ref}, this); return this; }
    unref() { call(${Op.unref}, this); return this; }
    hasRef() { return call(${Op.hasRef}, this); }
    refresh() { call(${Op.refresh}, this); return this; }
    close() { call(${Op.close}, this); return this; }
    [S.toPrimitive]() { return call(${Op.primitive}, this); }
    [dispose]() { call(${Op.close}, this); }
    get [S.toStringTag]() { return "Timeout"; }
  }
  class Immediate {
    #handle;
    constructor(key, handle) {
      if (key !== token) throw new GTypeError("Illegal constructor");
      this.#handle = handle;
    }
    static {
      isImmediate = (value) => #handle in value;
      immediateHandle = (value) => #handle in value ? value.#handle : undefined;
    }
    ref() { call(${Op.ref}, this); return this; }
    unref() { call(${Op.unref}, this); return this; }
    hasRef() { return call(${Op.hasRef}, this); }
    [dispose]() { call(${Op.closeImmediate}, this); }
    get [S.toStringTag]() { return "Immediate"; }
  }
  freeze(Timeout.prototype); freeze(Immediate.prototype);
  return {
    functions,
    global: G,
    newTimeout(handle) { return new Timeout(token, handle); },
    newImmediate(handle) { return new Immediate(token, handle); },
    handleOf(value) {
      if (value === null || typeof value !== "object") return undefined;
      const handle = timeoutHandle(value);
      return handle !== undefined ? handle : immediateHandle(value);
    },
    takeMicrotaskCount() { const n = microtasks; microtasks = 0; return n; },
  };
})`;
}
