/**
 * `withGlobal(global)`: fake-timers' entry for one global object, returning
 * `{ timers, createClock, install }`. `install` replaces the chosen names on the global
 * (and `hrtime`/`nextTick` on its `process`) with the clock's, through the same
 * installation stack as `loop.installGlobals`, so `uninstall()` puts back each original
 * property exactly (its descriptor, or no property at all).
 *
 * @module
 */

import { DriveInProgressError } from "../errors.ts";
import type { Profile } from "../event_loop.ts";
import { installOnto } from "../loop/globals.ts";
import { type ClockSetup, FakeClock, type ManualLoop } from "./clock.ts";
import { FAKEABLE, type FakeMethod, type FakeTimerInstallOpts, resolveInstall } from "./config.ts";
import type { LoopPool } from "./loop_pool.ts";

/** What an entry point supplies: how to make a manual-clock loop, and its default profile. */
export interface LoopMaker {
  makeLoop: (profile: Profile) => ManualLoop;
  defaultProfile: Profile;
  /**
   * The runtime's timer modules (Node: `node:timers`, `node:timers/promises`), patched
   * when `install` fakes the real global; returns their restore.
   */
  patchModules?: (clock: FakeClock, methods: readonly string[]) => () => void;
}

/** fake-timers' `withGlobal` result. */
export interface FakeTimers {
  /** The global's original timer functions, `Date`, `performance`, `hrtime`, `nextTick`. */
  timers: Record<string, unknown>;
  /** A clock not installed anywhere (`now`: epoch ms or Date; `loopLimit`: default 1000). */
  createClock(now?: number | Date, loopLimit?: number): FakeClock;
  /** Creates a clock and installs it on the global; `clock.uninstall()` restores it. */
  install(config?: FakeTimerInstallOpts): FakeClock;
}

const PROCESS_NAMES = new Set<string>(["hrtime", "nextTick"]);
const nativeSetInterval = globalThis.setInterval;
const nativeClearInterval = globalThis.clearInterval;
const nativeClearTimeout = globalThis.clearTimeout;

/**
 * fake-timers' `withGlobal`, on zigloop loops made by `maker`.
 * @param global The global object to fake (globalThis, a window, a vm context's global).
 */
export function makeWithGlobal(maker: LoopMaker, global: object, pool: LoopPool): FakeTimers {
  const g = global as Record<string, unknown> & { process?: Record<string, unknown> };
  const timers = originals(g);
  const present = (name: FakeMethod): boolean => name in timers;
  const setup = (profile: Profile | undefined, track: boolean): ClockSetup => ({
    pool,
    profile: profile ?? maker.defaultProfile,
    NativeDate: (typeof g.Date === "function" ? g.Date : Date) as DateConstructor,
    performance:
      typeof g.performance === "object" && g.performance !== null ? g.performance : undefined,
    trackTimerCreation: track,
  });
  return {
    timers,
    createClock: (now, loopLimit) => new FakeClock(setup(undefined, false), now, loopLimit),
    install(config?: FakeTimerInstallOpts) {
      const resolved = resolveInstall(config, present, arguments.length - 1);
      if ((g.Date as { isFake?: boolean } | undefined)?.isFake === true) {
        throw new TypeError("Can't install fake timers twice on the same global object.");
      }
      const clock = new FakeClock(
        setup(resolved.profile, resolved.trackTimerCreation),
        resolved.now,
        resolved.loopLimit,
      );
      clock.methods = [...resolved.methods];
      const onGlobal = new Map<string, unknown>();
      const onProcess = new Map<string, unknown>();
      for (const name of resolved.methods) {
        const value = clock[name as keyof FakeClock];
        (PROCESS_NAMES.has(name) ? onProcess : onGlobal).set(name, value);
      }
      if (resolved.shouldClearNativeTimers) clearNativeToo(clock, onGlobal, timers);
      const restoreGlobal = installOnto(g, onGlobal, () => {});
      const restoreProcess =
        onProcess.size > 0 ? installOnto(g.process, onProcess, () => {}) : undefined;
      const restoreModules =
        global === globalThis ? maker.patchModules?.(clock, clock.methods) : undefined;
      let ticker: unknown;
      if (resolved.advanceTimeDelta !== undefined) {
        const delta = resolved.advanceTimeDelta;
        ticker = nativeSetInterval(() => advanceBy(clock, delta), delta);
        (ticker as { unref?(): void }).unref?.();
      }
      clock.onUninstall(() => {
        if (ticker !== undefined) nativeClearInterval(ticker as number);
        ticker = undefined;
        restoreModules?.();
        restoreProcess?.();
        restoreGlobal();
        clock.methods = [];
      });
      return clock;
    },
  };
}

/**
 * `shouldAdvanceTime`'s real-time tick. While an async drive (`tickAsync`) waits for
 * the host, the clock is already moving: this tick is skipped, not an error.
 */
function advanceBy(clock: FakeClock, delta: number): void {
  try {
    clock.tick(delta);
  } catch (error) {
    if (!(error instanceof DriveInProgressError)) throw error;
  }
}

/** The global's current values of every fakeable name it has. */
function originals(
  g: Record<string, unknown> & { process?: Record<string, unknown> },
): Record<string, unknown> {
  const timers: Record<string, unknown> = {};
  for (const name of FAKEABLE) {
    if (!PROCESS_NAMES.has(name) && g[name] !== undefined) timers[name] = g[name];
  }
  const proc = g.process;
  if (proc !== null && typeof proc === "object") {
    if (typeof proc.hrtime === "function") timers.hrtime = proc.hrtime;
    if (typeof proc.nextTick === "function") timers.nextTick = proc.nextTick;
  }
  return timers;
}

/**
 * `shouldClearNativeTimers`: a handle the clock did not make (a native timer created
 * before install) is also cleared natively.
 */
function clearNativeToo(
  clock: FakeClock,
  onGlobal: Map<string, unknown>,
  timers: Record<string, unknown>,
): void {
  for (const name of ["clearTimeout", "clearInterval", "clearImmediate"] as const) {
    if (!onGlobal.has(name)) continue;
    const fake = clock[name as "clearTimeout"];
    const native = (timers[name] ?? nativeClearTimeout) as (id: unknown) => void;
    onGlobal.set(name, (id?: unknown) => {
      fake(id);
      native(id);
    });
  }
}
