/**
 * HandleMirror: the JS side of the core's handle table. The core issues ids for
 * timers, intervals and immediates and keeps their order; this mirror keeps what
 * only JS can hold (the callback, its arguments, the Node `Timeout` object) at
 * slot `id & mask`, the same addressing the core uses.
 *
 * Live ids are distinct modulo the core's capacity, and the core's capacity is a
 * power of two, so a mirror at least that large never sees two live ids in one
 * slot. The mirror starts small; when a new id lands on an occupied slot it grows
 * to the core's current capacity (asking once) and re-places every entry.
 *
 * Everything is in parallel arrays (typed where possible): storing and clearing a
 * handle allocates nothing on the JS heap.
 *
 * @module
 */

/** What a mirror slot holds. 0 = empty. */
export const Kind = {
  empty: 0,
  timeout: 1,
  interval: 2,
  immediate: 3,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export class HandleMirror {
  mask: number;
  ids: Int32Array;
  kinds: Uint8Array;
  /** 1 when the handle keeps the loop alive (Node's ref/unref). */
  refs: Uint8Array;
  /** HTML timer nesting level of the task this timer will run as (capped at 255). */
  nesting: Uint8Array;
  /** The timer's delay in ms, after coercion and clamping. */
  delays: Int32Array;
  fns: Array<Function | undefined>;
  args: Array<unknown[] | undefined>;
  /** The Node profile's Timeout/Immediate object, the `this` of its callback. */
  objects: Array<object | undefined>;
  #live = 0;

  /** The core's handle-table capacity: the mirror grows straight to it, never beyond what it needs. */
  readonly #coreCapacity: () => number;

  constructor(coreCapacity: () => number, initialCapacity = 64) {
    this.#coreCapacity = coreCapacity;
    this.mask = initialCapacity - 1;
    this.ids = new Int32Array(initialCapacity);
    this.kinds = new Uint8Array(initialCapacity);
    this.refs = new Uint8Array(initialCapacity);
    this.nesting = new Uint8Array(initialCapacity);
    this.delays = new Int32Array(initialCapacity);
    this.fns = new Array(initialCapacity).fill(undefined);
    this.args = new Array(initialCapacity).fill(undefined);
    this.objects = new Array(initialCapacity).fill(undefined);
  }

  get live(): number {
    return this.#live;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** The slot of a live `id` of one of `kinds`, or -1. */
  find(id: number): number {
    const slot = id & this.mask;
    return this.ids[slot] === id && this.kinds[slot] !== Kind.empty ? slot : -1;
  }

  /** Stores a new handle; returns its slot. */
  store(
    id: number,
    kind: Kind,
    fn: Function,
    args: unknown[] | undefined,
    ref: boolean,
    nesting: number,
    delay: number,
    object: object | undefined,
  ): number {
    let slot = id & this.mask;
    if (this.kinds[slot] !== Kind.empty) slot = this.#growFor(id);
    this.ids[slot] = id;
    this.kinds[slot] = kind;
    this.refs[slot] = ref ? 1 : 0;
    this.nesting[slot] = Math.min(nesting, 255);
    this.delays[slot] = delay;
    this.fns[slot] = fn;
    this.args[slot] = args;
    this.objects[slot] = object;
    this.#live++;
    return slot;
  }

  /** The slot of `id` after growing until it is free (kept off the hot path). */
  #growFor(id: number): number {
    do this.#grow();
    while (this.kinds[id & this.mask] !== Kind.empty);
    return id & this.mask;
  }

  /** Empties `slot`. */
  clear(slot: number): void {
    this.kinds[slot] = Kind.empty;
    this.fns[slot] = undefined;
    this.args[slot] = undefined;
    this.objects[slot] = undefined;
    this.#live--;
  }

  /**
   * Empties every slot (of the kinds `predicate` accepts); calls `released` with each
   * stored object (to notify it) and returns how many of the cleared entries were ref'd.
   */
  clearAll(predicate: (kind: Kind) => boolean, released: (object: object) => void): number {
    let refs = 0;
    for (let slot = 0; slot <= this.mask; slot++) {
      const kind = this.kinds[slot] as Kind;
      if (kind === Kind.empty || !predicate(kind)) continue;
      const object = this.objects[slot];
      refs += this.refs[slot]!;
      this.clear(slot);
      if (object !== undefined) released(object);
    }
    return refs;
  }

  /**
   * Doubles the capacity (more than once if live ids still collide) and re-places
   * every entry at `id & newMask`.
   */
  #grow(): void {
    const oldCapacity = this.mask + 1;
    let capacity = Math.max(oldCapacity * 2, this.#coreCapacity());
    for (;;) {
      const mask = capacity - 1;
      const ids = new Int32Array(capacity);
      const kinds = new Uint8Array(capacity);
      let collided = false;
      for (let slot = 0; slot < oldCapacity; slot++) {
        if (this.kinds[slot] === Kind.empty) continue;
        const to = this.ids[slot]! & mask;
        if (kinds[to] !== Kind.empty) {
          collided = true;
          break;
        }
        ids[to] = this.ids[slot]!;
        kinds[to] = this.kinds[slot]!;
      }
      if (collided) {
        capacity *= 2;
        continue;
      }
      const refs = new Uint8Array(capacity);
      const nesting = new Uint8Array(capacity);
      const delays = new Int32Array(capacity);
      const fns: Array<Function | undefined> = new Array(capacity).fill(undefined);
      const args: Array<unknown[] | undefined> = new Array(capacity).fill(undefined);
      const objects: Array<object | undefined> = new Array(capacity).fill(undefined);
      for (let slot = 0; slot < oldCapacity; slot++) {
        if (this.kinds[slot] === Kind.empty) continue;
        const to = this.ids[slot]! & mask;
        refs[to] = this.refs[slot]!;
        nesting[to] = this.nesting[slot]!;
        delays[to] = this.delays[slot]!;
        fns[to] = this.fns[slot];
        args[to] = this.args[slot];
        objects[to] = this.objects[slot];
      }
      this.mask = mask;
      this.ids = ids;
      this.kinds = kinds;
      this.refs = refs;
      this.nesting = nesting;
      this.delays = delays;
      this.fns = fns;
      this.args = args;
      this.objects = objects;
      return;
    }
  }
}
