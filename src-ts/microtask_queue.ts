/**
 * MicrotaskQueue: the host end of the core's microtask ring (src-zig/microtask_ring.zig).
 *
 * The ring lives in linear memory: head, tail, overflow length and the slots are at
 * fixed addresses. The host pushes and pops in place, without a call into the core,
 * and writes every head/tail change through to memory, so the core always sees the
 * true state (its overflow path, verify and stats). Only two cases call the core:
 * a push while the ring is full or the overflow is not empty (`zl_microtask_push`,
 * which appends to the overflow), and a pop from an empty ring while the overflow
 * holds jobs (`zl_microtasks_refill`). Every job in the ring is older than every job
 * in the overflow, so FIFO order holds across both.
 *
 * Values: a slot value of 0 means "the job is in `fns`/`args` at this ring
 * position"; a value n > 0 means "the job is in the overflow SlotTable at n - 1"
 * (it was queued while the ring was full and moved into the ring by a refill).
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
  /** The job taken by the last successful `shift()`. */
  fn: Job | undefined = undefined;
  arg: unknown = undefined;
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
    this.#fns = new Array(this.#mask + 1).fill(undefined);
    this.#args = new Array(this.#mask + 1).fill(undefined);
  }

  /** Jobs queued (ring and overflow). */
  get length(): number {
    if (this.#shared.length === 0) this.#sync();
    return ((this.#tail - this.#head) >>> 0) + (this.#overflowEmpty ? 0 : this.#shared[RingWord.overflow_len]!);
  }

  /** Queues `fn(arg)`. Returns 0, or the core's negative status (capacity, memory, closed). */
  push(fn: Job, arg: unknown): number {
    // Memory grew (any core call may grow it): the old views are detached, length 0.
    if (this.#shared.length === 0) this.#sync();
    const tail = this.#tail;
    const length = (tail - this.#head) >>> 0;
    if (this.#overflowEmpty && length < this.#fastLimit) {
      const position = tail & this.#mask;
      this.#fns[position] = fn;
      this.#args[position] = arg;
      this.#slots[position] = 0;
      const next = (tail + 1) >>> 0;
      this.#tail = next;
      this.#shared[RingWord.tail] = next;
      if (length >= this.peak) this.peak = length + 1;
      return 0;
    }
    return this.#pushOverflow(fn, arg);
  }

  #pushOverflow(fn: Job, arg: unknown): number {
    const slot = this.#overflow.alloc(fn, arg);
    const status = this.#core.zl_microtask_push(slot + 1);
    this.#sync();
    if (status < 0) {
      this.#overflow.release(slot);
      return status;
    }
    const length = this.length;
    if (length > this.peak) this.peak = length;
    return 0;
  }

  /** Takes the oldest job into `fn`/`arg`. False when the queue is empty. */
  shift(): boolean {
    if (this.#shared.length === 0) this.#sync();
    let head = this.#head;
    if (head === this.#tail) {
      if (this.#overflowEmpty) return false;
      this.#core.zl_microtasks_refill();
      this.#sync();
      if (head === this.#tail) return false;
    }
    const position = head & this.#mask;
    const value = this.#slots[position]!;
    if (value === 0) {
      this.fn = this.#fns[position];
      this.arg = this.#args[position];
      this.#fns[position] = undefined;
      this.#args[position] = undefined;
    } else {
      const slot = value - 1;
      this.fn = this.#overflow.fns[slot];
      this.arg = this.#overflow.args[slot];
      this.#overflow.release(slot);
    }
    head = (head + 1) >>> 0;
    this.#head = head;
    this.#shared[RingWord.head] = head;
    this.executed++;
    return true;
  }

  /** Drops every job (the core has released its side: close). */
  clear(): void {
    this.#sync();
    this.#fns.fill(undefined);
    this.#args.fill(undefined);
    this.#overflow.clear();
    this.fn = undefined;
    this.arg = undefined;
  }

  /** Re-reads the shared state after a core call (and re-creates views if memory grew). */
  #sync(): void {
    const buffer = this.#core.memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#shared = new Uint32Array(buffer, this.#ringAddress, 5);
      this.#slots = new Uint32Array(buffer, this.#shared[RingWord.slots]!, this.#mask + 1);
    }
    this.#head = this.#shared[RingWord.head]!;
    this.#tail = this.#shared[RingWord.tail]!;
    this.#overflowEmpty = this.#shared[RingWord.overflow_len] === 0;
  }

}
