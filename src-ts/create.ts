/**
 * Creating loops. Every open loop has its own copy of the core, so loops never share
 * state: a new instance, or a closed loop's, made like new (core/instance_pool.ts). The
 * compiled `WebAssembly.Module` is cached per entry point (compiling is pure,
 * instantiating is per loop). Nothing happens at import time.
 *
 * Each entry point (node.ts, mod.ts, workerd.ts) builds its `createEventLoop` and
 * `createEventLoopSync` here from its way of obtaining the module and what it knows
 * about its runtime ({@linkcode RuntimeHooks}).
 *
 * @module
 */

import { instantiate, instantiateSync } from "./core/instance.ts";
import { EventLoop, type EventLoopFor } from "./event_loop.ts";
import type { EventLoopOptions } from "./loop/config.ts";
import type { RuntimeHooks } from "./runtime.ts";
import type { CompiledCore } from "./web.ts";

/** Options of {@linkcode createEventLoopSync}: the loop options plus a compiled core. */
export interface SyncEventLoopOptions extends EventLoopOptions {
  /** `zigloop.wasm` compiled by the embedder (e.g. from the `zigloop/wasm` export). */
  module: CompiledCore;
}

/**
 * An entry point's two ways of creating a loop. The loop's type follows the options:
 * `createEventLoop({ profile: "node", clock: "manual" })` is an
 * `EventLoop<"node", "manual">`, whose `setTimeout` returns a `Timeout` and which has
 * `advance`; a real-clock loop's manual-clock methods take `never`.
 */
export interface LoopFactories {
  createEventLoop<const O extends EventLoopOptions = {}>(
    options?: KnownOptions<O, EventLoopOptions>,
  ): Promise<EventLoopFor<O>>;
  createEventLoopSync<const O extends SyncEventLoopOptions>(
    options: KnownOptions<O, SyncEventLoopOptions>,
  ): EventLoopFor<O>;
}

/**
 * `O`, with every option name that `T` does not know typed `never`: a misspelt option
 * (`{ clok: "manual" }`) is a type error, as it is a TypeError at run time.
 */
export type KnownOptions<O, T> = O & T & { [K in Exclude<keyof O, keyof T>]: never };

/** Builds an entry point's factories around its way of obtaining the module. */
export function makeFactories(
  loadModule: () => Promise<CompiledCore>,
  runtime: RuntimeHooks,
): LoopFactories {
  let cached: Promise<CompiledCore> | undefined;
  return {
    async createEventLoop<const O extends EventLoopOptions = {}>(
      options?: KnownOptions<O, EventLoopOptions>,
    ): Promise<EventLoopFor<O>> {
      if (cached === undefined) {
        cached = loadModule();
        cached.catch(() => {
          cached = undefined; // a failed load may be retried
        });
      }
      const core = await instantiate(await cached);
      return new EventLoop(core, options, runtime) as EventLoopFor<O>;
    },
    createEventLoopSync<const O extends SyncEventLoopOptions>(
      options: KnownOptions<O, SyncEventLoopOptions>,
    ): EventLoopFor<O> {
      if (options === null || typeof options !== "object") {
        throw new TypeError("createEventLoopSync(options) needs { module: WebAssembly.Module }.");
      }
      return new EventLoop(instantiateSync(options.module), options, runtime, [
        "module",
      ]) as EventLoopFor<O>;
    },
  };
}
