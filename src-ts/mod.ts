/**
 * zigloop: an event loop for JavaScript hosts, with a Zig/WebAssembly core.
 *
 * This is the portable entry (Deno, browsers, any runtime with `fetch` for file
 * or http URLs). Node and Bun resolve `zigloop` to `node.ts`, workerd to
 * `workerd.ts`; all three export the same API.
 *
 * @example
 * ```ts
 * import { createEventLoop } from "zigloop";
 * const loop = await createEventLoop({ profile: "html", clock: "manual" });
 * loop.setTimeout(() => console.log("fired"), 1000);
 * loop.advance(1000);
 * ```
 * @module
 */

import { loadCoreModule } from "./core/load_fetch.ts";
import { type LoopFactories, makeFactories } from "./create.ts";
import type { RuntimeHooks } from "./runtime.ts";

export * from "./api.ts";

/** Deno's timer ids are numbers: ref/unref go through `Deno.refTimer`/`Deno.unrefTimer`. */
const deno = (
  globalThis as { Deno?: { refTimer?(id: number): void; unrefTimer?(id: number): void } }
).Deno;
const runtime: RuntimeHooks =
  typeof deno?.unrefTimer === "function" && typeof deno.refTimer === "function"
    ? {
        setTimerRef: (timer, ref) => {
          if (typeof timer !== "number") return;
          if (ref) deno.refTimer!(timer);
          else deno.unrefTimer!(timer);
        },
      }
    : {};

const factories = makeFactories(loadCoreModule, runtime);

/**
 * Creates a loop with its own core, loading `zigloop.wasm` next to the package.
 *
 * @param options Profile, clock, capacities, metrics and error hooks.
 * @returns A new, idle loop.
 * @throws {TypeError | RangeError} for invalid options.
 * @example
 * ```ts
 * const loop = await createEventLoop({ clock: "manual" });
 * ```
 */
export const createEventLoop: LoopFactories["createEventLoop"] = factories.createEventLoop;

/**
 * Creates a loop synchronously from a `WebAssembly.Module` the embedder compiled.
 *
 * @param options The loop options and `module`.
 * @returns A new, idle loop with its own core instance.
 * @throws {TypeError} when `module` is not a compiled zigloop core.
 * @example
 * ```ts
 * const loop = createEventLoopSync({ module: await WebAssembly.compileStreaming(fetch(url)) });
 * ```
 */
export const createEventLoopSync: LoopFactories["createEventLoopSync"] =
  factories.createEventLoopSync;
