/**
 * `install(config)` of `zigloop/testing`: fake-timers' configuration, checked and
 * resolved to the list of names to fake. Names are fake-timers' own (`FakeMethod`).
 *
 * @module
 */

import { describeValue } from "../errors.ts";
import type { Profile } from "../event_loop.ts";

/** Every name `zigloop/testing` can fake, in fake-timers' spelling. */
export const FAKEABLE = [
  "setTimeout",
  "clearTimeout",
  "setImmediate",
  "clearImmediate",
  "setInterval",
  "clearInterval",
  "Date",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "requestIdleCallback",
  "cancelIdleCallback",
  "hrtime",
  "nextTick",
  "performance",
  "queueMicrotask",
] as const;

/** A name `install` can fake. `Intl`, `Temporal` and `scheduler` are fake-timers names not faked here. */
export type FakeMethod = (typeof FAKEABLE)[number] | "Intl" | "Temporal" | "scheduler";

/** fake-timers' `install` config, plus zigloop's `profile` and `trackTimerCreation`. */
export interface FakeTimerInstallOpts {
  /** The system time to start at (epoch ms or a Date). Default 0. */
  now?: number | Date;
  /** The names to fake (default: every fakeable name the global has). */
  toFake?: FakeMethod[];
  /** The names to leave alone (the rest are faked). Not together with `toFake`. */
  toNotFake?: FakeMethod[];
  /** Most clock moves `runAll` makes before it gives up (default 1000). */
  loopLimit?: number;
  /** Advance fake time with real time, by `advanceTimeDelta` ms every that many real ms. */
  shouldAdvanceTime?: boolean;
  /** See `shouldAdvanceTime` (default 20). */
  advanceTimeDelta?: number;
  /** Clearing a timer the clock did not create clears the native one. */
  shouldClearNativeTimers?: boolean;
  /** Names in `toFake` that the global does not have are skipped instead of a ReferenceError. */
  ignoreMissingTimers?: boolean;
  /** The loop's rules: `"node"` (default under Node and Bun) or `"html"` (default elsewhere). */
  profile?: Profile;
  /** Record every timer's creation stack, for `runAll`'s limit error (default: only near the limit). */
  trackTimerCreation?: boolean;
}

/** The config, checked. */
export interface ResolvedInstall {
  readonly now: number;
  readonly methods: readonly FakeMethod[];
  readonly loopLimit: number;
  readonly advanceTimeDelta: number | undefined;
  readonly shouldClearNativeTimers: boolean;
  readonly profile: Profile | undefined;
  readonly trackTimerCreation: boolean;
}

const NOT_FAKED = new Set(["Intl", "Temporal", "scheduler"]);

/**
 * Checks `config` and decides what to fake on `target`.
 * @throws {TypeError} for a config that is not an object or uses `toFake` with `toNotFake`.
 * @throws {ReferenceError} for a name in `toFake` the global lacks (unless `ignoreMissingTimers`).
 */
export function resolveInstall(
  config: FakeTimerInstallOpts | undefined,
  present: (name: FakeMethod) => boolean,
  extraArgs: number,
): ResolvedInstall {
  if (
    extraArgs > 0 ||
    (config !== undefined && (typeof config !== "object" || config === null)) ||
    config instanceof Date ||
    Array.isArray(config)
  ) {
    throw new TypeError(
      `FakeTimers.install called with ${String(config)} install requires an object parameter`,
    );
  }
  const c = config ?? {};
  if (Object.hasOwn(c, "toFake") && Object.hasOwn(c, "toNotFake")) {
    throw new TypeError("config.toFake and config.toNotFake cannot be used together");
  }
  if (Object.hasOwn(c, "target")) {
    throw new TypeError("config.target is no longer supported. Use `withGlobal(target)` instead.");
  }
  let methods: FakeMethod[];
  if (c.toFake !== undefined && c.toFake.length > 0) {
    methods = [];
    for (const name of c.toFake) {
      if (!NOT_FAKED.has(name) && present(name)) methods.push(name);
      else if (!c.ignoreMissingTimers) {
        throw new ReferenceError(`non-existent timers and/or objects cannot be faked: '${name}'`);
      }
    }
  } else {
    const skip = new Set<string>(c.toNotFake ?? []);
    methods = FAKEABLE.filter((name) => !skip.has(name) && present(name));
  }
  return {
    now: epochOf(c.now ?? 0, "config.now"),
    methods,
    loopLimit: loopLimitOf(c.loopLimit),
    advanceTimeDelta: c.shouldAdvanceTime ? positive(c.advanceTimeDelta ?? 20) : undefined,
    shouldClearNativeTimers: c.shouldClearNativeTimers === true,
    profile: c.profile,
    trackTimerCreation: c.trackTimerCreation === true,
  };
}

/** fake-timers' `loopLimit`: a falsy value means the default, 1000. */
export function loopLimitOf(limit: unknown): number {
  if (limit === undefined || limit === 0 || limit === null) return 1000;
  if (typeof limit !== "number" || !(limit >= 1)) {
    throw new RangeError(`loopLimit must be a number >= 1, got ${describeValue(limit)}.`);
  }
  return limit;
}

/** Epoch ms from a number or a Date, floored (fake-timers' `getEpoch`). */
export function epochOf(value: unknown, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new TypeError(
      `${what} must be a number (epoch ms) or a Date, got ${describeValue(value)}.`,
    );
  }
  return Math.floor(ms);
}

function positive(value: unknown): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`advanceTimeDelta must be a number > 0, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * A tick amount: ms, or fake-timers' "ss", "mm:ss", "hh:mm:ss" strings.
 * @throws {TypeError} for a string in another shape.
 */
export function tickMs(value: unknown): number {
  if (typeof value !== "string") return value as number;
  const parts = value.split(":");
  if (parts.length > 3 || !/^(\d\d:){0,2}\d\d?$/.test(value)) {
    throw new TypeError(
      "tick only understands numbers, 'm:s' and 'h:m:s'. Each part must be two digits",
    );
  }
  let ms = 0;
  for (const part of parts) ms = ms * 60 + Number(part);
  return ms * 1000;
}
