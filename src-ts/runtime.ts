/**
 * What an entry point tells the loop about its runtime. Portable code probes no
 * runtime globals (`process`, `Deno`, `Bun`): each entry (node.ts, mod.ts,
 * workerd.ts) finds what its runtime offers and passes it in.
 *
 * @module
 */

/** Runtime-specific channels and controls; every member is optional. */
export interface RuntimeHooks {
  /** Emits a warning (Node and Bun: `process.emitWarning`). Default: `console.warn`. */
  emitWarning?: (warning: Error) => void;
  /**
   * Makes a host timer keep the process alive or not. Default: call the timer object's
   * own `ref()`/`unref()` when it has them (Node, Bun, workerd); Deno's numeric timer
   * ids need `Deno.refTimer`/`Deno.unrefTimer`.
   */
  setTimerRef?: (timer: unknown, ref: boolean) => void;
}
