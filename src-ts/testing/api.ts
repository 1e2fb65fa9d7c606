/**
 * What both `zigloop/testing` entries export, built around the entry's way of making
 * a manual-clock loop ({@linkcode LoopMaker}).
 *
 * @module
 */

import type { FakeClock } from "./clock.ts";
import type { FakeTimerInstallOpts } from "./config.ts";
import { LoopPool } from "./loop_pool.ts";
import { type FakeTimers, type LoopMaker, makeWithGlobal } from "./with_global.ts";

export type { FakeClock, ManualLoop } from "./clock.ts";
export type { FakeMethod, FakeTimerInstallOpts } from "./config.ts";
export type { FakeDateConstructor } from "./fake_date.ts";
export type { FakePerformance } from "./time_sources.ts";
export type { FakeTimers, LoopMaker } from "./with_global.ts";

/** fake-timers' name for a clock; every clock here is the same class. */
export type Clock = FakeClock;
/** fake-timers' name for an installed clock. */
export type InstalledClock = FakeClock;

/** The four things an entry exports: fake-timers' module surface. */
export interface TestingApi extends FakeTimers {
  withGlobal(global: object): FakeTimers;
}

/** Builds the module surface on `maker`, for `globalThis`. */
export function makeTestingApi(maker: LoopMaker): TestingApi {
  const pool = new LoopPool(maker.makeLoop);
  const main = makeWithGlobal(maker, globalThis, pool);
  return {
    timers: main.timers,
    createClock: main.createClock,
    install: main.install,
    withGlobal: (global: object) => makeWithGlobal(maker, global, pool),
  };
}

export type { FakeTimerInstallOpts as InstallOptions };

/** For the JSDoc of the entries' `install`. */
export type Install = (config?: FakeTimerInstallOpts) => FakeClock;
