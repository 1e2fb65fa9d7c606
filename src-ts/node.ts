/**
 * zigloop for Node.js and Bun: reads `zigloop.wasm` from the package with
 * `node:fs`. Same API as the portable entry.
 *
 * @module
 */

import { loadCoreModule } from "./core/load_node.ts";
import { makeCreateEventLoop } from "./create.ts";
import type { EventLoop, EventLoopOptions } from "./event_loop.ts";

export * from "./api.ts";

/**
 * Creates a loop with its own core.
 *
 * @param options Profile, clock, capacities, metrics and error hooks.
 * @returns A new, idle loop.
 * @throws {TypeError | RangeError} for invalid options.
 * @example
 * ```ts
 * import { createEventLoop } from "zigloop";
 * const loop = await createEventLoop({ profile: "node" });
 * loop.setTimeout(() => console.log("later"), 10);
 * await loop.run();
 * ```
 */
export const createEventLoop: (options?: EventLoopOptions) => Promise<EventLoop> = makeCreateEventLoop(loadCoreModule);
