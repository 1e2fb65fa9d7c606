/**
 * Clocks. A loop's time is milliseconds since the loop was created (real) or a
 * virtual time that only moves when the embedder says so (manual). The core never
 * reads a clock: the loop reads one of these once per turn and passes the time in
 * microseconds (`nowUs`), where every integer up to 2^53 is an exact double, so a time
 * the core hands back (a deadline) is exactly the time it meant. Users see
 * milliseconds (`now`).
 *
 * @module
 */

const hostPerformance = (globalThis as { performance?: { now(): number } }).performance;
const hostNow: () => number = hostPerformance
  ? hostPerformance.now.bind(hostPerformance)
  : Date.now;

export interface Clock {
  /** Current loop time in milliseconds. */
  now(): number;
  /** Current loop time in microseconds (what the core is given). */
  nowUs(): number;
}

/** Monotonic host time (performance.now), relative to the loop's creation. */
export class RealClock implements Clock {
  readonly #origin = hostNow();

  now(): number {
    return hostNow() - this.#origin;
  }

  nowUs(): number {
    return (hostNow() - this.#origin) * 1000;
  }
}

/**
 * Virtual time in whole microseconds, moved only by `setUs` (the loop's
 * advance/next/runAll/runToLast). Milliseconds a user passes are rounded to the
 * nearest microsecond once, where they enter (`toUs`), so decimal inputs such as
 * `advance(1.001)` mean exactly 1001 µs.
 */
export class ManualClock implements Clock {
  #us: number;

  constructor(startMs: number) {
    this.#us = toUs(startMs);
  }

  now(): number {
    return this.#us / 1000;
  }

  nowUs(): number {
    return this.#us;
  }

  /** Moves time forward to `us` (never backward). */
  setUs(us: number): void {
    if (us > this.#us) this.#us = us;
  }
}

/** Milliseconds to the nearest whole microsecond. */
export function toUs(ms: number): number {
  return Math.round(ms * 1000);
}
