/**
 * The `node` profile's timer policy (Node.js lib/internal/timers.js, the `Timeout`
 * constructor and `insert`):
 * - `after *= 1` exactly once (a `valueOf` runs once); anything outside
 *   [1, 2^31−1], NaN included, becomes 1 ms; then it is truncated;
 * - an overflow warns every time (`TimeoutOverflowWarning`); a negative or NaN delay
 *   warns once (Node: once per process, `warnedNegativeNumber` / `warnedNotNumber`;
 *   here once per loop); an omitted delay is plain 1 ms with no warning.
 *
 * @module
 */

import { DELAY_MS_MAX } from "../core/abi.generated.ts";

/** Node's TIMEOUT_MAX and WebIDL long's maximum: 2^31 - 1 (the core's DELAY_MS_MAX). */
export const TIMEOUT_MAX = DELAY_MS_MAX;

/** How the node profile reports a coerced delay (Node emits process warnings). */
export type DelayWarningName =
  | "TimeoutOverflowWarning"
  | "TimeoutNegativeWarning"
  | "TimeoutNaNWarning";

/** The delay Node would use for `after`, a number already multiplied by 1 (or undefined). */
export function nodeDelay(after: number | undefined): number {
  if (after === undefined || !(after >= 1 && after <= TIMEOUT_MAX)) return 1;
  return Math.trunc(after);
}

/**
 * The warnings of one loop. Negative and NaN delays warn only the first time, like
 * Node's per-process flags (test-timers-nan-duration-warning.js: one warning for three calls).
 */
export class DelayWarnings {
  #warnedNegative = false;
  #warnedNaN = false;

  /** The warning to emit for `after` (already `* 1`), or undefined. */
  check(after: number | undefined): Error | undefined {
    if (after === undefined || (after >= 1 && after <= TIMEOUT_MAX)) return undefined;
    let name: DelayWarningName;
    let reason: string;
    if (after > TIMEOUT_MAX) {
      name = "TimeoutOverflowWarning";
      reason = "does not fit into a 32-bit signed integer";
    } else if (after < 0) {
      if (this.#warnedNegative) return undefined;
      this.#warnedNegative = true;
      name = "TimeoutNegativeWarning";
      reason = "is a negative number";
    } else if (Number.isNaN(after)) {
      if (this.#warnedNaN) return undefined;
      this.#warnedNaN = true;
      name = "TimeoutNaNWarning";
      reason = "is not a number";
    } else {
      return undefined; // 0 <= after < 1: 1 ms, silently (Node does not warn)
    }
    const warning = new Error(`${after} ${reason}.\nTimeout duration was set to 1.`);
    warning.name = name;
    return warning;
  }
}
