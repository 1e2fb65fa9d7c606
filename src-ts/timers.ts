/**
 * Timer policy: everything the `html` and `node` profiles decide differently,
 * and the Node profile's `Timeout` and `Immediate` handle objects. The loop
 * (event_loop.ts) applies these; the core only ever sees whole milliseconds.
 *
 * Sources:
 * - HTML Standard, "Timers", timer initialization steps (§8.6 in the current
 *   numbering): WebIDL `long` conversion of the timeout, negative to 0, the
 *   nesting-level clamp (level > 5 and timeout < 4 becomes 4).
 * - Node.js lib/internal/timers.js `Timeout` constructor and `insert`:
 *   `after *= 1`; anything outside [1, 2^31-1] becomes 1 with a warning;
 *   `MathTrunc(msecs)` when the timer is inserted.
 *
 * @module
 */

import { describeValue } from "./errors.ts";

export type Profile = "html" | "node";

/** Node's TIMEOUT_MAX and WebIDL long's maximum: 2^31 - 1. */
export const TIMEOUT_MAX = 2 ** 31 - 1;

/** The HTML nesting level above which short timeouts are clamped. */
export const NESTING_LIMIT = 5;
/** The clamped minimum timeout, in ms. */
export const NESTING_CLAMP_MS = 4;

/**
 * HTML: converts `timeout` as a WebIDL `long` (ToNumber, then ToInt32: NaN and
 * ±Infinity become 0, fractions truncate, values wrap modulo 2^32 into int32),
 * then clamps negatives to 0 (timer initialization steps, "If timeout is less than
 * 0, then set timeout to 0"). ToNumber may throw (a throwing `valueOf`, a Symbol,
 * a BigInt): that propagates, as it does from the WebIDL binding.
 */
export function htmlDelay(timeout: unknown): number {
  if (typeof timeout === "number") {
    const long = timeout | 0;
    return long < 0 ? 0 : long;
  }
  if (typeof timeout === "bigint") {
    throw new TypeError(`Cannot convert a BigInt value to a number (timeout ${timeout}n).`);
  }
  const long = (+(timeout as number)) | 0;
  return long < 0 ? 0 : long;
}

/** How the node profile reports a coerced delay (Node emits process warnings). */
export type DelayWarning = {
  name: "TimeoutOverflowWarning" | "TimeoutNegativeWarning" | "TimeoutNaNWarning";
  message: string;
};

/**
 * Node: `after *= 1`; if it is not in [1, 2^31-1] it becomes 1, and then it is
 * truncated (Node truncates in `insert`). Overflow warns every time; negative and
 * NaN warn once (the caller tracks that per loop), as Node's `Timeout` constructor
 * does per process with its `warnedNegativeNumber` / `warnedNotNumber` flags (see
 * test-timers-nan-duration-warning.js, one warning for three calls). An omitted
 * delay (`undefined`) is plain 1 ms with no warning (`if (after === undefined) after = 1`).
 */
export function nodeDelay(after: unknown): number {
  const ms = (after as number) * 1;
  if (!(ms >= 1 && ms <= TIMEOUT_MAX)) return 1;
  return Math.trunc(ms);
}

/** The warning Node would emit for `after`, or undefined. */
export function nodeDelayWarning(after: unknown): DelayWarning | undefined {
  if (after === undefined) return undefined;
  const ms = (after as number) * 1;
  if (ms >= 1 && ms <= TIMEOUT_MAX) return undefined;
  if (ms > TIMEOUT_MAX) {
    return {
      name: "TimeoutOverflowWarning",
      message: `${ms} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.`,
    };
  }
  if (ms < 0) {
    return { name: "TimeoutNegativeWarning", message: `${ms} is a negative number.\nTimeout duration was set to 1.` };
  }
  if (Number.isNaN(ms)) {
    return { name: "TimeoutNaNWarning", message: `${ms} is not a number.\nTimeout duration was set to 1.` };
  }
  return undefined;
}

/** Compiles a string handler into a function (HTML string handlers; opt-in). */
export type StringHandlerCompiler = (source: string) => (...args: unknown[]) => unknown;

/** The TypeError for a handler that is neither callable nor an allowed string. */
export function handlerTypeError(method: string, handler: unknown, stringsAllowed: boolean): TypeError {
  const hint = typeof handler === "string" && !stringsAllowed
    ? " String handlers compile code and are disabled; pass { stringHandler } to createEventLoop to allow them."
    : "";
  const error = new TypeError(
    `${method}: the "callback" argument must be a function. Received ${describeValue(handler)}.${hint}`,
  );
  Object.defineProperty(error, "code", { value: "ERR_INVALID_ARG_TYPE", enumerable: true });
  return error;
}

// ---- Node profile handle objects ------------------------------------------------

/** Internal slots of Timeout/Immediate objects (not part of the public API). */
export const kOwner: unique symbol = Symbol("zigloop.owner");
export const kId: unique symbol = Symbol("zigloop.id");
export const kPrimitive: unique symbol = Symbol("zigloop.primitive");
export const kRefed: unique symbol = Symbol("zigloop.refed");
export const kCallback: unique symbol = Symbol("zigloop.callback");
export const kArgs: unique symbol = Symbol("zigloop.args");
export const kDelay: unique symbol = Symbol("zigloop.delay");
export const kRepeat: unique symbol = Symbol("zigloop.repeat");

/** What a Timeout or Immediate asks of the loop that created it. */
export interface HandleOwner {
  _timeoutRefresh(timeout: Timeout): void;
  _timeoutSetRef(timeout: Timeout, ref: boolean): void;
  _timeoutClear(timeout: Timeout): void;
  _timeoutPrimitive(timeout: Timeout): number;
  _immediateSetRef(immediate: Immediate, ref: boolean): void;
  _immediateClear(immediate: Immediate): void;
}

const dispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

/**
 * The node profile's timer handle, like Node's `Timeout`: `ref`/`unref`/`hasRef`,
 * `refresh`, `close`, `[Symbol.toPrimitive]` (a stable numeric id that
 * `clearTimeout` also accepts once it has been taken), `[Symbol.dispose]`.
 */
export class Timeout {
  [kOwner]: HandleOwner;
  /** The core id while armed or due; 0 once it has fired for good or was cleared. */
  [kId]: number;
  [kPrimitive]: number;
  [kRefed]: boolean;
  /** null once cleared (Node sets `_onTimeout = null`): refresh is then a no-op. */
  [kCallback]: Function | null;
  [kArgs]: unknown[] | undefined;
  [kDelay]: number;
  [kRepeat]: boolean;

  /** @internal Created by the loop's setTimeout/setInterval. */
  constructor(owner: HandleOwner, id: number, callback: Function, args: unknown[] | undefined, delay: number, repeat: boolean) {
    this[kOwner] = owner;
    this[kId] = id;
    this[kPrimitive] = 0;
    this[kRefed] = true;
    this[kCallback] = callback;
    this[kArgs] = args;
    this[kDelay] = delay;
    this[kRepeat] = repeat;
  }

  /** Makes the timer keep the loop (and a Node process) alive again. */
  ref(): this {
    this[kOwner]._timeoutSetRef(this, true);
    return this;
  }

  /** Lets the loop finish (and a Node process exit) while this timer is pending. */
  unref(): this {
    this[kOwner]._timeoutSetRef(this, false);
    return this;
  }

  /** Whether the timer keeps the loop alive. */
  hasRef(): boolean {
    return this[kRefed];
  }

  /** Restarts the timer with its delay counted from now; revives a fired one-shot. */
  refresh(): this {
    this[kOwner]._timeoutRefresh(this);
    return this;
  }

  /** Cancels the timer (same as clearTimeout). */
  close(): this {
    this[kOwner]._timeoutClear(this);
    return this;
  }

  /** A numeric id for this timer; `clearTimeout(id)` works once it has been taken. */
  [Symbol.toPrimitive](): number {
    return this[kOwner]._timeoutPrimitive(this);
  }

  /** Cancels the timer (`using t = setTimeout(...)`). */
  [dispose](): void {
    this[kOwner]._timeoutClear(this);
  }

  get [Symbol.toStringTag](): string {
    return "Timeout";
  }
}

/** The node profile's immediate handle, like Node's `Immediate`. */
export class Immediate {
  [kOwner]: HandleOwner;
  /** The core id while queued; 0 once it ran or was cleared. */
  [kId]: number;
  [kRefed]: boolean;

  /** @internal Created by the loop's setImmediate. */
  constructor(owner: HandleOwner, id: number) {
    this[kOwner] = owner;
    this[kId] = id;
    this[kRefed] = true;
  }

  ref(): this {
    this[kOwner]._immediateSetRef(this, true);
    return this;
  }

  unref(): this {
    this[kOwner]._immediateSetRef(this, false);
    return this;
  }

  hasRef(): boolean {
    return this[kRefed];
  }

  [dispose](): void {
    this[kOwner]._immediateClear(this);
  }

  get [Symbol.toStringTag](): string {
    return "Immediate";
  }
}

export { dispose as disposeSymbol };
