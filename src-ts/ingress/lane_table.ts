/**
 * The consumer's table of lanes: which producer lanes exist and which may hold records.
 * The lane states live in shared memory (layout.ts); producers opening or closing a lane
 * bump the header's epoch, and the table re-reads the states only when the epoch moved
 * (`sync()`), so the hot path costs one atomic load.
 *
 * - `active`: the lanes that may hold records, in round-robin order (`rr`);
 * - a closed or retired lane is freed once it is drained (a retired one only after the
 *   grace period, when its producer can no longer write), never while the table is sealed;
 * - `reserve`/`retire` are the pool's: a lane claimed for a producer the loop starts, and
 *   retired when that producer dies.
 *
 * @module
 */

import { Lane, sealLane } from "./consumer_lane.ts";
import {
  COUNTER_MASK,
  H_EPOCH,
  H_STATE,
  INGRESS_CLOSED,
  L_GENERATION,
  L_HEAD,
  L_STATE,
  L_WANT_SPACE,
  LANE_CLOSED,
  LANE_FREE,
  LANE_OPEN,
  LANE_OPENING,
  LANE_RETIRED,
  LANES_MAX,
  laneWord,
  portId,
} from "./layout.ts";

export class LaneTable {
  readonly #i32: Int32Array;
  /** Lanes in the buffer (the ingress's `producers`). */
  readonly count: number;
  readonly #laneBytes: number;
  readonly #retireGraceMs: number;
  /** Consumer state of every lane index (undefined: free). */
  readonly lanes: Array<Lane | undefined>;
  /** Lanes that may hold records, in round-robin order. */
  active: Lane[] = [];
  /** Where the next round of the round robin starts. */
  rr = 0;
  /** Every lane is sealed (the ingress is closing): nothing is freed any more. */
  sealed = false;
  #epochSeen = -1;

  constructor(i32: Int32Array, count: number, laneBytes: number, retireGraceMs: number) {
    this.#i32 = i32;
    this.count = count;
    this.#laneBytes = laneBytes;
    this.#retireGraceMs = retireGraceMs;
    this.lanes = new Array(count).fill(undefined);
  }

  /** Re-reads the lanes if the epoch moved since the last time. */
  sync(): void {
    if (Atomics.load(this.#i32, H_EPOCH) !== this.#epochSeen) this.refresh();
  }

  /** The next `sync()` re-reads the lanes (a lane may be free to go). */
  invalidate(): void {
    this.#epochSeen = -1;
  }

  /** Re-reads lane states: new lanes join, drained closed ones are freed. */
  refresh(): void {
    const i32 = this.#i32;
    this.#epochSeen = Atomics.load(i32, H_EPOCH);
    const active: Lane[] = [];
    const now = performance.now();
    for (let index = 0; index < this.count; index++) {
      const state = Atomics.load(i32, laneWord(index, L_STATE));
      let lane = this.lanes[index];
      if (state === LANE_FREE || state === LANE_OPENING) {
        if (lane !== undefined && lane.inFlight === 0) this.lanes[index] = lane = undefined;
        if (lane === undefined) continue;
      }
      const generation = Atomics.load(i32, laneWord(index, L_GENERATION));
      if (lane === undefined || (lane.id !== portId(index, generation) && lane.inFlight === 0)) {
        lane = this.lanes[index] = new Lane(
          i32,
          this.count,
          this.#laneBytes,
          index,
          generation,
          state,
        );
        if (state === LANE_RETIRED) lane.retiredAt = now;
      }
      if (state === LANE_RETIRED && lane.state !== LANE_RETIRED) lane.retiredAt = now;
      lane.state = state;
      if (state !== LANE_OPEN && lane.inFlight === 0 && lane.drained(i32)) {
        if (this.#free(lane, now)) {
          this.lanes[index] = undefined;
          continue;
        }
      }
      active.push(lane);
    }
    this.active = active;
  }

  /** Frees a drained lane (a retired one after its grace period); returns whether it did. */
  #free(lane: Lane, now: number): boolean {
    if (this.sealed || !lane.free(this.#i32, now, this.#retireGraceMs)) return false;
    this.#epochSeen = Atomics.add(this.#i32, H_EPOCH, 1) + 1;
    return true;
  }

  /** Whether a producer published something not yet taken (or lanes changed). */
  pending(): boolean {
    const i32 = this.#i32;
    if (Atomics.load(i32, H_EPOCH) !== this.#epochSeen) return true;
    for (const lane of this.active) {
      if ((Atomics.load(i32, lane.tailIndex) & COUNTER_MASK) !== lane.taken) return true;
    }
    return false;
  }

  /**
   * Claims a free lane for a producer the loop starts.
   * @returns the lane index and its new generation.
   * @throws {RangeError} when every lane is taken.
   */
  reserve(): { lane: number; generation: number } {
    const i32 = this.#i32;
    for (let lane = 0; lane < this.count; lane++) {
      const stateIndex = laneWord(lane, L_STATE);
      if (Atomics.compareExchange(i32, stateIndex, LANE_FREE, LANE_OPENING) !== LANE_FREE) continue;
      const generation = Atomics.add(i32, laneWord(lane, L_GENERATION), 1) + 1;
      Atomics.store(i32, laneWord(lane, L_WANT_SPACE), 0);
      Atomics.store(i32, stateIndex, LANE_OPEN);
      Atomics.add(i32, H_EPOCH, 1);
      return { lane, generation };
    }
    throw new RangeError(`ingress.reserve: all ${this.count} producer lanes are in use.`);
  }

  /**
   * Seals and retires the lane of producer `id` (an open or closed lane of that
   * generation; anything else is ignored) and re-reads the table.
   * @returns whether it retired the lane.
   */
  retire(id: number): boolean {
    const index = id % LANES_MAX;
    if (!(index >= 0 && index < this.count)) return false;
    const i32 = this.#i32;
    const stateIndex = laneWord(index, L_STATE);
    const state = Atomics.load(i32, stateIndex);
    if (portId(index, Atomics.load(i32, laneWord(index, L_GENERATION))) !== id) return false;
    if (state !== LANE_OPEN && state !== LANE_CLOSED) return false;
    sealLane(i32, index);
    const known = this.lanes[index];
    if (known !== undefined) known.retiredAt = performance.now(); // before the refresh: its grace starts now
    Atomics.store(i32, stateIndex, LANE_RETIRED);
    Atomics.add(i32, H_EPOCH, 1);
    this.refresh();
    return true;
  }

  /** Seals every lane: from now on `post` fails, and what was published before is fixed. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    const i32 = this.#i32;
    Atomics.store(i32, H_STATE, INGRESS_CLOSED);
    for (let index = 0; index < this.count; index++) {
      sealLane(i32, index);
      Atomics.store(i32, laneWord(index, L_WANT_SPACE), 0);
      Atomics.notify(i32, laneWord(index, L_HEAD)); // producers blocked in postWait see the seal
    }
    this.refresh();
  }

  /** Accepted messages that will not run (in flight, or still in the lanes), per producer. */
  undelivered(): Array<{ id: number; undelivered: number }> {
    const i32 = this.#i32;
    const producers: Array<{ id: number; undelivered: number }> = [];
    for (const lane of this.lanes) {
      if (lane === undefined) continue;
      const tail = Atomics.load(i32, lane.tailIndex) & COUNTER_MASK;
      const count = lane.inFlight + lane.countRecords(i32, lane.taken, tail);
      if (count > 0) producers.push({ id: lane.id, undelivered: count });
    }
    return producers;
  }
}
