/**
 * zigloop for workerd (Cloudflare Workers) and other hosts that forbid compiling
 * WebAssembly from bytes at run time: the core is a static `.wasm` import, which
 * the host compiles at deploy time into a `WebAssembly.Module`.
 *
 * @module
 */

import coreModule from "../wasm/zigloop.wasm";
import { type LoopFactories, makeFactories } from "./create.ts";

export * from "./api.ts";

// workerd's host timers are Timeout objects with ref()/unref() (the default control).
const factories = makeFactories(() => Promise.resolve(coreModule), {});

/**
 * Creates a loop with its own core instance.
 *
 * @param options Profile, clock, capacities, metrics and error hooks.
 * @returns A new, idle loop.
 * @example
 * ```ts
 * import { createEventLoop } from "zigloop";
 * export default { async fetch() { const loop = await createEventLoop(); ... } };
 * ```
 */
export const createEventLoop: LoopFactories["createEventLoop"] = factories.createEventLoop;

/**
 * Creates a loop synchronously from the statically imported core (or another module).
 *
 * @param options The loop options and `module`.
 * @returns A new, idle loop with its own core instance.
 * @example
 * ```ts
 * import coreModule from "zigloop/wasm";
 * const loop = createEventLoopSync({ module: coreModule });
 * ```
 */
export const createEventLoopSync: LoopFactories["createEventLoopSync"] =
  factories.createEventLoopSync;
