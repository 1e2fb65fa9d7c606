/**
 * The consumer's view of one producer lane (layout.ts): its positions as the loop last
 * saw them, what is in flight, and the lane-local steps of consuming, retiring and
 * freeing it. Only the loop thread touches a `Lane`; the shared words it reads and
 * writes are the lane's tail (the producer's), head, state and want-space words.
 *
 * @module
 */

import {
  COUNTER_MASK,
  L_HEAD,
  L_STATE,
  L_TAIL,
  L_WANT_SPACE,
  LANE_CLOSED,
  LANE_FREE,
  LANE_RETIRED,
  laneData,
  laneWord,
  portId,
  RECORD_HEADER_BYTES,
  recordBytes,
  SEALED,
  TAG_PAD,
} from "./layout.ts";

/** The consumer's view of one lane. */
export class Lane {
  readonly index: number;
  readonly id: number;
  readonly tailIndex: number;
  readonly headIndex: number;
  readonly stateIndex: number;
  readonly wantIndex: number;
  readonly data: number;
  readonly mask: number;
  readonly halfBytes: number;
  /** Consumed up to here (u31): stored to L_HEAD after every record. */
  head: number;
  /** Queued as tasks up to here (u31). */
  taken: number;
  /** The tail as last loaded, seal bit removed. */
  tail: number;
  /** Taken, not yet delivered. */
  inFlight = 0;
  /** Records consumed since the head was last stored to L_HEAD. */
  unpublished = 0;
  /** Called (in a loop task) once a retired lane delivered everything it published. */
  whenDrained: (() => void) | undefined;
  /** Whether a retired lane may be reused (its producer can no longer write); checked after the grace period. */
  reusable: (() => boolean) | undefined;
  /** LANE_OPEN, LANE_CLOSED or LANE_RETIRED as last seen. */
  state: number;
  retiredAt = 0;

  constructor(
    i32: Int32Array,
    lanes: number,
    laneBytes: number,
    index: number,
    generation: number,
    state: number,
  ) {
    this.index = index;
    this.id = portId(index, generation);
    this.tailIndex = laneWord(index, L_TAIL);
    this.headIndex = laneWord(index, L_HEAD);
    this.stateIndex = laneWord(index, L_STATE);
    this.wantIndex = laneWord(index, L_WANT_SPACE);
    this.data = laneData(lanes, laneBytes, index);
    this.mask = laneBytes - 1;
    this.halfBytes = laneBytes >> 1;
    this.head = this.taken = Atomics.load(i32, this.headIndex);
    this.tail = Atomics.load(i32, this.tailIndex) & COUNTER_MASK;
    this.state = state;
  }

  /** Whether every record the producer published was consumed (reloads the tail). */
  drained(i32: Int32Array): boolean {
    this.tail = Atomics.load(i32, this.tailIndex) & COUNTER_MASK;
    return this.head === this.tail && this.taken === this.tail;
  }

  /** Records (not padding) between `from` and `to`. */
  countRecords(i32: Int32Array, from: number, to: number): number {
    let count = 0;
    for (let at = from; at !== to; ) {
      const offset = this.data + (at & this.mask);
      const size = recordBytes(i32[(offset >> 2) + 1]!);
      if (size < RECORD_HEADER_BYTES || size > ((to - at) & COUNTER_MASK)) break; // corrupt: stop counting
      if ((i32[offset >> 2]! & 0xff) !== TAG_PAD) count++;
      at = (at + size) & COUNTER_MASK;
    }
    return count;
  }

  /**
   * The head moved: a producer waiting for room is woken once half the lane is free,
   * measured against its real tail (the consumer's cached one can be far behind: waking it
   * for 64 records of room made producer and consumer trade a futex wake every 64 messages).
   */
  roomFreed(i32: Int32Array): void {
    const tail = Atomics.load(i32, this.tailIndex) & COUNTER_MASK;
    if (((tail - this.head) & COUNTER_MASK) > this.halfBytes) return;
    Atomics.store(i32, this.wantIndex, 0);
    Atomics.notify(i32, this.headIndex);
  }

  /** Seals and retires this lane now, skipping everything it published (a corrupt record). */
  retireNow(i32: Int32Array): void {
    sealLane(i32, this.index);
    Atomics.store(i32, this.stateIndex, LANE_RETIRED);
    this.state = LANE_RETIRED;
    this.retiredAt = performance.now();
    this.taken = this.tail = Atomics.load(i32, this.tailIndex) & COUNTER_MASK;
    if (this.inFlight === 0) this.head = this.taken;
  }

  /**
   * Frees this drained lane for a new producer (a retired one only after `graceMs` and
   * once `reusable()` allows it); returns whether it did.
   */
  free(i32: Int32Array, now: number, graceMs: number): boolean {
    if (this.state === LANE_RETIRED) {
      if (now - this.retiredAt < graceMs || (this.reusable !== undefined && !this.reusable()))
        return false;
      Atomics.store(i32, this.tailIndex, this.head); // unseal: the next owner continues from here
      return (
        Atomics.compareExchange(i32, this.stateIndex, LANE_RETIRED, LANE_FREE) === LANE_RETIRED
      );
    }
    return Atomics.compareExchange(i32, this.stateIndex, LANE_CLOSED, LANE_FREE) === LANE_CLOSED;
  }
}

/** Sets the seal bit of lane `index`'s tail (compare-and-swap: a concurrent publish lands before it or fails). */
export function sealLane(i32: Int32Array, index: number): void {
  const tailIndex = laneWord(index, L_TAIL);
  for (;;) {
    const tail = Atomics.load(i32, tailIndex);
    if (
      (tail & SEALED) !== 0 ||
      Atomics.compareExchange(i32, tailIndex, tail, tail | SEALED) === tail
    )
      return;
  }
}
