/**
 * The `html` profile's timer policy (HTML Standard, "Timers", the timer
 * initialization steps; WebIDL `long`):
 * - the timeout is converted as a WebIDL `long` (ToNumber, then ToInt32: NaN and
 *   ±Infinity become 0, fractions truncate, values wrap modulo 2^32), then negatives
 *   become 0;
 * - a timer created by a timer task whose nesting level is above 5 gets at least 4 ms
 *   (intervals climb as they repeat); a timer created from a microtask does not
 *   inherit the level (WPT timers/timer-nesting-not-inherited-in-microtask);
 * - a string handler compiles code: refused unless the embedder passes a compiler.
 *
 * @module
 */

import { describeValue, invalidArgType } from "../errors.ts";

/** The HTML nesting level above which short timeouts are clamped. */
export const NESTING_LIMIT = 5;
/** The clamped minimum timeout, in ms. */
export const NESTING_CLAMP_MS = 4;

/** Compiles a string handler into a function (HTML string handlers; opt-in). */
export type StringHandlerCompiler = (source: string) => (...args: unknown[]) => unknown;

/**
 * The timeout as a WebIDL `long`, negatives to 0. ToNumber may throw (a throwing
 * `valueOf`, a Symbol, a BigInt): that propagates, as it does from the WebIDL binding.
 */
export function htmlDelay(timeout: unknown): number {
  if (typeof timeout === "bigint") {
    throw new TypeError(`Cannot convert a BigInt value to a number (timeout ${timeout}n).`);
  }
  const long = +(timeout as number) | 0;
  return Math.max(long, 0);
}

/** clearTimeout/clearInterval: the id as a WebIDL long (ToNumber, then ToInt32). */
export function htmlTimerId(id: unknown): number {
  if (typeof id === "bigint")
    throw new TypeError(`Cannot convert a BigInt value to a number (id ${id}n).`);
  return +(id as number) | 0;
}

/**
 * A handler that is not callable: compiled when the embedder allows string handlers
 * (TimerHandler is `(Function or DOMString)`: anything else is converted with ToString,
 * which may throw), else the TypeError every profile gives.
 */
export function compileHandler(
  method: string,
  handler: unknown,
  compiler: StringHandlerCompiler | undefined,
  html: boolean,
): Function {
  if (compiler === undefined) throw handlerTypeError(method, handler, html);
  // A template literal is ToString exactly (hint "string"; a Symbol throws TypeError).
  const compiled = compiler(`${handler as string}`);
  if (typeof compiled !== "function") {
    throw new TypeError(
      `${method}: stringHandler returned ${describeValue(compiled)} instead of a function.`,
    );
  }
  return compiled;
}

/**
 * The TypeError for a handler that is neither callable nor an allowed string (both
 * profiles). In html, a string could be allowed: the message says how; Node never
 * allows one, and says only what Node says.
 */
export function handlerTypeError(method: string, handler: unknown, html: boolean): TypeError {
  const error = invalidArgType("callback", "a function", handler, method);
  if (typeof handler === "string" && html) {
    error.message +=
      " String handlers compile code and are disabled; pass { stringHandler } to createEventLoop to allow them.";
  }
  return error;
}
