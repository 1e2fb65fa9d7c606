/// <reference types="node" />
/**
 * What the CLI gives a guest besides the loop's functions: `console` and `performance`,
 * made in the guest's realm. The host only ever receives strings and numbers from them:
 * the guest formats what it logs itself (a host formatter such as `util.inspect` would
 * hand the guest's custom-inspect hooks host objects), and `performance.now()` returns
 * a number the host computes. The host functions they call live in a closure the guest
 * cannot reach.
 *
 * @module
 */

import { types } from "node:util";
import vm from "node:vm";
import { errorText, rememberedErrorText } from "../loop/report.ts";

/** The guest-side console formatter: strings as they are, other values described. */
const SOURCE = `(function zigloopHostGlobals(write, now, timeOrigin) {
  "use strict";
  const G = globalThis;
  const S = G.String, O = G.Object, A = G.Array, J = G.JSON;
  const toString = O.prototype.toString;
  const isArray = A.isArray;
  function describe(value, depth) {
    switch (typeof value) {
      case "string": return depth === 0 ? value : J.stringify(value);
      case "bigint": return S(value) + "n";
      case "symbol": return value.toString();
      case "function": return "[Function: " + (value.name || "(anonymous)") + "]";
      case "object": break;
      default: return S(value);
    }
    if (value === null) return "null";
    try {
      if (value instanceof G.Error) return value.stack || S(value);
      if (depth > 2) return isArray(value) ? "[Array]" : "[Object]";
      if (isArray(value)) return "[ " + value.map((v) => describe(v, depth + 1)).join(", ") + " ]";
      const keys = O.keys(value);
      if (keys.length === 0) return toString.call(value) === "[object Object]" ? "{}" : toString.call(value);
      return "{ " + keys.map((k) => k + ": " + describe(value[k], depth + 1)).join(", ") + " }";
    } catch (error) {
      return toString.call(value);
    }
  }
  function format(args) {
    let out = "";
    for (let i = 0; i < args.length; i++) out += (i > 0 ? " " : "") + describe(args[i], 0);
    return out;
  }
  const console = {
    log(...args) { write(1, format(args)); },
    info(...args) { write(1, format(args)); },
    debug(...args) { write(1, format(args)); },
    warn(...args) { write(2, format(args)); },
    error(...args) { write(2, format(args)); },
  };
  const performance = { now() { return now(); }, timeOrigin };
  // The text of a value the guest left uncaught, read by this realm's code.
  function errorText(error) {
    try {
      if (error !== null && (typeof error === "object" || typeof error === "function")) {
        const stack = error.stack;
        if (typeof stack === "string" && stack !== "") return stack;
        if (error instanceof G.Error) return S(error.name) + ": " + S(error.message);
      }
    } catch {}
    try { return S(error); } catch {}
    try { return toString.call(error); } catch { return "<an error that cannot be printed>"; }
  }
  // html string handlers: global code of this realm, compiled by its own (indirect) eval
  // when the timer fires, so even a SyntaxError is made, with its stack, by this realm.
  const indirectEval = G.eval;
  function compile(code, sourceURL) {
    const source = code + "\\n//# sourceURL=" + sourceURL;
    return function () { return indirectEval(source); };
  }
  return { globals: { console, performance }, errorText, compile };
})`;

/** What the CLI needs of the guest's realm besides its globals. */
export interface GuestHost {
  /** The text of a value: the host's own errors as report.ts prints them, anything of the guest's as its realm reads it. */
  textOf(error: unknown): string;
  /** An html string handler as a guest-realm function (`stringHandler`). */
  compile(code: string): () => unknown;
}

/** Installs the guest-realm `console` and `performance` on a vm context. */
export function installHostGlobals(
  context: vm.Context,
  write: (stream: 1 | 2, text: string) => void,
  now: () => number,
  filename: string,
): GuestHost {
  const factory = vm.runInContext(SOURCE, context, { filename: "zigloop:host-globals" }) as (
    write: (stream: number, text: unknown) => void,
    now: () => number,
    timeOrigin: number,
  ) => {
    globals: Record<string, unknown>;
    errorText: (error: unknown) => string;
    compile: (code: string, sourceURL: string) => () => unknown;
  };
  const {
    globals,
    errorText: guestText,
    compile,
  } = factory(
    (stream, text) => write(stream === 2 ? 2 : 1, `${String(text)}\n`),
    () => now(),
    performance.timeOrigin,
  );
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(context, name, { value, writable: true, configurable: true });
  }
  return {
    textOf: (error) =>
      ofHost(error) ? errorText(error) : (rememberedErrorText(error) ?? String(guestText(error))),
    compile: (code) => compile(code, `${filename} (string handler)`),
  };
}

/**
 * Whether `value` is a primitive or an object of the host's realm, found without running
 * any of its code: a Proxy is never the host's, and the prototypes of anything else are
 * read without traps. A guest's value must not be read from here: its getters and a
 * Proxy's traps would run with this realm's objects (a Proxy's `apply` trap gets an array
 * of the realm that calls it), and one of those is all a guest needs to reach `process`.
 */
function ofHost(value: unknown): boolean {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return true;
  let current: object | null = value as object;
  for (let depth = 0; depth < 1000 && current !== null; depth++) {
    if (types.isProxy(current)) return false;
    if (current === Object.prototype) return true;
    current = Object.getPrototypeOf(current) as object | null;
  }
  return false;
}
