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
import { makeCreateEventLoop } from "./create.ts";
import type { EventLoop, EventLoopOptions } from "./event_loop.ts";

export * from "./api.ts";

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
export const createEventLoop: (options?: EventLoopOptions) => Promise<EventLoop> = makeCreateEventLoop(loadCoreModule);
