/// <reference types="node" />
/**
 * `zigloop/testing` for Node.js and Bun: fake timers on a zigloop loop with a manual
 * clock, under fake-timers' names (`install`, `withGlobal`, `createClock`). The loop
 * follows the `node` profile by default (Node's 1 ms floor, `Timeout` objects);
 * installing on the real global also fakes `node:timers` and `node:timers/promises`.
 *
 * @example
 * ```ts
 * import { install } from "zigloop/testing";
 * const clock = install({ now: Date.UTC(2030, 0, 1) });
 * setTimeout(() => console.log(new Date().toISOString()), 1000);
 * clock.tick(1000); // 2030-01-01T00:00:01.000Z
 * clock.uninstall();
 * ```
 * @module
 */

import { readFileSync } from "node:fs";
import { createEventLoopSync } from "../node.ts";
import type { CompiledCore } from "../web.ts";
import { makeTestingApi } from "./api.ts";
import { patchNodeTimers } from "./node_timers.ts";

export * from "./api.ts";

let core: CompiledCore | undefined;

const api = makeTestingApi({
  defaultProfile: "node",
  patchModules: patchNodeTimers,
  makeLoop: (profile) => {
    // Compiled once, on the first clock (the import stays free of side effects).
    core ??= new WebAssembly.Module(
      readFileSync(new URL("../../wasm/zigloop.wasm", import.meta.url)),
    ) as CompiledCore;
    return createEventLoopSync({ module: core, clock: "manual", profile });
  },
});

/**
 * Creates a clock and installs it on `globalThis`.
 * @param config fake-timers' config (`now`, `toFake`, `loopLimit`, ...) plus `profile`.
 * @returns The clock; `clock.uninstall()` restores every original.
 * @throws {TypeError} when fake timers are already installed, or for a bad config.
 * @example
 * ```ts
 * const clock = install();
 * clock.uninstall();
 * ```
 */
export const install = api.install;
/**
 * A clock that is not installed anywhere.
 * @param now The start, epoch ms or a Date (default 0).
 * @param loopLimit Most clock moves `runAll` makes (default 1000).
 * @returns The clock.
 * @example
 * ```ts
 * const clock = createClock();
 * clock.setTimeout(() => {}, 10);
 * clock.runAll();
 * ```
 */
export const createClock = api.createClock;
/**
 * The same API for another global object (a window, a vm context's global).
 * @param global The global to fake.
 * @returns `{ timers, createClock, install }`.
 * @example
 * ```ts
 * const { install } = withGlobal(globalThis);
 * ```
 */
export const withGlobal = api.withGlobal;
/** The original timer functions of `globalThis`, as they were at import. */
export const timers = api.timers;

export default { install, createClock, withGlobal, timers };
