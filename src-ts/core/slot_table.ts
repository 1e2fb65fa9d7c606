/**
 * SlotTable: JS values (a callback and its argument) stored by small integer
 * slot, so that the Wasm core can queue plain u32s (tasks, microtasks) while the
 * values stay on the JS side. Free slots form a stack in an Int32Array, so
 * steady-state alloc/release allocates nothing on the JS heap.
 *
 * Costs: alloc O(1) amortized (the arrays double when full), release O(1).
 *
 * @module
 */

export class SlotTable {
  /** The callback stored in each slot; `undefined` when the slot is free. */
  fns: Array<((arg?: any) => void) | undefined>;
  /** The argument stored with each callback. */
  args: unknown[];
  #free: Int32Array;
  #freeTop: number;
  #live = 0;

  constructor(initialCapacity = 64) {
    this.fns = new Array(initialCapacity).fill(undefined);
    this.args = new Array(initialCapacity).fill(undefined);
    this.#free = new Int32Array(initialCapacity);
    for (let i = 0; i < initialCapacity; i++) this.#free[i] = initialCapacity - 1 - i;
    this.#freeTop = initialCapacity;
  }

  /** Number of occupied slots. */
  get live(): number {
    return this.#live;
  }

  /** Capacity: slots allocated so far (occupied or free). */
  get capacity(): number {
    return this.fns.length;
  }

  /** Stores `fn` and `arg`; returns the slot. */
  alloc(fn: (arg?: any) => void, arg: unknown): number {
    if (this.#freeTop === 0) this.#grow();
    const slot = this.#free[--this.#freeTop]!;
    this.fns[slot] = fn;
    this.args[slot] = arg;
    this.#live++;
    return slot;
  }

  /** Frees `slot` (the caller has read what it needs). */
  release(slot: number): void {
    this.fns[slot] = undefined;
    this.args[slot] = undefined;
    this.#free[this.#freeTop++] = slot;
    this.#live--;
  }

  /** Frees every slot. */
  clear(): void {
    const capacity = this.fns.length;
    this.fns.fill(undefined);
    this.args.fill(undefined);
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeTop = capacity;
    this.#live = 0;
  }

  #grow(): void {
    const old = this.fns.length;
    const capacity = old * 2;
    for (let i = old; i < capacity; i++) {
      this.fns.push(undefined);
      this.args.push(undefined);
    }
    const free = new Int32Array(capacity);
    // Old slots are all in use; the new ones are free, lowest on top.
    for (let i = 0; i < old; i++) free[i] = capacity - 1 - i;
    this.#free = free;
    this.#freeTop = old;
  }
}
