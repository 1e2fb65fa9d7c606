/**
 * Clocks. A loop's time is milliseconds since the loop was created (real) or a
 * virtual time that only moves when the embedder says so (manual). The core
 * never reads a clock; the loop reads one of these once per turn and passes it.
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
}

/** Monotonic host time (performance.now), relative to the loop's creation. */
export class RealClock implements Clock {
  readonly #origin = hostNow();

  now(): number {
    return hostNow() - this.#origin;
  }
}

/** Virtual time, moved only by `set` (the loop's advance/next/runAll/runToLast). */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward to `time` (never backward). */
  set(time: number): void {
    if (time > this.#now) this.#now = time;
  }
}
