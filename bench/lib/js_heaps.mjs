// The two plain-JavaScript timer heaps the core suite compares the Zig core with.
//
// Both follow the core's contract exactly, so the comparison is about the
// implementation, not about doing less work:
// - order: earlier deadline first, equal deadlines in start (sequence) order;
// - `schedule(delayMs)` returns a positive integer id that is never reused while
//   live (and not until 2^31 - 1 issues), `cancel(id)` removes any live timer in
//   O(log n) through a back-index, and a stale or unknown id is detected (false);
// - `collect(nowMs, max, out)` pops up to `max` timers due at `nowMs` (deadline <=
//   now) into `out` and returns how many: the same batch shape as
//   `zl_timers_collect`, which writes ids into a buffer in linear memory;
// - deadlines are whole milliseconds from the current time (the suite only
//   moves time in whole milliseconds, so rounding never differs from the core's).
//
// TypedTimerHeap is a port of the core's engine before the timer wheel
// (src-zig/timer_heap.zig + the handle table of that time) to typed arrays: same
// 4-ary heap, same id scheme (slot = id & mask, monotonic ids that skip occupied
// slots, growth by doubling before 31/32 load), same sift rules (bottom-up pop,
// up-or-down removal). It answers "what does the old core's algorithm cost in plain
// JS?". Typed arrays are not placed on cache-line boundaries the way that core placed
// its heap, which JS cannot control.
//
// ObjectTimerHeap is the idiomatic JS implementation (the shape of Node's
// lib/internal/priority_queue.js): a binary heap of `{ deadline, seq, id, pos }`
// objects with a Map from id to object for cancel. It answers "what would a JS
// library typically do?", including its allocation and GC cost.

const ARITY = 4;
const FREE = -1;
const ID_MAX = 0x7fffffff;
const DELAY_MS_MAX = 0x7fffffff;
const CAPACITY_MIN = 16;

/** True when sequence `a` was issued before `b` (wrapping 32-bit comparison, as in the core). */
function seqBefore(a, b) {
  return ((a - b) | 0) < 0;
}

function loadLimit(capacity) {
  return capacity - (capacity >>> 5) - 1;
}

/** 4-ary (deadline, seq) heap in typed arrays with a handle table back-index. */
export class TypedTimerHeap {
  constructor(timersMax = ID_MAX) {
    this.timersMax = timersMax;
    this.now = 0;
    this.nextSeq = 0;
    this.nextId = 1;
    this.live = 0;
    this.len = 0;
    this.#allocate(CAPACITY_MIN);
  }

  #allocate(capacity) {
    // Heap, by position.
    this.deadlines = new Float64Array(capacity);
    this.seqs = new Int32Array(capacity);
    this.ids = new Int32Array(capacity);
    // Handle records, by slot = id & mask: the id and its heap position (FREE when free).
    this.recIds = new Int32Array(capacity);
    this.recPos = new Int32Array(capacity).fill(FREE);
    this.mask = capacity - 1;
  }

  get capacity() {
    return this.mask + 1;
  }

  /** Bytes held by the typed arrays (the structure's whole footprint). */
  get bytes() {
    return this.capacity * (8 + 4 + 4 + 4 + 4);
  }

  #grow() {
    const oldIds = this.recIds;
    const oldPos = this.recPos;
    const { deadlines, seqs, ids, len } = this;
    this.#allocate(this.capacity * 2);
    this.deadlines.set(deadlines.subarray(0, len));
    this.seqs.set(seqs.subarray(0, len));
    this.ids.set(ids.subarray(0, len));
    const mask = this.mask;
    for (let slot = 0; slot < oldPos.length; slot++) {
      if (oldPos[slot] === FREE) continue;
      const id = oldIds[slot];
      this.recIds[id & mask] = id;
      this.recPos[id & mask] = oldPos[slot];
    }
  }

  /** Arms a one-shot timer `delayMs` from now; returns its id. */
  schedule(delayMs) {
    if (!(delayMs >= 0 && delayMs <= DELAY_MS_MAX))
      throw new RangeError(`delay out of range: ${delayMs}`);
    if (this.live >= this.timersMax) throw new RangeError("timers full");
    if (this.live + 1 > loadLimit(this.capacity)) this.#grow();
    const recPos = this.recPos;
    const mask = this.mask;
    let id = this.nextId;
    while (recPos[id & mask] !== FREE) id = id === ID_MAX ? 1 : id + 1;
    this.nextId = id === ID_MAX ? 1 : id + 1;
    this.recIds[id & mask] = id;
    this.live++;
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) | 0;
    const pos = this.len++;
    this.#siftUp(pos, this.now + delayMs, seq, id);
    return id;
  }

  /** Cancels a live timer; false for a stale or unknown id. */
  cancel(id) {
    if (!(id > 0 && id <= ID_MAX)) return false;
    const slot = id & this.mask;
    const pos = this.recPos[slot];
    if (pos === FREE || this.recIds[slot] !== id) return false;
    this.recPos[slot] = FREE;
    this.live--;
    this.#removeAt(pos);
    return true;
  }

  /** The earliest deadline, or Infinity. */
  nextDeadline() {
    return this.len === 0 ? Infinity : this.deadlines[0];
  }

  /** Pops up to `max` timers due at `nowMs` into `out`, in order; returns the count. */
  collect(nowMs, max, out) {
    if (nowMs > this.now) this.now = nowMs;
    const now = this.now;
    let count = 0;
    while (count < max && this.len > 0 && this.deadlines[0] <= now) {
      const id = this.ids[0];
      this.recPos[id & this.mask] = FREE;
      this.live--;
      this.#popRoot();
      out[count++] = id;
    }
    return count;
  }

  /**
   * Removes the root with Floyd's bottom-up sift, as the core's `pop` does: the hole
   * moves down to a leaf along the smallest children (no comparison with the moved
   * entry), then the last entry sifts up from there.
   */
  #popRoot() {
    const len = --this.len;
    if (len === 0) return;
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    const ids = this.ids;
    const recPos = this.recPos;
    const mask = this.mask;
    const d = deadlines[len];
    const s = seqs[len];
    const id = ids[len];
    let pos = 0;
    for (;;) {
      const first = pos * ARITY + 1;
      if (first >= len) break;
      const end = Math.min(first + ARITY, len);
      let best = first;
      let bd = deadlines[first];
      let bs = seqs[first];
      for (let child = first + 1; child < end; child++) {
        const cd = deadlines[child];
        if (cd < bd || (cd === bd && seqBefore(seqs[child], bs))) {
          best = child;
          bd = cd;
          bs = seqs[child];
        }
      }
      const bid = ids[best];
      deadlines[pos] = bd;
      seqs[pos] = bs;
      ids[pos] = bid;
      recPos[bid & mask] = pos;
      pos = best;
    }
    this.#siftUp(pos, d, s, id);
  }

  #removeAt(pos) {
    const last = --this.len;
    if (pos === last) return;
    const d = this.deadlines[last];
    const s = this.seqs[last];
    const id = this.ids[last];
    if (pos > 0) {
      const parent = ((pos - 1) / ARITY) | 0;
      const pd = this.deadlines[parent];
      if (d < pd || (d === pd && seqBefore(s, this.seqs[parent]))) {
        this.#siftUp(pos, d, s, id);
        return;
      }
    }
    this.#siftDown(pos, d, s, id);
  }

  #siftUp(start, d, s, id) {
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    const ids = this.ids;
    const recPos = this.recPos;
    const mask = this.mask;
    let pos = start;
    while (pos > 0) {
      const parent = ((pos - 1) / ARITY) | 0;
      const pd = deadlines[parent];
      if (!(d < pd || (d === pd && seqBefore(s, seqs[parent])))) break;
      const pid = ids[parent];
      deadlines[pos] = pd;
      seqs[pos] = seqs[parent];
      ids[pos] = pid;
      recPos[pid & mask] = pos;
      pos = parent;
    }
    deadlines[pos] = d;
    seqs[pos] = s;
    ids[pos] = id;
    recPos[id & mask] = pos;
  }

  #siftDown(start, d, s, id) {
    const deadlines = this.deadlines;
    const seqs = this.seqs;
    const ids = this.ids;
    const recPos = this.recPos;
    const mask = this.mask;
    const len = this.len;
    let pos = start;
    for (;;) {
      const first = pos * ARITY + 1;
      if (first >= len) break;
      const end = Math.min(first + ARITY, len);
      let best = first;
      let bd = deadlines[first];
      let bs = seqs[first];
      for (let child = first + 1; child < end; child++) {
        const cd = deadlines[child];
        if (cd < bd || (cd === bd && seqBefore(seqs[child], bs))) {
          best = child;
          bd = cd;
          bs = seqs[child];
        }
      }
      if (!(bd < d || (bd === d && seqBefore(bs, s)))) break;
      const bid = ids[best];
      deadlines[pos] = bd;
      seqs[pos] = bs;
      ids[pos] = bid;
      recPos[bid & mask] = pos;
      pos = best;
    }
    deadlines[pos] = d;
    seqs[pos] = s;
    ids[pos] = id;
    recPos[id & mask] = pos;
  }

  /** Checks heap order and the back-index; throws on corruption. O(n). */
  verify() {
    for (let pos = 0; pos < this.len; pos++) {
      const id = this.ids[pos];
      if (this.recPos[id & this.mask] !== pos || this.recIds[id & this.mask] !== id)
        throw new Error(`back-index broken at ${pos}`);
      if (pos === 0) continue;
      const parent = ((pos - 1) / ARITY) | 0;
      const d = this.deadlines[pos];
      const pd = this.deadlines[parent];
      if (d < pd || (d === pd && seqBefore(this.seqs[pos], this.seqs[parent])))
        throw new Error(`heap order broken at ${pos}`);
    }
    if (this.len !== this.live) throw new Error("live count differs from heap length");
  }
}

function before(a, b) {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/** Binary heap of timer objects with a Map back-index (the usual JS shape). */
export class ObjectTimerHeap {
  constructor(timersMax = ID_MAX) {
    this.timersMax = timersMax;
    this.now = 0;
    this.nextSeq = 0;
    this.nextId = 1;
    /** @type {{ deadline: number, seq: number, id: number, pos: number }[]} */
    this.heap = [];
    /** @type {Map<number, { deadline: number, seq: number, id: number, pos: number }>} */
    this.byId = new Map();
  }

  get len() {
    return this.heap.length;
  }

  schedule(delayMs) {
    if (!(delayMs >= 0 && delayMs <= DELAY_MS_MAX))
      throw new RangeError(`delay out of range: ${delayMs}`);
    if (this.heap.length >= this.timersMax) throw new RangeError("timers full");
    const id = this.nextId;
    this.nextId = id === ID_MAX ? 1 : id + 1;
    const timer = { deadline: this.now + delayMs, seq: this.nextSeq++, id, pos: this.heap.length };
    this.heap.push(timer);
    this.#siftUp(timer.pos, timer);
    this.byId.set(id, timer);
    return id;
  }

  cancel(id) {
    const timer = this.byId.get(id);
    if (timer === undefined) return false;
    this.byId.delete(id);
    this.#removeAt(timer.pos);
    return true;
  }

  nextDeadline() {
    return this.heap.length === 0 ? Infinity : this.heap[0].deadline;
  }

  collect(nowMs, max, out) {
    if (nowMs > this.now) this.now = nowMs;
    const now = this.now;
    const heap = this.heap;
    let count = 0;
    while (count < max && heap.length > 0 && heap[0].deadline <= now) {
      const timer = heap[0];
      this.byId.delete(timer.id);
      this.#removeAt(0);
      out[count++] = timer.id;
    }
    return count;
  }

  #removeAt(pos) {
    const heap = this.heap;
    const last = heap.pop();
    if (pos === heap.length) return;
    if (pos > 0 && before(last, heap[(pos - 1) >>> 1])) this.#siftUp(pos, last);
    else this.#siftDown(pos, last);
  }

  #siftUp(start, timer) {
    const heap = this.heap;
    let pos = start;
    while (pos > 0) {
      const parent = (pos - 1) >>> 1;
      const above = heap[parent];
      if (!before(timer, above)) break;
      heap[pos] = above;
      above.pos = pos;
      pos = parent;
    }
    heap[pos] = timer;
    timer.pos = pos;
  }

  #siftDown(start, timer) {
    const heap = this.heap;
    const len = heap.length;
    let pos = start;
    for (;;) {
      const left = pos * 2 + 1;
      if (left >= len) break;
      const right = left + 1;
      const best = right < len && before(heap[right], heap[left]) ? right : left;
      const child = heap[best];
      if (!before(child, timer)) break;
      heap[pos] = child;
      child.pos = pos;
      pos = best;
    }
    heap[pos] = timer;
    timer.pos = pos;
  }

  verify() {
    const heap = this.heap;
    for (let pos = 0; pos < heap.length; pos++) {
      const timer = heap[pos];
      if (timer.pos !== pos || this.byId.get(timer.id) !== timer)
        throw new Error(`back-index broken at ${pos}`);
      if (pos > 0 && before(timer, heap[(pos - 1) >>> 1]))
        throw new Error(`heap order broken at ${pos}`);
    }
    if (this.byId.size !== heap.length) throw new Error("map size differs from heap length");
  }
}
