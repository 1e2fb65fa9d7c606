/**
 * The loop side of an ingress: work posted from other threads, run as loop tasks.
 *
 * `createIngress(loop, options)` allocates one `SharedArrayBuffer` (layout.ts) with one
 * lane per producer. Producers open ports with `openIngress(ingress.description)`
 * (`zigloop/worker`) in any thread. On the loop thread each message runs as a task —
 * `handler(payload, producerId)` for its kind, with a microtask checkpoint after it,
 * counted in the loop's metrics, FIFO per producer.
 *
 * How messages reach the loop (the consumer):
 * - Awake: a *pump* task moves up to `window` published messages from the lanes into
 *   the loop's task queue (round robin, `quantum` per lane), then queues itself behind
 *   them. A message's bytes stay in its lane until its task runs (no copy in between),
 *   so the lane's room, not an unbounded queue, is what producers wait for.
 * - Parked: when a pump finds nothing (and `linger` ms passed with nothing), the
 *   consumer stores PARKED, re-checks every lane, and waits with `Atomics.waitAsync` on
 *   the wake word. A producer that publishes and then sees PARKED swaps it to AWAKE and
 *   notifies. Both sides use sequentially consistent atomics (store, then load the
 *   other side's word), so either the re-check sees the message or the producer sees
 *   PARKED: no lost wake-up. A host timer (`pollMs`) re-checks as a fallback (the only
 *   path where `Atomics.waitAsync` is missing) and keeps the host process alive while
 *   the ingress is ref'd.
 *
 * Closing: `close()` seals every lane (bit 31 of each tail, by compare-and-swap, so a
 * concurrent `post` either published before the seal or fails with IngressClosedError)
 * and counts accepted messages that will not run. `shutdown()` seals, runs everything
 * accepted, then closes. The loop's own `close()` and `shutdown()` do the same, and add
 * the counts to their reports as `ingress`.
 *
 * @module
 */

import { invalidArgType } from "../errors.ts";
import type { IngressCounts, IngressLoop, IngressLoopClient } from "../loop/ingress_host.ts";
import type { Lane } from "./consumer_lane.ts";
import { IngressClosedError, ThreadsUnavailableError } from "./errors.ts";
import {
  hasWaitAsync,
  hostClearInterval,
  hostQueueMicrotask,
  hostSetInterval,
  setTimerRef,
  waitAsync,
} from "./host_functions.ts";
import { LaneTable } from "./lane_table.ts";
import {
  bufferBytes,
  CONSUMER_AWAKE,
  CONSUMER_PARKED,
  COUNTER_MASK,
  H_CONSUMER,
  H_EPOCH,
  H_WAKE_SEQ,
  initHeader,
  KIND_MAX,
  KIND_OFFLOAD,
  LANE_CLOSED,
  LANE_RETIRED,
  LANES_MAX,
  portId,
  recordBytes,
  TAG_NUMBER,
  TAG_PAD,
} from "./layout.ts";
import {
  type IngressHandler,
  type IngressOptions,
  type IngressReport,
  type IngressStats,
  resolveIngressOptions,
} from "./options.ts";
import type { IngressDescription } from "./producer.ts";
import { threadsAvailable } from "./threads.ts";
import { makeViews, readValue, type Views } from "./wire.ts";

export type { IngressHandler, IngressOptions, IngressReport, IngressStats } from "./options.ts";

/** See Ingress#consumed. */
const HEAD_STORE_EVERY = 64;

/** The loop side of an ingress. Create it with {@linkcode createIngress}. */
export class Ingress implements IngressLoopClient {
  /** Hand this to producers (postMessage, workerData): `openIngress(description)`. */
  readonly description: IngressDescription;
  readonly #loop: IngressLoop;
  readonly #views: Views;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #window: number;
  readonly #quantum: number;
  readonly #lingerMs: number;
  readonly #pollMs: number;
  readonly #handlers: Array<IngressHandler | undefined> = [];
  readonly #table: LaneTable;
  #inFlight = 0;
  #pumpQueued = false;
  #refused = false;
  #parked = false;
  #waiting = false;
  #lastWorkAt = 0;
  #timer: unknown;
  #ref: boolean;
  #retained = false;
  #closed = false;
  #report: IngressReport | undefined;
  #unregister: () => void;
  #drainWaiters: Array<() => void> = [];
  #delivered = 0;
  #parks = 0;
  #wakeups = 0;
  #pumps = 0;

  /** @internal Use {@linkcode createIngress}. */
  constructor(loop: IngressLoop, options: IngressOptions = {}) {
    if (!threadsAvailable()) {
      throw new ThreadsUnavailableError(
        "create an ingress",
        "this runtime has no threads (workerd runs one thread per isolate)",
      );
    }
    if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") {
      throw new ThreadsUnavailableError(
        "create an ingress",
        "this runtime has no SharedArrayBuffer (a browser page must be cross-origin isolated: serve it with " +
          "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
      );
    }
    const config = resolveIngressOptions(options);
    this.#window = config.window;
    this.#quantum = config.quantum;
    this.#lingerMs = config.lingerMs;
    this.#pollMs = config.pollMs;
    const { producers, laneBytes } = config;
    if (!loop.accepting)
      throw new IngressClosedError("create an ingress", "the loop is closed or shutting down");
    this.#loop = loop;
    const buffer = new SharedArrayBuffer(bufferBytes(producers, laneBytes));
    this.#views = makeViews(buffer);
    this.#i32 = this.#views.i32;
    this.#f64 = this.#views.f64;
    initHeader(this.#i32, producers, laneBytes);
    this.#table = new LaneTable(this.#i32, producers, laneBytes, config.retireGraceMs);
    this.description = Object.freeze({ buffer });
    this.#unregister = loop.onClose(this);
    this.#ref = config.ref;
    this.#syncRef();
    this.#table.refresh();
    this.#park();
  }

  // ---- handlers ----------------------------------------------------------------------------

  /**
   * Registers the handler of `kind` (replacing any earlier one). It runs as a loop task
   * for every message of that kind: `handler(payload, producerId)`; what it throws goes to
   * the loop's `onError`. A message whose kind has no handler reports a TypeError there.
   */
  on(kind: number, handler: IngressHandler): this {
    if (!Number.isInteger(kind) || kind < 0 || kind > KIND_MAX) {
      throw new RangeError(
        `ingress.on: kind must be an integer from 0 to ${KIND_MAX}, got ${String(kind)}.`,
      );
    }
    if (typeof handler !== "function") throw invalidArgType("handler", "of type function", handler);
    this.#handlers[kind] = handler;
    return this;
  }

  /** Removes the handler of `kind`. */
  off(kind: number): this {
    if (Number.isInteger(kind) && kind >= 0 && kind <= KIND_MAX) this.#handlers[kind] = undefined;
    return this;
  }

  /** @internal The offload pool's results. */
  onOffload(handler: IngressHandler): void {
    this.#handlers[KIND_OFFLOAD] = handler;
  }

  // ---- handle ------------------------------------------------------------------------------

  /** Keeps `run()` (and the host process) alive while open. The default. */
  ref(): this {
    this.#ref = true;
    this.#syncRef();
    return this;
  }

  /** Lets the loop finish while this ingress is open. */
  unref(): this {
    this.#ref = false;
    this.#syncRef();
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The report of a closed ingress (undefined while open). */
  get report(): IngressReport | undefined {
    return this.#report;
  }

  stats(): IngressStats {
    return {
      delivered: this.#delivered,
      queued: this.#inFlight,
      producers: this.#table.active.length,
      parks: this.#parks,
      wakeups: this.#wakeups,
      pumps: this.#pumps,
      parked: this.#parked,
      closed: this.#closed,
    };
  }

  #syncRef(): void {
    const want = this.#ref && !this.#closed;
    if (want !== this.#retained) {
      this.#retained = want;
      if (want) this.#loop.retain();
      else this.#loop.release();
    }
    if (this.#closed) {
      if (this.#timer !== undefined) hostClearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer === undefined) this.#timer = hostSetInterval(this.#poll, this.#pollMs);
    setTimerRef(this.#timer, this.#ref);
  }

  // ---- producers the loop manages (the pool) -------------------------------------------------

  /**
   * Claims a lane for one producer and returns a description naming it; the producer
   * opens it with `openIngress(description)`. Lets the owner `retire` it when that
   * producer dies.
   * @throws {RangeError} when every lane is taken.
   */
  reserve(): Required<IngressDescription> & { id: number } {
    this.#assertOpen("reserve a producer lane");
    const { lane, generation } = this.#table.reserve();
    return { buffer: this.description.buffer, lane, generation, id: portId(lane, generation) };
  }

  /**
   * The producer `id` died (its thread stopped: after a Node worker's `exit`, or
   * `worker.terminate()`): seals its lane, so nothing more from it becomes visible,
   * delivers what it published (then calls `whenDrained`, as a loop task), and frees the
   * lane after `retireGraceMs` once `reusable()` (if given) says the producer can no
   * longer write. Call it only once
   * the producer can no longer run: a producer that is still running may have half-written
   * bytes in the lane (never visible, but the lane is reused after the grace period).
   */
  retire(id: number, whenDrained?: () => void, reusable?: () => boolean): void {
    if (this.#closed) return;
    if (!this.#table.retire(id)) return;
    const lane = this.#table.lanes[id % LANES_MAX];
    if (lane === undefined) {
      if (whenDrained) this.#loop.queueTask(whenDrained, 0);
      return;
    }
    lane.whenDrained = whenDrained;
    lane.reusable = reusable;
    this.#checkDrained(lane);
    this.#kick();
  }

  /** A retired lane's callback, once everything it published was delivered. */
  #checkDrained(lane: Lane): void {
    const callback = lane.whenDrained;
    if (callback === undefined || lane.inFlight !== 0) return;
    if (lane.head !== (Atomics.load(this.#i32, lane.tailIndex) & COUNTER_MASK)) return;
    lane.whenDrained = undefined;
    this.#loop.queueTask(callback, 0);
  }

  // ---- consuming ---------------------------------------------------------------------------

  /** Runs as a loop task: delivers the next record of lane `index`. */
  readonly #deliver = (index: number): void => {
    const lane = this.#table.lanes[index]!;
    this.#inFlight--;
    lane.inFlight--;
    if (this.#closed) return;
    const i32 = this.#i32;
    let head = lane.head;
    let at = lane.data + (head & lane.mask);
    let word = i32[at >> 2]!;
    if ((word & 0xff) === TAG_PAD) {
      head = (head + recordBytes(i32[(at >> 2) + 1]!)) & COUNTER_MASK;
      at = lane.data + (head & lane.mask);
      word = i32[at >> 2]!;
    }
    const next = (head + recordBytes(i32[(at >> 2) + 1]!)) & COUNTER_MASK;
    let payload: unknown;
    if ((word & 0xff) === TAG_NUMBER) {
      payload = this.#f64[(at >> 3) + 1];
    } else {
      try {
        payload = readValue(this.#views, at);
      } catch (error) {
        this.#consumed(lane, next);
        throw error;
      }
    }
    this.#consumed(lane, next);
    const handler = this.#handlers[word >>> 16];
    if (handler === undefined) {
      throw new TypeError(
        `ingress: no handler for message kind ${word >>> 16} (from producer ${lane.id}); register one with ingress.on(${word >>> 16}, handler).`,
      );
    }
    handler(payload, lane.id);
  };

  /**
   * The record before `next` was read: its room goes back to the producer. The shared head
   * is stored every HEAD_STORE_EVERY records and when the lane has nothing more in flight
   * (a sequentially consistent store costs more than the rest of a small message).
   */
  #consumed(lane: Lane, next: number): void {
    lane.head = next;
    this.#delivered++;
    if (lane.inFlight === 0 || ++lane.unpublished >= HEAD_STORE_EVERY) {
      lane.unpublished = 0;
      const i32 = this.#i32;
      Atomics.store(i32, lane.headIndex, next);
      if (Atomics.load(i32, lane.wantIndex) !== 0) lane.roomFreed(i32);
    }
    if (lane.whenDrained !== undefined) this.#checkDrained(lane);
    if (this.#inFlight === 0 && this.#drainWaiters.length > 0) this.#drained();
  }

  /**
   * Runs as a loop task after every batch it queued: takes more, or parks. When a lane
   * with nothing in flight has a record, the pump task *is* that message's task: it
   * delivers it itself, last (so a message found by a polling pump runs in the same turn,
   * not one turn later). Its lane's later records are queued behind it, so FIFO holds.
   */
  readonly #pump = (): void => {
    this.#pumpQueued = false;
    if (this.#closed) return;
    this.#pumps++;
    const inline = this.#claimOne();
    this.#takeOrPark();
    if (inline >= 0) this.#deliver(inline);
  };

  /** Takes the oldest record of a lane that has nothing in flight (round robin); returns the lane index, or -1. */
  #claimOne(): number {
    const i32 = this.#i32;
    const table = this.#table;
    table.sync();
    const active = table.active;
    const count = active.length;
    for (let k = 0; k < count; k++) {
      const lane = active[(table.rr + k) % count]!;
      if (lane.inFlight !== 0) continue;
      let taken = lane.taken;
      for (;;) {
        if (taken === lane.tail) {
          lane.tail = Atomics.load(i32, lane.tailIndex) & COUNTER_MASK;
          if (taken === lane.tail) break;
        }
        const at = lane.data + (taken & lane.mask);
        const size = recordBytes(i32[(at >> 2) + 1]!);
        if (!(size <= ((lane.tail - taken) & COUNTER_MASK))) {
          this.#corrupt(lane, size);
          break;
        }
        taken = lane.taken = (taken + size) & COUNTER_MASK;
        if ((i32[at >> 2]! & 0xff) === TAG_PAD) continue;
        lane.inFlight++;
        this.#inFlight++;
        return lane.index;
      }
    }
    return -1;
  }

  #takeOrPark(): void {
    const taken = this.#take(this.#window);
    if (taken > 0 || this.#inFlight > 0) {
      this.#lastWorkAt = this.#lingerMs > 0 ? performance.now() : 0;
      this.#queuePump();
    } else if (
      this.#lingerMs > 0 &&
      performance.now() - this.#lastWorkAt < this.#lingerMs &&
      this.#loop.accepting
    ) {
      this.#queuePump();
    } else {
      this.#park();
    }
  }

  #queuePump(): void {
    if (this.#pumpQueued || this.#table.sealed) return;
    try {
      this.#loop.queueTask(this.#pump, 0);
      this.#pumpQueued = true;
    } catch {
      // The loop refused (closing, or its task capacity is exhausted): the fallback timer retries.
    }
  }

  /**
   * Moves published records into the loop's task queue, round robin over the lanes,
   * `quantum` per lane, until `window` are queued. Returns how many it queued.
   */
  #take(window: number): number {
    const table = this.#table;
    table.sync();
    const active = table.active;
    const count = active.length;
    let queued = 0;
    // Rounds of `quantum` per lane until the window is full or a round finds nothing.
    for (let progress = true; progress && this.#inFlight < window; ) {
      progress = false;
      for (let k = 0; k < count && this.#inFlight < window; k++) {
        const lane = active[(table.rr + k) % count]!;
        const n = this.#takeLane(lane, window);
        if (n > 0) {
          queued += n;
          progress = true;
        }
        // A closed lane that is now drained is freed by the next refresh.
        if (lane.state === LANE_CLOSED && lane.inFlight === 0 && lane.taken === lane.tail)
          table.invalidate();
      }
      if (count > 0) table.rr = (table.rr + 1) % count;
    }
    return queued;
  }

  #takeLane(lane: Lane, window: number): number {
    const i32 = this.#i32;
    const quantum = this.#quantum;
    let taken = lane.taken;
    let tail = lane.tail;
    let queued = 0;
    while (queued < quantum && this.#inFlight < window) {
      if (taken === tail) {
        tail = lane.tail = Atomics.load(i32, lane.tailIndex) & COUNTER_MASK;
        if (taken === tail) break;
      }
      const at = lane.data + (taken & lane.mask);
      const size = recordBytes(i32[(at >> 2) + 1]!);
      if (!(size <= ((tail - taken) & COUNTER_MASK))) {
        this.#corrupt(lane, size);
        return queued;
      }
      if ((i32[at >> 2]! & 0xff) !== TAG_PAD) {
        try {
          this.#loop.queueTask(this.#deliver, lane.index);
        } catch {
          // Refused (the loop is closing, or its task capacity is exhausted): the record
          // stays in its lane; the fallback timer retries, close() counts it.
          this.#refused = true;
          return queued;
        }
        this.#inFlight++;
        lane.inFlight++;
        queued++;
      }
      taken = lane.taken = (taken + size) & COUNTER_MASK;
    }
    return queued;
  }

  /**
   * A record claims to be longer than what its producer published: only code writing into
   * the shared buffer outside `openIngress` can do that. The lane is retired (its producer
   * can publish nothing more) and the error reported through a loop task.
   */
  #corrupt(lane: Lane, size: number): void {
    const error = new RangeError(
      `ingress: corrupt record in the lane of producer ${lane.id} (${size} B, beyond what it published); ` +
        "the lane is retired and its remaining records dropped.",
    );
    lane.retireNow(this.#i32);
    Atomics.add(this.#i32, H_EPOCH, 1);
    try {
      this.#loop.queueTask(() => {
        throw error;
      }, 0);
    } catch {
      // the loop is closing: nobody to tell
    }
  }

  // ---- parking and waking -------------------------------------------------------------------

  #park(): void {
    if (this.#closed) return;
    const i32 = this.#i32;
    const seq = Atomics.load(i32, H_WAKE_SEQ);
    Atomics.store(i32, H_CONSUMER, CONSUMER_PARKED);
    // Dekker: PARKED is stored before the lanes are re-read; a producer publishes before it
    // reads the consumer word. One of the two sees the other.
    if (this.#table.pending()) {
      Atomics.store(i32, H_CONSUMER, CONSUMER_AWAKE);
      this.#parked = false;
      this.#kick();
      return;
    }
    if (!this.#parked) this.#parks++;
    this.#parked = true;
    if (hasWaitAsync && !this.#waiting) {
      const result = waitAsync!(i32, H_WAKE_SEQ, seq);
      if (result.async) {
        this.#waiting = true;
        (result.value as Promise<string>).then(this.#onWaitEnded);
      } else {
        hostQueueMicrotask(this.#wake); // the sequence moved already: a producer woke us
      }
    }
  }

  readonly #onWaitEnded = (): void => {
    this.#waiting = false;
    this.#wake();
  };

  /** A producer (or the fallback timer) woke the parked consumer: take what is there. */
  readonly #wake = (): void => {
    if (this.#closed || !this.#parked) return;
    this.#wakeups++;
    this.#parked = false;
    Atomics.store(this.#i32, H_CONSUMER, CONSUMER_AWAKE);
    if (!this.#loop.accepting) return;
    try {
      this.#takeOrPark();
    } catch (error) {
      this.#park();
      throw error;
    }
  };

  /** Make sure a pump runs soon (from outside a pump: a retire, a refused park). */
  #kick(): void {
    if (this.#parked) {
      hostQueueMicrotask(this.#wake);
      return;
    }
    if (this.#loop.accepting) this.#queuePump();
  }

  /** The fallback: re-check while parked; free retired lanes whose grace ended. */
  readonly #poll = (): void => {
    if (this.#closed) return;
    if (this.#refused || (!this.#parked && !this.#pumpQueued)) {
      // The loop refused a task earlier (capacity): try again.
      this.#refused = false;
      if (this.#loop.accepting) this.#takeOrPark();
      return;
    }
    if (this.#parked) {
      // Retired lanes waiting for their grace period: look at them again.
      if (this.#table.active.some((lane) => lane.state === LANE_RETIRED)) this.#table.invalidate();
      if (this.#table.pending()) this.#wake();
    }
  };

  // ---- closing -------------------------------------------------------------------------------

  #assertOpen(action: string): void {
    if (this.#table.sealed) throw new IngressClosedError(action, "the ingress is closed");
  }

  /**
   * Closes now: seals the lanes (later posts throw IngressClosedError) and drops every
   * accepted message that has not run, counting it. Tasks already queued for it run as
   * no-ops, so no handler runs after `close()` returns. Idempotent.
   * @returns What happened to the messages.
   */
  close(): IngressReport {
    if (this.#report !== undefined) return this.#report;
    this.#table.seal();
    const producers = this.#table.undelivered();
    let undelivered = 0;
    for (const producer of producers) undelivered += producer.undelivered;
    this.#report = { delivered: this.#delivered, undelivered, producers };
    this.#closed = true;
    this.#parked = false;
    this.#syncRef();
    this.#unregister();
    // Release a pending Atomics.waitAsync (it would otherwise hold the buffer until a post).
    Atomics.add(this.#i32, H_WAKE_SEQ, 1);
    Atomics.notify(this.#i32, H_WAKE_SEQ);
    this.#drained();
    return this.#report;
  }

  /**
   * Closes gracefully: seals the lanes (later posts throw IngressClosedError), runs every
   * message accepted before that as a loop task, then closes.
   * @returns The report; `undelivered` is 0 unless the loop closed first.
   */
  shutdown(): Promise<IngressReport> {
    if (this.#report !== undefined) return Promise.resolve(this.#report);
    this.#table.seal();
    this.#takeAll();
    if (this.#inFlight === 0) return Promise.resolve(this.close());
    return new Promise((resolve) => {
      this.#drainWaiters.push(() => resolve(this.close()));
    });
  }

  /** Queues every sealed record as a task (graceful shutdown); what the loop refuses stays counted. */
  #takeAll(): void {
    try {
      while (this.#take(Infinity) > 0);
    } catch {
      // The loop refused (closing, capacity): close() counts the rest.
    }
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** @internal IngressLoopClient: the loop begins to close. */
  loopClosing(graceful: boolean): void {
    if (this.#report !== undefined) return;
    if (graceful) void this.shutdown();
    else this.close();
  }

  /** @internal IngressLoopClient: the loop closed. */
  loopClosed(): IngressCounts {
    const report = this.close();
    return { delivered: report.delivered, undelivered: report.undelivered };
  }
}
