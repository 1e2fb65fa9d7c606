/**
 * MicrotaskQueue: the host end of the core's microtask ring (src-zig/microtask_ring.zig).
 *
 * The ring lives in linear memory: head, tail, overflow length and the slots are at
 * fixed addresses. The host pushes and pops in place, without a call into the core.
 * It caches head and tail in JS and writes them back (`flush()`) before every core
 * call that looks at the ring (overflow, refill, verify, stats, close), so the core
 * sees the true state whenever it runs. Only two cases call the core:
 * a push while the ring is full or the overflow is not empty (`zl_microtask_push`,
 * which appends to the overflow), and a pop from an empty ring while the overflow
 * holds jobs (`zl_microtasks_refill`). Every job in the ring is older than every job
 * in the overflow, so FIFO order holds across both.
 *
 * Values: a slot value of 0 means "the job is in `fns`/`args` at this ring
 * position"; a value n > 0 means "the job is in the overflow SlotTable at n - 1"
 * (it was queued while the ring was full and moved into the ring by a refill).
 * Only refills write non-zero values (the host zeroes a slot when it consumes one),
 * and a refill only fills an empty ring, so the host remembers where the last refill
 * ended and reads slots only before that point: the fast path never touches them.
 *
 * @module
 */


import { type CoreExports, RingWord } from "./_wasm/abi.generated.ts";
import { SlotTable } from "./slot_table.ts";

type Job = (arg?: any) => void;

export class MicrotaskQueue {
  readonly #core: CoreExports;
  readonly #ringAddress: number;
  #buffer: ArrayBufferLike;
  #shared: Uint32Array;
  #slots: Uint32Array;
  readonly #mask: number;
  /** Jobs the fast path may hold: the ring's capacity, or less if capacity.microtasks is smaller. */
  readonly #fastLimit: number;
  #head: number;
  #tail: number;
  #overflowEmpty = true;
  readonly #fns: Array<Job | undefined>;
  readonly #args: unknown[];
  readonly #overflow = new SlotTable(64);
  /** The argument of the job the last `shift()` returned. */
  arg: unknown = undefined;
  /** Ring positions before this index (from the last refill on) came from the overflow. */
  #refilledUntil = 0;
  /** Jobs run since creation (the loop's metrics read it). */
  executed = 0;
  /** The deepest the queue has been (since the last reset). */
  peak = 0;

  constructor(core: CoreExports, microtasksMax: number) {
    this.#core = core;
    this.#ringAddress = core.zl_microtask_ring();
    this.#buffer = core.memory.buffer;
    this.#shared = new Uint32Array(this.#buffer, this.#ringAddress, 5);
    this.#mask = this.#shared[RingWord.mask]!;
    this.#slots = new Uint32Array(this.#buffer, this.#shared[RingWord.slots]!, this.#mask + 1);
    this.#fastLimit = Math.min(this.#mask + 1, microtasksMax);
    this.#head = this.#shared[RingWord.head]!;
    this.#tail = this.#shared[RingWord.tail]!;
    this.#refilledUntil = this.#head;
    this.#fns = new Array(this.#mask + 1).fill(undefined);
    this.#args = new Array(this.#mask + 1).fill(undefined);
  }

  /** Jobs queued (ring and overflow). */
  get length(): number {
    if (this.#shared.length === 0) this.#refreshViews();
    return ((this.#tail - this.#head) >>> 0) + (this.#overflowEmpty ? 0 : this.#shared[RingWord.overflow_len]!);
  }

  /**
   * Queues `fn(arg)`. Returns 0, or the core's negative status (capacity, memory, closed).
   * `force` (promise jobs): accepted past capacity.microtasks, since a resolve function cannot throw.
   */
  push(fn: Job, arg: unknown, force: boolean): number {
    const tail = this.#tail;
    const length = (tail - this.#head) >>> 0;
    if (this.#overflowEmpty && length < (force ? this.#mask + 1 : this.#fastLimit)) {
      const position = tail & this.#mask;
      this.#fns[position] = fn;
      this.#args[position] = arg;
      this.#tail = (tail + 1) >>> 0;
      if (length >= this.peak) this.peak = length + 1;
      return 0;
    }
    return this.#pushOverflow(fn, arg, force);
  }

  #pushOverflow(fn: Job, arg: unknown, force: boolean): number {
    const slot = this.#overflow.alloc(fn, arg);
    this.flush();
    const status = this.#core.zl_microtask_push(slot + 1, force ? 1 : 0);
    this.#sync();
    if (status < 0) {
      this.#overflow.release(slot);
      return status;
    }
    const length = this.length;
    if (length > this.peak) this.peak = length;
    return 0;
  }

  /**
   * Takes the oldest job and returns it (its argument is in `arg`), or undefined when
   * the queue is empty.
   */
  shift(): Job | undefined {
    const head = this.#head;
    if (head === this.#tail) {
      if (this.#overflowEmpty) return undefined;
      this.flush();
      this.#core.zl_microtasks_refill();
      this.#sync();
      if (head === this.#tail) return undefined;
      // The refill filled the empty ring from the overflow: those positions hold slot values.
      this.#refilledUntil = this.#tail;
    }
    const position = head & this.#mask;
    this.#head = (head + 1) >>> 0;
    this.executed++;
    if (((this.#refilledUntil - head) | 0) <= 0) {
      const fn = this.#fns[position];
      this.arg = this.#args[position];
      this.#fns[position] = undefined;
      this.#args[position] = undefined;
      return fn;
    }
    // Moved in from the overflow by a refill: the slot names the overflow SlotTable entry.
    if (this.#slots.length === 0) this.#refreshViews();
    const slot = this.#slots[position]! - 1;
    this.#slots[position] = 0;
    const fn = this.#overflow.fns[slot];
    this.arg = this.#overflow.args[slot];
    this.#overflow.release(slot);
    return fn;
  }

  /** Writes the cached head and tail back to linear memory (before a core call reads them). */
  flush(): void {
    if (this.#shared.length === 0) this.#refreshViews();
    this.#shared[RingWord.head] = this.#head;
    this.#shared[RingWord.tail] = this.#tail;
  }

  /** Drops every job (the core has released its side: close). */
  clear(): void {
    this.#refreshViews();
    this.#sync();
    this.#fns.fill(undefined);
    this.#args.fill(undefined);
    this.#overflow.clear();
    this.arg = undefined;
    this.#refilledUntil = this.#head;
  }

  #refreshViews(): void {
    const buffer = this.#core.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#shared = new Uint32Array(buffer, this.#ringAddress, 5);
    this.#slots = new Uint32Array(buffer, this.#shared[RingWord.slots]!, this.#mask + 1);
  }

  /** Re-reads the shared state after a core call changed it. */
  #sync(): void {
    this.#refreshViews();
    this.#head = this.#shared[RingWord.head]!;
    this.#tail = this.#shared[RingWord.tail]!;
    this.#overflowEmpty = this.#shared[RingWord.overflow_len] === 0;
  }

}
