/**
 * Creating loops. Every loop instantiates its own copy of the core, so loops never
 * share state; the compiled `WebAssembly.Module` is cached per entry point (compiling
 * is pure, instantiating is per loop). Nothing happens at import time.
 *
 * @module
 */

import { instantiate, instantiateSync } from "./core/instance.ts";
import { EventLoop, type EventLoopOptions } from "./event_loop.ts";

/** Options of {@linkcode createEventLoopSync}: the loop options plus a compiled core. */
export interface SyncEventLoopOptions extends EventLoopOptions {
  /** `zigloop.wasm` compiled by the embedder (e.g. from the `zigloop/wasm` export). */
  module: WebAssembly.Module;
}

/**
 * Creates a loop synchronously from a `WebAssembly.Module` the embedder compiled
 * (for hosts that cannot await, or that cache the module themselves).
 *
 * @param options The loop options and `module`.
 * @returns A new, idle loop with its own core instance.
 * @throws {TypeError} when `module` is not a compiled zigloop core.
 * @example
 * ```ts
 * import { createEventLoopSync } from "zigloop";
 * const module = new WebAssembly.Module(bytes);
 * const loop = createEventLoopSync({ module, clock: "manual" });
 * ```
 */
export function createEventLoopSync(options: SyncEventLoopOptions): EventLoop {
  if (options === null || typeof options !== "object") {
    throw new TypeError("createEventLoopSync(options) needs { module: WebAssembly.Module }.");
  }
  return new EventLoop(instantiateSync(options.module), options);
}

/** Builds an entry point's `createEventLoop` around its way of obtaining the module. */
export function makeCreateEventLoop(
  loadModule: () => Promise<WebAssembly.Module>,
): (options?: EventLoopOptions) => Promise<EventLoop> {
  let cached: Promise<WebAssembly.Module> | undefined;
  return async function createEventLoop(options?: EventLoopOptions): Promise<EventLoop> {
    if (cached === undefined) {
      cached = loadModule();
      cached.catch(() => {
        cached = undefined; // a failed load may be retried
      });
    }
    const core = await instantiate(await cached);
    return new EventLoop(core, options);
  };
}
