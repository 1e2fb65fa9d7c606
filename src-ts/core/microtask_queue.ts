/**
 * MicrotaskQueue: the host end of the core's microtask ring (src-zig/microtask_ring.zig).
 *
 * The ring lives in linear memory: head, tail, overflow length and the slots are at
 * fixed addresses. The host pushes and pops in place, without a call into the core.
 * It caches head and tail in JS and writes them back (`flush()`) before every core
 * call that looks at the ring (refill, verify, stats, close), so the core sees the
 * true state whenever it runs. A push while the ring is full or the overflow is not
 * empty (`pushOverflow`) is *staged*: its slot goes into the core's microtask input
 * batch (`Batch.microtasks`, in linear memory), and one `zl_microtask_push_batch`
 * call appends a whole batch to the overflow, when the batch is full or at the next
 * `flush()` (one core call per 512 jobs instead of one per job: bursts past the ring
 * cost ~4x less). Staged jobs count as overflow everywhere (length, capacity, the
 * ring's fast path stays closed while any exist). A pop from an empty ring while the
 * overflow holds jobs flushes, then refills the ring (`zl_microtasks_refill`). Every
 * job in the ring is older than every job in the overflow, and staged jobs are the
 * newest, so FIFO order holds across all three.
 *
 * Values: a slot value of 0 means "the job is in `jobs` at this ring position"
 * (`jobs[2p]` the function, `jobs[2p + 1]` its argument: one array, so a job is one
 * cache line and one bounds check); a value n > 0 means "the job is in the overflow SlotTable at n - 1"
 * (it was queued while the ring was full and moved into the ring by a refill).
 * Only refills write non-zero values (the host zeroes a slot when it consumes one),
 * and a refill only fills an empty ring, so the host remembers where the last refill
 * ended and reads slots only before that point: the fast path never touches them.
 *
 * @module
 */

import {
  BATCH_CAPACITY,
  Batch,
  type CoreExports,
  RING_WORDS,
  RingWord,
  Status,
} from "./abi.generated.ts";
import { takeSpareJobs } from "./instance_pool.ts";
import { SlotTable } from "./slot_table.ts";

type Job = (arg?: any) => void;

/** Where a detached queue's views point (see `detach`). */
const DETACHED_RING = new Uint32Array(RING_WORDS);
/** A detached queue's job array (it runs no job any more). */
const NO_JOBS: unknown[] = [];

export class MicrotaskQueue {
  #core: CoreExports;
  readonly #ringAddress: number;
  #buffer: ArrayBufferLike;
  #shared: Uint32Array;
  #slots: Uint32Array;
  readonly #mask: number;
  /** Jobs the fast path may hold: the ring's capacity, or less if capacity.microtasks is smaller. */
  readonly #fastLimit: number;
  /** capacity.microtasks: checked here for every job that is not forced (see pushOverflow). */
  readonly #max: number;
  /** The core's microtask input batch (overflow slots waiting for zl_microtask_push_batch). */
  #staged: Uint32Array;
  readonly #stagedAddress: number;
  #stagedCount = 0;
  #head: number;
  #tail: number;
  #overflowEmpty = true;
  /** Interleaved function and argument per ring position (see the module comment). */
  #jobs: unknown[];
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
    this.#shared = new Uint32Array(this.#buffer, this.#ringAddress, RING_WORDS);
    this.#mask = this.#shared[RingWord.mask]!;
    this.#slots = new Uint32Array(this.#buffer, this.#shared[RingWord.slots]!, this.#mask + 1);
    this.#fastLimit = Math.min(this.#mask + 1, microtasksMax);
    this.#max = microtasksMax;
    this.#stagedAddress = core.zl_batch_ptr(Batch.microtasks);
    this.#staged = new Uint32Array(this.#buffer, this.#stagedAddress, BATCH_CAPACITY);
    this.#head = this.#shared[RingWord.head]!;
    this.#tail = this.#shared[RingWord.tail]!;
    this.#refilledUntil = this.#head;
    // A closed loop's array, if its core came with one (all undefined: cleared at close).
    const spare = takeSpareJobs(core);
    this.#jobs =
      spare !== undefined && spare.length === 2 * (this.#mask + 1)
        ? spare
        : new Array(2 * (this.#mask + 1)).fill(undefined);
  }

  /** Jobs queued (ring and overflow). */
  get length(): number {
    if (this.#shared.length === 0) this.#refreshViews();
    return (
      ((this.#tail - this.#head) >>> 0) +
      (this.#overflowEmpty ? 0 : this.#shared[RingWord.overflow_len]! + this.#stagedCount)
    );
  }

  /**
   * Queues `fn(arg)` in the ring if it fits without the core (the fast path, no core
   * call and nothing that can throw). Returns false when the caller must use
   * {@link pushOverflow}. `force` (promise jobs): accepted past capacity.microtasks,
   * since a resolve function cannot throw.
   */
  tryPush(fn: Job, arg: unknown, force: boolean): boolean {
    const tail = this.#tail;
    const length = (tail - this.#head) >>> 0;
    if (!this.#overflowEmpty || length >= (force ? this.#mask + 1 : this.#fastLimit)) return false;
    const index = (tail & this.#mask) << 1;
    this.#jobs[index] = fn;
    if (arg !== undefined) this.#jobs[index + 1] = arg; // consumed slots hold undefined (shift)
    this.#tail = (tail + 1) >>> 0;
    if (length >= this.peak) this.peak = length + 1;
    return true;
  }

  /**
   * Queues `fn(arg)` behind the ring: staged for the core's overflow. Returns 0, or
   * `Status.microtasks_full` when capacity.microtasks is reached and `force` is false
   * (the check the core made per job before staging; the core's batch call trusts it),
   * or the core's status when a full batch could not be appended (memory, closed).
   */
  pushOverflow(fn: Job, arg: unknown, force: boolean): number {
    const length = this.length;
    if (!force && length >= this.#max) return Status.microtasks_full;
    if (this.#stagedCount === BATCH_CAPACITY) {
      const status = this.#pushStaged();
      if (status < 0) return status;
    }
    if (this.#staged.length === 0) this.#refreshViews();
    this.#staged[this.#stagedCount++] = this.#overflow.alloc(fn, arg) + 1;
    this.#overflowEmpty = false;
    if (length >= this.peak) this.peak = length + 1;
    return 0;
  }

  /**
   * Appends the staged slots to the core's overflow (one call). Returns 0, or a status
   * if not one could be appended (the staged jobs then stay staged: nothing is lost,
   * and the next flush tries again).
   */
  #pushStaged(): number {
    const count = this.#stagedCount;
    if (count === 0) return 0;
    this.#writeHeadTail();
    const pushed = this.#core.zl_microtask_push_batch(count);
    if (pushed < 0) {
      this.#sync();
      return pushed;
    }
    if (this.#staged.length === 0) this.#refreshViews(); // the push grew memory
    if (pushed < count) this.#staged.copyWithin(0, pushed, count);
    this.#stagedCount = count - pushed;
    this.#sync();
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
      if (head === this.#tail && !this.#ringFromStaged()) return undefined;
      // The refill filled the empty ring from the overflow: those positions hold slot values.
      this.#refilledUntil = this.#tail;
    }
    const position = head & this.#mask;
    this.#head = (head + 1) >>> 0;
    this.executed++;
    if (((this.#refilledUntil - head) | 0) <= 0) {
      const jobs = this.#jobs;
      const index = position << 1;
      const fn = jobs[index] as Job;
      const arg = jobs[index + 1];
      jobs[index] = undefined;
      if (arg !== undefined) jobs[index + 1] = undefined;
      this.arg = arg;
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

  /**
   * Runs jobs oldest first (jobs queued meanwhile included) until the queue is empty,
   * `limit` jobs have run, or {@link clear} emptied it (the loop closed). A job that
   * throws goes to `report` and the next job runs. Returns how many jobs ran.
   */
  runJobs(limit: number, report: (error: unknown) => void): number {
    let ran = 0;
    while (ran < limit) {
      const fn = this.shift();
      if (fn === undefined) break;
      const arg = this.arg;
      ran++;
      try {
        if (arg === undefined) fn();
        else fn(arg);
      } catch (error) {
        report(error);
      }
    }
    this.arg = undefined;
    return ran;
  }

  /**
   * The ring and the core's overflow are empty but jobs are still staged: the core
   * could not take them (out of memory). They are the oldest jobs left, so they go
   * straight into the ring as slot values, like a refill would put them. Returns
   * whether any did.
   */
  #ringFromStaged(): boolean {
    const count = Math.min(this.#stagedCount, this.#mask + 1);
    if (count === 0 || this.#shared[RingWord.overflow_len] !== 0) return false;
    if (this.#slots.length === 0) this.#refreshViews();
    for (let i = 0; i < count; i++) {
      this.#slots[(this.#tail + i) & this.#mask] = this.#staged[i]!;
    }
    this.#staged.copyWithin(0, count, this.#stagedCount);
    this.#stagedCount -= count;
    this.#tail = (this.#tail + count) >>> 0;
    this.#overflowEmpty = this.#stagedCount === 0;
    return true;
  }

  /**
   * Makes the core's view of the queue true (before a core call reads it): writes the
   * cached head and tail back to linear memory and appends the staged jobs to the
   * overflow. A call into the core: callers guard it like any core call.
   */
  flush(): void {
    this.#writeHeadTail();
    this.#pushStaged();
  }

  #writeHeadTail(): void {
    if (this.#shared.length === 0) this.#refreshViews();
    this.#shared[RingWord.head] = this.#head;
    this.#shared[RingWord.tail] = this.#tail;
  }

  /**
   * Drops every job: at close (the core has released its side) and after a core trap
   * (the core's state is not trusted, so the host side is emptied whatever it says).
   */
  clear(): void {
    this.#refreshViews();
    this.#sync();
    this.#head = this.#tail;
    this.#overflowEmpty = true;
    this.#stagedCount = 0;
    this.#jobs.fill(undefined);
    this.#overflow.clear();
    this.arg = undefined;
    this.#refilledUntil = this.#head;
  }

  /**
   * Moves onto `frozen` (a closed core's stand-in): the queue is empty (cleared at close)
   * and keeps no view on the old core's memory, which another loop may own. Returns its
   * (empty) job array, which it lets go of, for the core's next queue.
   */
  detach(frozen: CoreExports): unknown[] {
    this.#core = frozen;
    this.#buffer = frozen.memory.buffer; // #refreshViews then never re-makes a view
    // Shared by every detached queue (allocating views per close made closing a loop
    // GC-bound): an empty queue only writes its head and tail there, and reads nothing.
    this.#shared = DETACHED_RING;
    this.#slots = DETACHED_RING;
    this.#staged = DETACHED_RING;
    this.#stagedCount = 0;
    const jobs = this.#jobs;
    this.#jobs = NO_JOBS;
    return jobs;
  }

  #refreshViews(): void {
    const buffer = this.#core.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#shared = new Uint32Array(buffer, this.#ringAddress, RING_WORDS);
    this.#slots = new Uint32Array(buffer, this.#shared[RingWord.slots]!, this.#mask + 1);
    this.#staged = new Uint32Array(buffer, this.#stagedAddress, BATCH_CAPACITY);
  }

  /** Re-reads the shared state after a core call changed it. */
  #sync(): void {
    // A grown memory detaches the old buffer, which empties every view on it: a cheaper
    // test than the `memory.buffer` getter, on the overflow path's every push.
    if (this.#shared.length === 0) this.#refreshViews();
    this.#head = this.#shared[RingWord.head]!;
    this.#tail = this.#shared[RingWord.tail]!;
    this.#overflowEmpty = this.#shared[RingWord.overflow_len] === 0 && this.#stagedCount === 0;
  }
}
