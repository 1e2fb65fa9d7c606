/**
 * The fake clock: fake-timers' `Clock`, on a zigloop loop with a manual clock.
 *
 * Times: the loop's virtual time (ms since the clock was created, exact to the µs) is
 * what `performance.now()` and `hrtime()` report; the system time (`clock.now`,
 * `Date.now()`) is `start + loop time + offset`, where `setSystemTime` moves only the
 * offset, so timers and `performance.now()` are not disturbed. Drives map one to one:
 * `tick` → `advance`, `next` → `next`, `runAll` → `runAll`, `runToLast` → `runToLast`,
 * and their async forms, which give the runtime's own jobs a macrotask after every
 * callback. `reset()` and `uninstall()` give the loop back (`loop_pool.ts`: reused when
 * idle, else closed, since a manual clock never moves back) and the next use adopts one;
 * the clock's time counts from `#base`, the adopted loop's time when this clock was at 0.
 *
 * Errors thrown by callbacks do not stop a drive: the first one is rethrown when the
 * drive ends (as fake-timers does); one thrown outside any drive (a microtask run from
 * the host's queue) is rethrown from the host's queue.
 *
 * @module
 */

import { LoopLimitError } from "../errors.ts";
import type { EventLoop, Profile } from "../event_loop.ts";
import type { ManualClock } from "../loop/clock.ts";
import { virtualTimeOf } from "../loop/virtual_time.ts";
import { epochOf, loopLimitOf, tickMs } from "./config.ts";
import { createFakeDate, type FakeDateConstructor } from "./fake_date.ts";
import type { LoopPool } from "./loop_pool.ts";
import { creationStack, fireTimer, RunCounter, type TimerRecord } from "./run_counter.ts";
import { createFakePerformance, type FakePerformance, hrtimeOf } from "./time_sources.ts";

/** A manual-clock loop, as the entry point makes one. */
export type ManualLoop = EventLoop<Profile, "manual">;

/** How a clock is made: where its loops come from and the global whose `Date` it fakes. */
export interface ClockSetup {
  pool: LoopPool;
  profile: Profile;
  NativeDate: DateConstructor;
  /** The global's real performance object, if any (the fake one forwards to it). */
  performance: object | undefined;
  trackTimerCreation: boolean;
}

type Callback = (...args: unknown[]) => unknown;
type Hrtime = ((prev?: readonly number[]) => [number, number]) & { bigint(): bigint };

const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** A callback's extra arguments (`args` from `start` on), or the shared empty list. */
function extraArgs(args: IArguments, start: number): readonly unknown[] {
  if (args.length <= start) return NO_ARGS;
  return Array.prototype.slice.call(args, start);
}

const promisifyCustom = Symbol.for("nodejs.util.promisify.custom");
const hostQueueMicrotask = globalThis.queueMicrotask;

/** fake-timers' clock, backed by a zigloop loop. Methods are own, bound properties. */
export class FakeClock {
  /** Most clock moves `runAll` makes (fake-timers: most timers it runs). */
  loopLimit: number;
  /** The loop's rules. */
  readonly profile: Profile;
  readonly Date: FakeDateConstructor;
  readonly performance: FakePerformance;
  readonly hrtime: Hrtime;
  /** The names `install` faked (empty for `createClock`). */
  methods: string[] = [];

  #setup: ClockSetup;
  #start: number;
  /** What `setSystemTime` added to the system time. */
  #offset = 0;
  /** The loop, or undefined after `uninstall()` gave it back (the next use adopts one). */
  #current: ManualLoop | undefined;
  /** The adopted loop's clock, read directly by `now`. */
  #manual!: ManualClock;
  /** Loop time when this clock's time was 0 (a reused loop's clock has moved on). */
  #base = 0;
  /** This clock's time when its last loop was given back. */
  #elapsed = 0;
  #counter: RunCounter;
  /** What callbacks threw during the current drive (the first is rethrown at its end). */
  #errors: unknown[] = [];
  #driving = 0;

  constructor(setup: ClockSetup, now: unknown, loopLimit: unknown) {
    this.#setup = setup;
    this.#start = epochOf(now ?? 0, "now");
    this.loopLimit = loopLimitOf(loopLimit);
    this.profile = setup.profile;
    this.#counter = new RunCounter(setup.trackTimerCreation);
    this.Date = createFakeDate(setup.NativeDate, () => this.now);
    const loopNow = () => this.#loopNow();
    this.performance = createFakePerformance(setup.performance, loopNow, this.#start);
    this.hrtime = hrtimeOf(loopNow);
    const setTimeout = this.setTimeout as Callback & Record<symbol, unknown>;
    setTimeout[promisifyCustom] = (delay: unknown, value: unknown) =>
      new Promise((resolve) => this.setTimeout(resolve, delay, value));
    const setImmediate = this.setImmediate as Callback & Record<symbol, unknown>;
    setImmediate[promisifyCustom] = (value: unknown) =>
      new Promise((resolve) => this.setImmediate(resolve, value));
  }

  /** The system time, epoch ms (what `Date.now()` returns). */
  get now(): number {
    if (this.#current === undefined) this.#adopt();
    return Math.floor(this.#start + this.#offset + (this.#manual.now() - this.#base));
  }

  /** The loop behind the clock: metrics, `pending`, its Promise (replaced by `reset()`). */
  get loop(): ManualLoop {
    return this.#loop;
  }

  get #loop(): ManualLoop {
    return this.#current ?? this.#adopt();
  }

  /** This clock's time in ms since it started: `performance.now()`. */
  #loopNow(): number {
    if (this.#current === undefined) this.#adopt();
    return this.#manual.now() - this.#base;
  }

  /** Takes a loop from the pool; this clock's time goes on from `#elapsed`. */
  #adopt(): ManualLoop {
    const loop = this.#setup.pool.acquire(this.profile, (error) => this.#onError(error));
    this.#current = loop;
    this.#manual = virtualTimeOf.get(loop)!.clock;
    this.#base = loop.now() - this.#elapsed;
    return loop;
  }

  /** Gives the loop back (reused if idle, else closed). */
  #release(): void {
    const loop = this.#current;
    if (loop === undefined) return;
    this.#elapsed = this.#loopNow();
    this.#current = undefined;
    this.#setup.pool.release(loop);
  }

  // ---- scheduling ------------------------------------------------------------------

  readonly setTimeout = FakeClock.#timerFunction(this, "setTimeout");
  readonly setInterval = FakeClock.#timerFunction(this, "setInterval");

  /**
   * `setTimeout`/`setInterval`: plain functions reading `arguments` (no rest array
   * without extra arguments); the callback goes straight to the loop, unless creation
   * stacks are tracked.
   */
  static #timerFunction(
    clock: FakeClock,
    kind: "setTimeout" | "setInterval",
  ): (fn: Callback, delay?: unknown, ...args: unknown[]) => unknown {
    const timer = function (fn: Callback, delay?: unknown): unknown {
      const loop = clock.#loop;
      const schedule = loop[kind] as (fn: unknown, delay: unknown, ...args: unknown[]) => unknown;
      if (clock.#counter.tracking) {
        const record = clock.#record(fn, extraArgs(arguments, 2), kind, delay);
        return schedule.call(loop, fireTimer, delay, record);
      }
      if (arguments.length <= 2) return schedule.call(loop, fn, delay);
      return Reflect.apply(schedule, loop, arguments);
    };
    Object.defineProperty(timer, "name", { value: kind });
    return timer;
  }

  readonly setImmediate: (fn: Callback, ...args: unknown[]) => unknown = ((clock: FakeClock) =>
    function setImmediate(fn: Callback): unknown {
      const loop = clock.#loop;
      if (arguments.length <= 1) return loop.setImmediate(fn);
      return Reflect.apply(loop.setImmediate, loop, arguments);
    })(this);

  readonly clearTimeout = (id?: unknown): void => this.#loop.clearTimeout(id as number);
  readonly clearInterval = (id?: unknown): void => this.#loop.clearInterval(id as number);
  readonly clearImmediate = (id?: unknown): void => this.#loop.clearImmediate(id as number);

  /** A timer at the next 16 ms frame boundary of `performance.now()`; the callback gets that time. */
  readonly requestAnimationFrame = (fn: Callback): number => {
    if (typeof fn !== "function") return Number(this.#loop.setTimeout(fn, 0));
    const delay = 16 - (this.#loopNow() % 16);
    return Number(this.#loop.setTimeout(() => fn(this.#loopNow()), delay));
  };

  readonly cancelAnimationFrame = (id?: unknown): void => this.#loop.clearTimeout(id as number);

  /** fake-timers' idle callback: a timer after `timeout` (0 by default), told it timed out. */
  readonly requestIdleCallback = (fn: Callback, options?: { timeout?: number }): number => {
    const deadline = {
      didTimeout: true,
      timeRemaining: () => (this.countTimers() > 0 ? 50 : 0),
    };
    return Number(this.#loop.setTimeout(fn, options?.timeout ?? 0, deadline));
  };

  readonly cancelIdleCallback = (id?: unknown): void => this.#loop.clearTimeout(id as number);

  readonly queueMicrotask = (fn: () => void): void => this.#loop.queueMicrotask(fn);

  /** Node's `process.nextTick`: a loop microtask, so it runs before native promise jobs. */
  readonly nextTick = (fn: Callback, ...args: unknown[]): void => {
    if (typeof fn !== "function") this.#loop.queueMicrotask(fn);
    this.#loop.queueMicrotask(args.length === 0 ? (fn as () => void) : () => fn(...args));
  };

  #record(fn: Callback, args: readonly unknown[], kind: string, delay: unknown): TimerRecord {
    const counter = this.#counter;
    if (typeof fn !== "function") {
      // The loop's own check gives the profile's error (TypeError, ERR_INVALID_ARG_TYPE).
      this.#loop.setTimeout(fn as () => void, 0);
    }
    return {
      fn,
      args,
      kind,
      delay,
      stack: creationStack(),
      counter,
    };
  }

  // ---- driving ---------------------------------------------------------------------

  /** Advances by `ms` (or "mm:ss"), firing what falls due. Returns the system time. */
  readonly tick = (ms: number | string): number =>
    this.#drive(() => this.#loop.advance(tickMs(ms)));

  readonly tickAsync = (ms: number | string): Promise<number> =>
    this.#driveAsync(() => this.#loop.advanceAsync(tickMs(ms)));

  readonly next = (): number => this.#drive(() => this.#loop.next());
  readonly nextAsync = (): Promise<number> => this.#driveAsync(() => this.#loop.nextAsync());

  readonly runAll = (): number => {
    this.#counter.start();
    try {
      return this.#drive(() => this.#loop.runAll({ limit: this.loopLimit }));
    } catch (error) {
      throw this.#limitError(error);
    } finally {
      this.#counter.stop();
    }
  };

  readonly runAllAsync = async (): Promise<number> => {
    this.#counter.start();
    try {
      return await this.#driveAsync(() => this.#loop.runAllAsync({ limit: this.loopLimit }));
    } catch (error) {
      throw this.#limitError(error);
    } finally {
      this.#counter.stop();
    }
  };

  /** Advances to the next 16 ms animation frame boundary. */
  readonly runToFrame = (): number => this.tick(16 - (this.#loopNow() % 16));

  readonly runToLast = (): number => this.#drive(() => this.#loop.runToLast());
  readonly runToLastAsync = (): Promise<number> =>
    this.#driveAsync(() => this.#loop.runToLastAsync());

  /** Runs the pending microtasks (queueMicrotask, nextTick), nothing else. */
  readonly runMicrotasks = (): void => {
    this.#drive(() => virtualTimeOf.get(this.#loop)!.checkpoint());
  };

  /** Moves time by `ms` at once: what fell due fires once, late (the host slept). */
  readonly jump = (ms: number | string): number =>
    this.#drive(() => virtualTimeOf.get(this.#loop)!.jump(tickMs(ms), 100_000));

  /** Sets the system time (`Date`); timers and `performance.now()` do not move. */
  readonly setSystemTime = (now?: number | Date): void => {
    this.#offset = epochOf(now ?? 0, "setSystemTime(now)") - this.#start - this.#loopNow();
  };

  /** Removes every timer and microtask and puts time back to the start. */
  readonly reset = (): void => {
    this.#release();
    this.#elapsed = 0;
    this.#offset = 0;
    this.#errors = [];
  };

  /** Pending timers, immediates and microtasks. */
  readonly countTimers = (): number => {
    const p = this.#loop.pending;
    return p.timers + p.immediates + p.microtasks;
  };

  /**
   * Restores what `install` replaced (a clock from `createClock` has nothing to
   * restore) and gives the loop back for the next clock when nothing is pending on it.
   * The clock stays usable (its next use takes another loop).
   */
  uninstall: () => unknown[] = () => {
    this.#release();
    return [];
  };

  /** For `install`: the restore step of `uninstall`. */
  onUninstall(restore: () => void): void {
    this.uninstall = () => {
      restore();
      this.#release();
      return [];
    };
  }

  #onError(error: unknown): void {
    if (this.#driving > 0) this.#errors.push(error);
    else
      hostQueueMicrotask(() => {
        throw error;
      });
  }

  #drive(run: () => unknown): number {
    this.#driving++;
    try {
      run();
    } finally {
      this.#driving--;
    }
    this.#rethrow();
    return this.now;
  }

  async #driveAsync(run: () => Promise<unknown>): Promise<number> {
    this.#driving++;
    try {
      await run();
    } finally {
      this.#driving--;
    }
    this.#rethrow();
    return this.now;
  }

  #rethrow(): void {
    if (this.#errors.length === 0) return;
    const first = this.#errors[0];
    this.#errors = [];
    throw first;
  }

  #limitError(error: unknown): unknown {
    if (!(error instanceof LoopLimitError) || error.cause !== undefined) return error;
    const pending = virtualTimeOf.get(this.#loop)!.pendingTimers();
    return this.#counter.limitError(this.loopLimit, error, pending);
  }
}
