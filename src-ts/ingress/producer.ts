/**
 * The producer side of an ingress (`zigloop/worker`): `openIngress(description)` in any
 * thread (a Node `worker_threads` worker, a Deno, Bun or browser Worker, or the loop's own
 * thread) returns a port whose `post(kind, payload)` writes one message into the
 * ingress's shared memory. The loop runs it as a task with the handler registered for
 * `kind`. No lock: each port owns one lane (a single-producer ring), claimed with one
 * compare-and-swap when it opens; `post` is a few plain writes and one compare-and-swap.
 *
 * @module
 */

import { IngressClosedError } from "./errors.ts";
import {
  checkLayout,
  H_EPOCH,
  H_STATE,
  INGRESS_CLOSED,
  KIND_MAX,
  KIND_OFFLOAD,
  L_GENERATION,
  L_STATE,
  L_TAIL,
  L_WANT_SPACE,
  LANE_CLOSED,
  LANE_FREE,
  LANE_OPEN,
  LANE_OPENING,
  LANES_MAX,
  laneWord,
  portId,
  SEALED,
} from "./layout.ts";
import { LaneWriter, makeViews, wakeConsumer } from "./wire.ts";

/**
 * What `createIngress` hands out (`ingress.description`): plain data with a
 * `SharedArrayBuffer`, so `postMessage` and `workerData` share it rather than copy it.
 * With `lane` and `generation` (from `ingress.reserve()`), it names one lane already
 * claimed for one producer.
 */
export interface IngressDescription {
  readonly buffer: SharedArrayBuffer;
  readonly lane?: number;
  readonly generation?: number;
}

/** A payload `post` carries: numbers, strings, typed arrays, booleans, null, undefined, or any other cloneable value (encoded). */
export type IngressPayload = unknown;

const hasWait = typeof Atomics.wait === "function";

/**
 * One producer's port into an ingress. Use it from one thread (it is a JavaScript
 * object: it cannot be shared, only its description can).
 */
export class IngressPort {
  /** This producer's id: the handler on the loop receives it as its second argument. */
  readonly id: number;
  readonly #writer: LaneWriter;
  readonly #i32: Int32Array;
  readonly #stateIndex: number;
  #closed = false;
  #posted = 0;
  #full = 0;

  /** @internal Use {@linkcode openIngress}. */
  constructor(writer: LaneWriter, id: number, lane: number) {
    this.#writer = writer;
    this.#i32 = writer.views.i32;
    this.#stateIndex = laneWord(lane, L_STATE);
    this.id = id;
  }

  /** The largest payload (bytes) one message may carry. */
  get maxPayloadBytes(): number {
    return this.#writer.maxPayload;
  }

  /** Whether this port can no longer post: closed by `close()`, or the ingress was closed. */
  get closed(): boolean {
    return this.#closed || this.#writer.sealed;
  }

  /** Messages this port posted, and how often `post` found the lane full. */
  get stats(): { posted: number; full: number } {
    return { posted: this.#posted, full: this.#full };
  }

  /**
   * Posts one message without blocking.
   *
   * @param kind An integer 0..65534: selects the handler on the loop.
   * @param payload A number, string, typed array (copied), boolean, null, undefined, or any
   *   other cloneable value (encoded with the structured codec, slower).
   * @returns true when the message was accepted (it will run, or the loop's close report
   *   counts it as not delivered); false when the lane is full (nothing was written).
   * @throws {IngressClosedError} when this port or the ingress is closed: not accepted.
   * @throws {RangeError} for a bad kind or a payload larger than `maxPayloadBytes`.
   * @example
   * ```js
   * const port = openIngress(workerData.ingress);
   * while (!port.post(1, 42)) await new Promise((r) => setTimeout(r, 1)); // or postWait
   * ```
   */
  post(kind: number, payload?: IngressPayload): boolean {
    if (kind >>> 0 !== kind || kind > KIND_MAX) throw badKind(kind);
    return this.#post(kind, payload);
  }

  /**
   * Posts one message, blocking this thread (Atomics.wait) while the lane is full, for at
   * most `timeoutMs`. Workers only: a browser's main thread cannot block.
   * @returns true when accepted, false when the lane stayed full until the timeout.
   * @throws {IngressClosedError} when the port or the ingress is (or becomes) closed.
   */
  postWait(kind: number, payload?: IngressPayload, timeoutMs = Infinity): boolean {
    if (kind >>> 0 !== kind || kind > KIND_MAX) throw badKind(kind);
    if (!(timeoutMs >= 0))
      throw new RangeError(`postWait: timeoutMs must be a number >= 0, got ${String(timeoutMs)}.`);
    if (this.#post(kind, payload)) return true;
    if (!hasWait)
      throw new TypeError("postWait: this runtime has no Atomics.wait; use post() and retry.");
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let waited: boolean;
      try {
        waited = this.#writer.waitForRoom(deadline);
      } catch (error) {
        throw new TypeError(
          "postWait cannot block on this thread (a browser's main thread cannot wait); use post() and retry.",
          {
            cause: error,
          },
        );
      }
      if (this.#post(kind, payload)) return true;
      if (!waited) return false;
    }
  }

  /** @internal Blocks (Atomics.wait) until the consumer frees room or `timeoutMs` passes. */
  waitForRoom(timeoutMs: number): boolean {
    return this.#writer.waitForRoom(performance.now() + timeoutMs);
  }

  /** @internal The offload pool's results (kind reserved for it). */
  postResult(payload: unknown): boolean {
    return this.#post(KIND_OFFLOAD, payload);
  }

  #post(kind: number, payload: unknown): boolean {
    if (this.#closed) throw new IngressClosedError("post to an ingress", "this port was closed");
    const status = this.#writer.write(kind, payload);
    if (status === 1) {
      this.#posted++;
      return true;
    }
    if (status === 0) {
      this.#full++;
      return false;
    }
    throw new IngressClosedError("post to an ingress", "the ingress was closed");
  }

  /**
   * Closes this port: the messages it posted are still delivered, then the loop frees
   * its lane for another producer. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const i32 = this.#i32;
    Atomics.compareExchange(i32, this.#stateIndex, LANE_OPEN, LANE_CLOSED);
    Atomics.add(i32, H_EPOCH, 1);
    wakeConsumer(i32);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a producer port on an ingress, from any thread.
 *
 * @param description `ingress.description` (or `ingress.reserve()`), received through
 *   `postMessage` / `workerData`.
 * @returns A port: `post(kind, payload)`, `postWait(kind, payload, timeoutMs)`, `close()`.
 * @throws {TypeError} when `description` is not an ingress description.
 * @throws {IngressClosedError} when the ingress is closed.
 * @throws {RangeError} when every lane is taken (`createIngress({ producers })`).
 * @example
 * ```js
 * import { openIngress } from "zigloop/worker";
 * import { workerData } from "node:worker_threads";
 * const port = openIngress(workerData.ingress);
 * port.post(1, "hello from a worker");
 * ```
 */
export function openIngress(description: IngressDescription): IngressPort {
  if (description === null || typeof description !== "object") {
    throw new TypeError(
      `openIngress(description): expected the description createIngress() returned, got ${description === null ? "null" : typeof description}.`,
    );
  }
  const { lanes, laneBytes } = checkLayout(description.buffer, "openIngress");
  const views = makeViews(description.buffer);
  const i32 = views.i32;
  if (Atomics.load(i32, H_STATE) === INGRESS_CLOSED)
    throw new IngressClosedError("open an ingress port", "the ingress is closed");
  if (description.lane !== undefined)
    return attach(views, lanes, laneBytes, description.lane, description.generation);
  for (let lane = 0; lane < lanes; lane++) {
    const stateIndex = laneWord(lane, L_STATE);
    if (Atomics.load(i32, stateIndex) !== LANE_FREE) continue;
    if (Atomics.compareExchange(i32, stateIndex, LANE_FREE, LANE_OPENING) !== LANE_FREE) continue;
    const tail = Atomics.load(i32, laneWord(lane, L_TAIL));
    if ((tail & SEALED) !== 0) {
      // Only a closed ingress seals free lanes.
      Atomics.store(i32, stateIndex, LANE_FREE);
      throw new IngressClosedError("open an ingress port", "the ingress is closed");
    }
    const generation = Atomics.add(i32, laneWord(lane, L_GENERATION), 1) + 1;
    Atomics.store(i32, laneWord(lane, L_WANT_SPACE), 0);
    Atomics.store(i32, stateIndex, LANE_OPEN);
    Atomics.add(i32, H_EPOCH, 1);
    return new IngressPort(
      new LaneWriter(views, lanes, laneBytes, lane, tail),
      portId(lane, generation),
      lane,
    );
  }
  throw new RangeError(
    `openIngress: all ${lanes} producer lanes are in use (createIngress({ producers }) sets how many ports may be open at once; ` +
      "close ports you no longer need).",
  );
}

/** A lane the loop reserved for this producer (`ingress.reserve()`). */
function attach(
  views: ReturnType<typeof makeViews>,
  lanes: number,
  laneBytes: number,
  lane: unknown,
  generation: unknown,
): IngressPort {
  if (
    !Number.isInteger(lane) ||
    (lane as number) < 0 ||
    (lane as number) >= Math.min(lanes, LANES_MAX)
  ) {
    throw new TypeError(
      `openIngress: description.lane must be a lane index below ${lanes}, got ${String(lane)}.`,
    );
  }
  const i32 = views.i32;
  const index = lane as number;
  const state = Atomics.load(i32, laneWord(index, L_STATE));
  const current = Atomics.load(i32, laneWord(index, L_GENERATION));
  if (state !== LANE_OPEN || current !== generation) {
    throw new IngressClosedError(
      "open a reserved ingress lane",
      `lane ${index} (generation ${String(generation)}) is no longer reserved`,
    );
  }
  const tail = Atomics.load(i32, laneWord(index, L_TAIL));
  if ((tail & SEALED) !== 0)
    throw new IngressClosedError("open an ingress port", "the ingress is closed");
  return new IngressPort(
    new LaneWriter(views, lanes, laneBytes, index, tail),
    portId(index, current),
    index,
  );
}

function badKind(kind: unknown): RangeError {
  return new RangeError(
    `post: kind must be an integer from 0 to ${KIND_MAX}, got ${typeof kind === "number" ? kind : typeof kind}.`,
  );
}
