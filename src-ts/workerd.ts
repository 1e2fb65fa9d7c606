/**
 * zigloop for workerd (Cloudflare Workers) and other hosts that forbid compiling
 * WebAssembly from bytes at run time: the core is a static `.wasm` import, which
 * the host compiles at deploy time into a `WebAssembly.Module`.
 *
 * @module
 */

import coreModule from "../wasm/zigloop.wasm";
import { makeCreateEventLoop } from "./create.ts";
import type { EventLoop, EventLoopOptions } from "./event_loop.ts";

export * from "./api.ts";

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
export const createEventLoop: (options?: EventLoopOptions) => Promise<EventLoop> = makeCreateEventLoop(() =>
  Promise.resolve(coreModule)
);
