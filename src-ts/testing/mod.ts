/**
 * `zigloop/testing`, the portable entry (Deno, browsers): fake timers on a zigloop loop
 * with a manual clock, under fake-timers' names. The loop follows the `html` profile by
 * default (no 1 ms floor, the nesting clamp, numeric ids). The core is compiled when
 * this module is imported (a top-level await), so clocks can be made synchronously.
 *
 * @example
 * ```ts
 * import { install } from "zigloop/testing";
 * const clock = install();
 * setTimeout(() => console.log(Date.now()), 1000);
 * clock.tick(1000); // 1000
 * clock.uninstall();
 * ```
 * @module
 */

import { loadCoreModule } from "../core/load_fetch.ts";
import { createEventLoopSync } from "../mod.ts";
import { makeTestingApi } from "./api.ts";

export * from "./api.ts";

const core = await loadCoreModule();

const api = makeTestingApi({
  defaultProfile: "html",
  makeLoop: (profile) => createEventLoopSync({ module: core, clock: "manual", profile }),
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
 * ```
 */
export const createClock = api.createClock;
/**
 * The same API for another global object.
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
