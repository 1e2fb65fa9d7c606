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

import vm from "node:vm";

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
  return { console, performance };
})`;

/** Installs the guest-realm `console` and `performance` on a vm context. */
export function installHostGlobals(
  context: vm.Context,
  write: (stream: 1 | 2, text: string) => void,
  now: () => number,
): void {
  const factory = vm.runInContext(SOURCE, context, { filename: "zigloop:host-globals" }) as (
    write: (stream: number, text: unknown) => void,
    now: () => number,
    timeOrigin: number,
  ) => Record<string, unknown>;
  const globals = factory(
    (stream, text) => write(stream === 2 ? 2 : 1, `${String(text)}\n`),
    () => now(),
    performance.timeOrigin,
  );
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(context, name, { value, writable: true, configurable: true });
  }
}
