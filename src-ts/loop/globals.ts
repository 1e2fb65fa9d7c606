/**
 * `installGlobals(target)`: puts a loop's timer functions (and `queueMicrotask`, and
 * optionally its `Promise`) onto a global object, and returns a disposer that takes
 * them off again.
 *
 * Several loops may install onto one target, and their disposers may run in any
 * order: each target keeps a stack of installations, and disposing one removes it from
 * the stack and puts back, name by name, the value of the topmost installation still
 * there, or the target's original property when none is left. Installing is all or
 * nothing: a property that cannot be replaced leaves the target as it was.
 *
 * @module
 */

import * as errors from "../errors.ts";
import { invalidArgType } from "../errors.ts";
import { disposeSymbol, Immediate, Timeout } from "../profile/handles.ts";

/** Names installed by every `installGlobals`. */
export const GLOBAL_NAMES = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
  "queueMicrotask",
] as const;

/** Options of `installGlobals`. */
export interface InstallGlobalsOptions {
  /** Also install the loop's `Promise` (default false). */
  promise?: boolean;
}

/** What `installGlobals` returns: call it (or `using` it) to restore the target. */
export interface GlobalsDisposer {
  (): void;
  [Symbol.dispose](): void;
}

interface Layer {
  readonly values: ReadonlyMap<string, unknown>;
}

interface TargetState {
  /** The property each name had before the first installation that is still in effect. */
  readonly originals: Map<string, PropertyDescriptor | undefined>;
  readonly layers: Layer[];
}

const targets = new WeakMap<object, TargetState>();

/**
 * Installs `values` onto `target`; returns the disposer.
 * @param target A global object (globalThis, a vm context's global, ...).
 * @param values Name → value, in install order.
 * @param onDispose Runs once, when the disposer is first called.
 * @throws {TypeError} when `target` is not an object, or a property cannot be replaced.
 */
export function installOnto(
  target: unknown,
  values: ReadonlyMap<string, unknown>,
  onDispose: () => void,
): GlobalsDisposer {
  if (target === null || (typeof target !== "object" && typeof target !== "function")) {
    throw invalidArgType("target", "an object (a global)", target);
  }
  const record = target as Record<string, unknown>;
  hardenIfLockedDown(values);
  let state = targets.get(record);
  const created = state === undefined;
  state ??= { originals: new Map(), layers: [] };
  try {
    for (const [name, value] of values) {
      if (!state.originals.has(name))
        state.originals.set(name, Object.getOwnPropertyDescriptor(record, name));
      define(record, name, value);
    }
  } catch (error) {
    // All or nothing: put back what the stack says each name should be.
    for (const name of values.keys()) restoreName(record, state, name);
    throw new TypeError(
      `installGlobals: cannot install onto the target: ${(error as Error)?.message ?? error}. Nothing was installed.`,
      { cause: error },
    );
  }
  const layer: Layer = { values };
  state.layers.push(layer);
  if (created) targets.set(record, state);
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    const layers = state!.layers;
    layers.splice(layers.indexOf(layer), 1);
    for (const name of values.keys()) restoreName(record, state!, name);
    if (layers.length === 0) targets.delete(record);
    onDispose();
  };
  const disposer = dispose as GlobalsDisposer;
  Object.defineProperty(disposer, disposeSymbol, { value: dispose });
  return disposer;
}

/** What guest code can reach from the host's installed functions besides them. */
function shared(): unknown[] {
  const classes = Object.values(errors).filter(
    (value) => typeof value === "function" && value.prototype instanceof Error,
  );
  return [Timeout, Immediate, ...classes];
}

/**
 * In a realm locked down by SES (`lockdown()`: a global `harden`, frozen intrinsics), the
 * functions of this realm that are installed (not a vm guest's: those are the guest's own)
 * and the classes whose instances they hand out (handles, errors) are hardened, so code in
 * one Compartment cannot change what the host or another one sees.
 */
function hardenIfLockedDown(values: ReadonlyMap<string, unknown>): void {
  const harden = (globalThis as { harden?: (value: unknown) => unknown }).harden;
  if (typeof harden !== "function" || !Object.isFrozen(Object.prototype)) return;
  for (const value of shared()) harden(value);
  for (const value of values.values()) {
    if (typeof value === "function" && Object.getPrototypeOf(value) === Function.prototype)
      harden(value);
  }
}

/** Sets `name` to the topmost remaining installation's value, or back to the original. */
function restoreName(record: Record<string, unknown>, state: TargetState, name: string): void {
  for (let i = state.layers.length - 1; i >= 0; i--) {
    const values = state.layers[i]!.values;
    if (values.has(name)) {
      define(record, name, values.get(name));
      return;
    }
  }
  if (!state.originals.has(name)) return;
  const original = state.originals.get(name);
  if (original) Object.defineProperty(record, name, original);
  else delete record[name];
  state.originals.delete(name);
}

function define(record: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(record, name, {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
