/**
 * An ingress's options (checked once, into a frozen {@linkcode IngressConfig}), its
 * handlers' type and what it reports.
 *
 * @module
 */

import { invalidArgType } from "../errors.ts";
import type { IngressCounts } from "../loop/ingress_host.ts";
import { hasWaitAsync } from "./host_functions.ts";
import { LANE_BYTES_MAX, LANE_BYTES_MIN, LANES_MAX } from "./layout.ts";

/** Options of `createIngress(loop, options)`. */
export interface IngressOptions {
  /** Producer ports that may be open at once (one lane each). Default 16, at most 4096. */
  producers?: number;
  /** Bytes per lane, a power of two from 256 to 64 MiB; a message carries at most half. Default 65536. */
  laneBytes?: number;
  /** Most messages queued as loop tasks at once; the rest wait in their lanes. Default 1024. */
  window?: number;
  /** Most messages taken from one lane per pump, for fairness. Default 64. */
  quantum?: number;
  /** Keep polling this many ms after the lanes ran dry before parking (lower wake latency, more CPU). Default 0. */
  linger?: number;
  /** Fallback re-check period while parked, ms. Default 1000 (Atomics.waitAsync present), else 4. */
  pollMs?: number;
  /** A retired lane (its producer died) is reused only after this many ms. Default 1000. */
  retireGraceMs?: number;
  /** Whether the ingress keeps `run()` (and the host process) alive. Default true. */
  ref?: boolean;
}

/** A handler: runs as a loop task for every message of its kind. */
export type IngressHandler = (payload: any, producer: number) => void;

/** What a closed ingress did with the messages producers posted. */
export interface IngressReport extends IngressCounts {
  /** Accepted messages that will not run, per producer (only producers with some): the last `undelivered` of that producer. */
  producers: Array<{ id: number; undelivered: number }>;
}

/** What `ingress.stats()` returns. */
export interface IngressStats {
  /** Messages delivered (handler called). */
  delivered: number;
  /** Messages queued as loop tasks, not yet run. */
  queued: number;
  /** Open producer lanes. */
  producers: number;
  /** Times the consumer parked, and times a producer (or the fallback timer) woke it. */
  parks: number;
  wakeups: number;
  /** Pump tasks run. */
  pumps: number;
  parked: boolean;
  closed: boolean;
}

/** The options as the ingress uses them: checked, defaults filled in. */
export interface IngressConfig {
  readonly producers: number;
  readonly laneBytes: number;
  readonly window: number;
  readonly quantum: number;
  readonly lingerMs: number;
  readonly pollMs: number;
  readonly retireGraceMs: number;
  readonly ref: boolean;
}

/**
 * Checks `createIngress`'s options.
 * @throws {TypeError} when `options` is not an object.
 * @throws {RangeError} naming the option and its value when one is out of range.
 */
export function resolveIngressOptions(options: IngressOptions): IngressConfig {
  if (options === null || typeof options !== "object")
    throw invalidArgType("options", "an object", options);
  const option = (name: keyof IngressOptions, min: number, max: number, fallback: number) =>
    integerOption("createIngress", options[name], name, min, max, fallback);
  const producers = option("producers", 1, LANES_MAX, 16);
  const laneBytes = option("laneBytes", LANE_BYTES_MIN, LANE_BYTES_MAX, 65536);
  if ((laneBytes & (laneBytes - 1)) !== 0)
    throw new RangeError(`createIngress: laneBytes must be a power of two, got ${laneBytes}.`);
  const window = option("window", 1, 1 << 20, 1024);
  const quantum = option("quantum", 1, 1 << 20, 64);
  const lingerMs = options.linger ?? 0;
  if (typeof lingerMs !== "number" || !(lingerMs >= 0 && lingerMs <= 60_000)) {
    throw new RangeError(
      `createIngress: linger must be a number of ms from 0 to 60000, got ${String(lingerMs)}.`,
    );
  }
  const pollMs = option("pollMs", 1, 3_600_000, hasWaitAsync ? 1000 : 4);
  const retireGraceMs = option("retireGraceMs", 0, 3_600_000, 1000);
  const ref = options.ref ?? true;
  return Object.freeze({
    producers,
    laneBytes,
    window,
    quantum,
    lingerMs,
    pollMs,
    retireGraceMs,
    ref,
  });
}

/**
 * `value`, or `fallback` when it is undefined.
 * @throws {RangeError} naming `action`, the option and the value, when it is not an
 * integer from `min` to `max`.
 */
export function integerOption(
  action: string,
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${action}: ${name} must be an integer from ${min} to ${max}, got ${String(value)}.`,
    );
  }
  return value;
}
