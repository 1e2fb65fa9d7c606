/**
 * Creating loops. Every loop instantiates its own copy of the core, so loops never
 * share state; the compiled `WebAssembly.Module` is cached per entry point (compiling
 * is pure, instantiating is per loop). Nothing happens at import time.
 *
 * Each entry point (node.ts, mod.ts, workerd.ts) builds its `createEventLoop` and
 * `createEventLoopSync` here from its way of obtaining the module and what it knows
 * about its runtime ({@linkcode RuntimeHooks}).
 *
 * @module
 */

import { instantiate, instantiateSync } from "./core/instance.ts";
import { EventLoop } from "./event_loop.ts";
import type { EventLoopOptions } from "./loop/config.ts";
import type { RuntimeHooks } from "./runtime.ts";

/** Options of {@linkcode createEventLoopSync}: the loop options plus a compiled core. */
export interface SyncEventLoopOptions extends EventLoopOptions {
  /** `zigloop.wasm` compiled by the embedder (e.g. from the `zigloop/wasm` export). */
  module: WebAssembly.Module;
}

/** An entry point's two ways of creating a loop. */
export interface LoopFactories {
  createEventLoop(options?: EventLoopOptions): Promise<EventLoop>;
  createEventLoopSync(options: SyncEventLoopOptions): EventLoop;
}

/** Builds an entry point's factories around its way of obtaining the module. */
export function makeFactories(loadModule: () => Promise<WebAssembly.Module>, runtime: RuntimeHooks): LoopFactories {
  let cached: Promise<WebAssembly.Module> | undefined;
  return {
    async createEventLoop(options?: EventLoopOptions): Promise<EventLoop> {
      if (cached === undefined) {
        cached = loadModule();
        cached.catch(() => {
          cached = undefined; // a failed load may be retried
        });
      }
      const core = await instantiate(await cached);
      return new EventLoop(core, options, runtime);
    },
    createEventLoopSync(options: SyncEventLoopOptions): EventLoop {
      if (options === null || typeof options !== "object") {
        throw new TypeError("createEventLoopSync(options) needs { module: WebAssembly.Module }.");
      }
      return new EventLoop(instantiateSync(options.module), options, runtime, ["module"]);
    },
  };
}
