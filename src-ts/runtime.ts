/**
 * What an entry point tells the loop about its runtime. Portable code probes no
 * runtime globals (`process`, `Deno`, `Bun`): each entry (node.ts, mod.ts,
 * workerd.ts) finds what its runtime offers and passes it in.
 *
 * @module
 */

/**
 * Another realm a loop can be installed into (Node and Bun: a `node:vm` context). The
 * loop evaluates its guest-side functions there, so nothing it installs is a host-realm
 * object, and drains the realm's microtask queue at every checkpoint.
 */
export interface RealmHooks {
  /** Whether `target` is such a realm's global (for vm: `vm.isContext`). */
  isContext(target: object): boolean;
  /** Evaluates `source` (a function expression) in that realm and returns its value. */
  evaluate(target: object, source: string, filename: string): unknown;
  /**
   * Runs the realm's pending microtasks, if it has its own queue (a vm context created
   * with `microtaskMode: "afterEvaluate"`); otherwise they run on the host's queue.
   */
  drain(target: object): void;
}

/** Runtime-specific channels and controls; every member is optional. */
export interface RuntimeHooks {
  /** Realms the loop can install itself into (node.ts: `node:vm` contexts). */
  realm?: RealmHooks;
  /** Emits a warning (Node and Bun: `process.emitWarning`). Default: `console.warn`. */
  emitWarning?: (warning: Error) => void;
  /**
   * Makes a host timer keep the process alive or not. Default: call the timer object's
   * own `ref()`/`unref()` when it has them (Node, Bun, workerd); Deno's numeric timer
   * ids need `Deno.refTimer`/`Deno.unrefTimer`.
   */
  setTimerRef?: (timer: unknown, ref: boolean) => void;
}
