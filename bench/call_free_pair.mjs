#!/usr/bin/env node
// An estimate of the "call-free pair" (docs/BENCHMARKS.md): what setTimeout + clearTimeout
// would cost if the host staged timers in a ring in linear memory instead of calling the
// core. Not an implementation: a mock of the host's hot path, measured beside the real
// loop.setTimeout/clearTimeout pair and Node's, in one process, mitata, rotated rounds.
//
//   node bench/call_free_pair.mjs            (run `npm run build` first: it imports dist/)
//
// The mock does what EventLoop#addTimer / #clearTimer do today for the html profile
// (delay coercion, the nesting clamp, the handle mirror's store into its parallel arrays
// and its clear, the ref count, the driver's "armed earlier?" check), but instead of
// zl_timer_schedule it pops an id from a lease the core would have handed out and
// writes a 16-byte entry (id, delay and flags, start time) into a ring in a
// WebAssembly.Memory; instead of zl_timer_cancel it sets the entry's cancelled bit. A
// turn would ingest the ring with one call; that cost is left out here (the core does
// ~2 ns per cancelled entry: it skips it and frees the leased slot).

import { compareThroughput } from "./lib/harness.mjs";
import { createLoop } from "./lib/loop.mjs";

const RING = 1024; // entries (16 bytes each)
const LEASE = 256;

class MockMirror {
  constructor(capacity) {
    this.mask = capacity - 1;
    this.ids = new Int32Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.refs = new Uint8Array(capacity);
    this.nesting = new Uint8Array(capacity);
    this.delays = new Int32Array(capacity);
    this.staged = new Int32Array(capacity); // ring position of a staged timer, or -1
    this.fns = new Array(capacity).fill(undefined);
    this.args = new Array(capacity).fill(undefined);
    this.objects = new Array(capacity).fill(undefined);
  }
}

class CallFreeTimers {
  #memory = new WebAssembly.Memory({ initial: 1 });
  #ring = new Uint32Array(this.#memory.buffer, 0, RING * 4);
  #ringF64 = new Float64Array(this.#memory.buffer, 0, RING * 2);
  #tail = 0;
  #lease = new Int32Array(LEASE);
  #leaseHead = LEASE;
  #nextId = 1;
  #mirror = new MockMirror(1024);
  #refTimers = 0;
  #nesting = 0;
  #now = 0;
  #armedAt = Infinity;

  /** The core's lease call, once per LEASE timers (ids are consecutive here). */
  #refillLease() {
    for (let i = 0; i < LEASE; i++) this.#lease[i] = this.#nextId++;
    this.#leaseHead = 0;
  }

  setTimeout(handler, timeout) {
    if (typeof handler !== "function") throw new TypeError("handler");
    let delay = typeof timeout === "number" ? timeout | 0 : 0;
    if (delay < 0) delay = 0;
    if (this.#nesting > 5 && delay < 4) delay = 4;
    if (this.#leaseHead === LEASE) this.#refillLease();
    const id = this.#lease[this.#leaseHead++];
    const pos = this.#tail;
    const at = (pos & (RING - 1)) * 4;
    this.#ring[at] = id;
    this.#ring[at + 1] = delay;
    this.#ringF64[(at >> 1) + 1] = this.#now;
    this.#tail = pos + 1;
    const m = this.#mirror;
    const slot = id & m.mask;
    m.ids[slot] = id;
    m.kinds[slot] = 1;
    m.refs[slot] = 1;
    m.nesting[slot] = this.#nesting + 1;
    m.delays[slot] = delay;
    m.staged[slot] = pos;
    m.fns[slot] = handler;
    m.args[slot] = undefined;
    m.objects[slot] = undefined;
    this.#refTimers++;
    const when = this.#now + delay;
    if (when < this.#armedAt) this.#armedAt = when;
    return id;
  }

  clearTimeout(id) {
    if (typeof id !== "number") return;
    const m = this.#mirror;
    const slot = id & m.mask;
    if (m.ids[slot] !== id || m.kinds[slot] === 0) return;
    const pos = m.staged[slot];
    if (pos >= 0 && this.#tail - pos <= RING) this.#ring[(pos & (RING - 1)) * 4 + 1] |= 0x40000000; // cancelled
    if (m.refs[slot] === 1) this.#refTimers--;
    m.kinds[slot] = 0;
    m.fns[slot] = undefined;
    m.args[slot] = undefined;
    m.objects[slot] = undefined;
  }

  /** The ref count the driver reads to decide whether the host must stay alive. */
  get refTimers() {
    return this.#refTimers;
  }

  /** What a turn would do first: hand the ring to the core (one call) and reset it. */
  ingest() {
    this.#tail = 0;
  }
}

const loop = await createLoop({ profile: "html" });
const mock = new CallFreeTimers();
const noop = () => {};
const OPS = 8192;
const subjects = [
  {
    name: "zigloop today (2 Wasm calls)",
    run(ops) {
      for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(noop, 1000));
    },
  },
  {
    name: "call-free mock",
    run(ops) {
      for (let i = 0; i < ops; i++) mock.clearTimeout(mock.setTimeout(noop, 1000));
      mock.ingest();
    },
  },
  {
    name: "Node setTimeout",
    run(ops) {
      for (let i = 0; i < ops; i++) clearTimeout(setTimeout(noop, 1000));
    },
  },
];
const ctx = { progress: (message) => console.error(`[call-free] ${message}`) };
const result = await compareThroughput(ctx, {
  label: "setTimeout + clearTimeout pair",
  subjects,
  opsPerCall: OPS,
  reps: 7,
  minCpuMs: 200,
});
for (const s of result.subjects) console.log(`${s.name}: ${s.nsPerOp.toFixed(1)} ns per pair`);
loop.close();
