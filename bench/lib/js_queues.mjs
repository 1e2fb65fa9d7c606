// Plain-JS baselines for the host suite's task and microtask benchmarks: what a careful
// JS implementation of the same queue does, without WebAssembly and without the rest
// of an event loop. Each is documented with exactly what it does and does not do, so
// that the ratios can be read for what they are (docs/BENCHMARKS.md, suite "host").

/**
 * A FIFO of callbacks in a power-of-two ring (an Array of functions), growing by
 * doubling, drained by one `drain()` call that runs the jobs queued so far *and* the
 * jobs they queue (a microtask checkpoint), with a try/catch per job so that a
 * throwing callback is reported (to `onError`) and the next job still runs.
 *
 * This is what zigloop's microtask checkpoint does for `queueMicrotask` jobs, minus:
 * the argument slot (zigloop stores `fn` and `arg`), the overflow into the core when
 * the ring is full, capacity limits, the microtask budget, the embedder's host queue
 * and the rejection tracker's end-of-checkpoint hook.
 */
export class JsMicrotaskRing {
  constructor(capacity = 1024, onError = reportError) {
    this.fns = new Array(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.head = 0;
    this.tail = 0;
    this.onError = onError;
    this.executed = 0;
  }

  push(fn) {
    if (((this.tail - this.head) | 0) > this.mask) this.grow();
    this.fns[this.tail & this.mask] = fn;
    this.tail = (this.tail + 1) | 0;
  }

  /** Runs jobs until the ring is empty (jobs queued by jobs included). */
  drain() {
    while (this.head !== this.tail) {
      const position = this.head & this.mask;
      const fn = this.fns[position];
      this.fns[position] = undefined;
      this.head = (this.head + 1) | 0;
      try {
        fn();
      } catch (error) {
        this.onError(error);
      }
      this.executed++;
    }
  }

  grow() {
    const old = this.fns;
    const capacity = old.length * 2;
    const fns = new Array(capacity).fill(undefined);
    for (let i = this.head; i !== this.tail; i = (i + 1) | 0)
      fns[i & (capacity - 1)] = old[i & this.mask];
    this.fns = fns;
    this.mask = capacity - 1;
  }
}

/**
 * The same ring without the try/catch: the first throwing job would abandon the rest of
 * the checkpoint. Not a usable microtask queue; shown only as the floor of what a JS
 * FIFO of callbacks costs.
 */
export class BareMicrotaskRing extends JsMicrotaskRing {
  drain() {
    while (this.head !== this.tail) {
      const position = this.head & this.mask;
      const fn = this.fns[position];
      this.fns[position] = undefined;
      this.head = (this.head + 1) | 0;
      fn();
      this.executed++;
    }
  }
}

/**
 * A plain-JS task queue driven by the host: `submit(fn)` appends to a growable ring
 * and, if no wake-up is pending, requests one host macrotask (`setImmediate`); the
 * wake-up runs the tasks that were queued when it began (tasks they submit wait for
 * the next wake-up, as in zigloop's task phase), each in a try/catch.
 *
 * Compared with zigloop's `submit`, it has no microtask checkpoint after each task, no
 * timers or immediates phases, no capacity limits, no metrics, no lifecycle (closing,
 * shutdown) and no ref/unref: it is the floor of a JS task queue on Node, not a loop.
 */
export class JsTaskQueue {
  constructor(capacity = 1024, onError = reportError) {
    this.fns = new Array(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.head = 0;
    this.tail = 0;
    this.pending = false;
    this.onError = onError;
    this.wake = () => this.#run();
  }

  submit(fn) {
    if (((this.tail - this.head) | 0) > this.mask) this.#grow();
    this.fns[this.tail & this.mask] = fn;
    this.tail = (this.tail + 1) | 0;
    if (!this.pending) {
      this.pending = true;
      setImmediate(this.wake);
    }
  }

  #run() {
    this.pending = false;
    const end = this.tail;
    while (this.head !== end) {
      const position = this.head & this.mask;
      const fn = this.fns[position];
      this.fns[position] = undefined;
      this.head = (this.head + 1) | 0;
      try {
        fn();
      } catch (error) {
        this.onError(error);
      }
    }
    if (this.head !== this.tail && !this.pending) {
      this.pending = true;
      setImmediate(this.wake);
    }
  }

  #grow() {
    const old = this.fns;
    const capacity = old.length * 2;
    const fns = new Array(capacity).fill(undefined);
    for (let i = this.head; i !== this.tail; i = (i + 1) | 0)
      fns[i & (capacity - 1)] = old[i & this.mask];
    this.fns = fns;
    this.mask = capacity - 1;
  }
}

function reportError(error) {
  console.error("Uncaught (in a benchmark queue)", error);
}
