// Steady-state timer workloads, written once per implementation so every timed
// loop is monomorphic (no dispatch through a common interface inside the loop).
//
// "Live timers = N": the structure is filled with N pending timers and then
// driven so that it holds N again after every operation batch; the timed
// operations never grow it (no allocation in linear memory or typed arrays).
//
// Workloads (each `run(ops)` performs exactly `ops` operations):
// - holdTurns: push + pop-min in event-loop turns. A turn moves time forward by
//   1 ms and pops every due timer in (deadline, sequence) order through the
//   batch API (zl_turn_start, more zl_timers_collect while a batch comes back
//   full, zl_turn_end; at most `ops` in total); then as many new timers are
//   pushed as were popped. Delays are drawn so that about `dueTarget` timers come due per
//   turn. One op = one pop-min + one push. This is the core's real usage.
// - holdStrict: push + pop-min one at a time. Time jumps to the earliest
//   deadline; the minimum (and any timer tied with it) is popped, and replaced.
//   Delays are spread so wide that ties are rare: almost exactly one timer per
//   turn, so this is the worst case for the per-turn boundary calls.
// - cancel: push one timer, then cancel one random live timer (not the one
//   just pushed) through its id. Time does not move.
// Every implementation consumes the same delay and victim streams, and reads
// the ids it popped from its batch buffer into a checksum (as a host would).

import { abi, createCore } from "./core.mjs";
import { ObjectTimerHeap, TypedTimerHeap } from "./js_heaps.mjs";

export const STREAM_BITS = 20;
const STREAM_MASK = (1 << STREAM_BITS) - 1;
const VICTIM_BITS = 16;
const VICTIM_MASK = (1 << VICTIM_BITS) - 1;
const BATCH = abi.BATCH_CAPACITY;

/** mulberry32: a small seeded PRNG, so every run and implementation sees the same numbers. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integers in [lo, hi], `count` of them. */
export function uniformStream(seed, count, lo, hi) {
  const random = prng(seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + Math.floor(random() * (hi - lo + 1));
  return out;
}

/** Average pops per turn the holdTurns workload aims for. */
export const DUE_PER_TURN = 64;
/** holdStrict / cancel delays: up to 1e9 ms, so equal deadlines are rare. */
const WIDE_DELAY_MS = 1e9;

/** The random streams for one N, shared by every implementation. */
export function makeStreams(n, seed = 0x5eed) {
  // Hold model: a timer lives `delay` turns on average (mean ~ n / DUE_PER_TURN),
  // so in steady state about DUE_PER_TURN timers come due per 1 ms turn.
  const turnMax = Math.max(1, Math.round((2 * n) / DUE_PER_TURN) - 1);
  return {
    n,
    turnDelays: uniformStream(seed, 1 << STREAM_BITS, 1, turnMax),
    turnDelayMaxMs: turnMax,
    wideDelays: uniformStream(seed + 1, 1 << STREAM_BITS, 1, WIDE_DELAY_MS),
    victims: uniformStream(seed + 2, 1 << VICTIM_BITS, 0, n - 1),
  };
}

function fail(status, action) {
  throw new Error(`core: ${action} returned status ${status}`);
}

function check(status, action) {
  if (status < 0) fail(status, action);
  return status;
}

// ---- zigloop core -----------------------------------------------------------------

/** `options.module`: another build of the core to drive (bench/ab.mjs); `options.name` labels it. */
export function coreSubject(n, streams, workload, options = {}) {
  const core = createCore({ timersMax: n + BATCH + 16, module: options.module });
  const ex = core.ex;
  // zl_turn_start = zl_set_now + zl_turn_begin + the first zl_timers_collect, in one
  // call (what the host does at the start of every turn). Builds without it (see
  // ZIGLOOP_BENCH_WASM) get the three calls.
  const turnStart =
    ex.zl_turn_start ??
    ((nowUs, max) => {
      const status = ex.zl_set_now(nowUs);
      if (status < 0) return status;
      const begun = ex.zl_turn_begin();
      return begun < 0 ? begun : ex.zl_timers_collect(max);
    });
  const turnEnd = ex.zl_turn_end;
  const collect = ex.zl_timers_collect;
  const schedule = ex.zl_timer_schedule;
  const cancel = ex.zl_timer_cancel;
  const nextDeadline = ex.zl_timers_next_deadline;
  const s = { now: 0, di: 0, vi: 0, sum: 0, live: new Int32Array(n) };
  const delays = workload === "holdTurns" ? streams.turnDelays : streams.wideDelays;
  for (let i = 0; i < n; i++)
    s.live[i] = check(schedule(delays[s.di++ & STREAM_MASK], 0), "zl_timer_schedule");
  const batch = core.timerBatch();

  function holdTurns(ops) {
    let left = ops;
    let now = s.now;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      now += 1;
      let popped = 0;
      let want = Math.min(left, BATCH);
      let k = turnStart(now * 1000, want); // the core takes µs
      for (;;) {
        if (k < 0) fail(k, "zl_turn_start/zl_timers_collect");
        for (let i = 0; i < k; i++) sum = (sum + batch[i]) | 0;
        popped += k;
        // A batch shorter than asked for means nothing else is due this turn.
        if (k < want || popped === left) break;
        want = Math.min(left - popped, BATCH);
        k = collect(want);
      }
      turnEnd();
      for (let i = 0; i < popped; i++) {
        const id = schedule(delays[di++ & STREAM_MASK], 0);
        if (id < 0) fail(id, "zl_timer_schedule");
      }
      left -= popped;
    }
    s.now = now;
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function holdStrict(ops) {
    let left = ops;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      const k = turnStart(nextDeadline(), Math.min(left, BATCH));
      for (let i = 0; i < k; i++) sum = (sum + batch[i]) | 0;
      turnEnd();
      if (k <= 0) {
        if (k < 0) fail(k, "zl_timers_collect");
        throw new Error("core: nothing due at the next deadline");
      }
      for (let i = 0; i < k; i++) {
        const id = schedule(delays[di++ & STREAM_MASK], 0);
        if (id < 0) fail(id, "zl_timer_schedule");
      }
      left -= k;
    }
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function cancelOps(ops) {
    const live = s.live;
    const victims = streams.victims;
    let di = s.di;
    let vi = s.vi;
    for (let i = 0; i < ops; i++) {
      const id = schedule(delays[di++ & STREAM_MASK], 0);
      if (id < 0) fail(id, "zl_timer_schedule");
      const v = victims[vi++ & VICTIM_MASK];
      const status = cancel(live[v]);
      if (status !== 0) fail(status, "zl_timer_cancel of a live timer");
      live[v] = id;
    }
    s.di = di;
    s.vi = vi;
  }

  const run = { holdTurns, holdStrict, cancel: cancelOps }[workload];
  return {
    name: options.name ?? "zigloop core",
    run,
    verify: () => core.verify(),
    size: () => core.stat("timers_armed"),
    checksum: () => s.sum,
    core,
  };
}

// ---- plain JS, typed arrays ------------------------------------------------------

function jsSubject(name, heap, n, streams, workload) {
  const out = new Int32Array(BATCH);
  const s = { now: 0, di: 0, vi: 0, sum: 0, live: new Int32Array(n) };
  const delays = workload === "holdTurns" ? streams.turnDelays : streams.wideDelays;
  for (let i = 0; i < n; i++) s.live[i] = heap.schedule(delays[s.di++ & STREAM_MASK]);
  return {
    name,
    heap,
    s,
    out,
    delays,
    run: undefined,
    verify: () => heap.verify(),
    size: () => heap.len,
    checksum: () => s.sum,
  };
}

export function typedSubject(n, streams, workload) {
  const subject = jsSubject(
    "js typed 4-ary",
    new TypedTimerHeap(n + BATCH + 16),
    n,
    streams,
    workload,
  );
  const { heap, s, out, delays } = subject;

  function holdTurns(ops) {
    let left = ops;
    let now = s.now;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      now += 1;
      let popped = 0;
      for (;;) {
        const want = Math.min(left - popped, BATCH);
        const k = heap.collect(now, want, out);
        for (let i = 0; i < k; i++) sum = (sum + out[i]) | 0;
        popped += k;
        if (k < want || popped === left) break;
      }
      for (let i = 0; i < popped; i++) heap.schedule(delays[di++ & STREAM_MASK]);
      left -= popped;
    }
    s.now = now;
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function holdStrict(ops) {
    let left = ops;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      const k = heap.collect(heap.nextDeadline(), Math.min(left, BATCH), out);
      if (k === 0) throw new Error("nothing due at the next deadline");
      for (let i = 0; i < k; i++) sum = (sum + out[i]) | 0;
      for (let i = 0; i < k; i++) heap.schedule(delays[di++ & STREAM_MASK]);
      left -= k;
    }
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function cancelOps(ops) {
    const live = s.live;
    const victims = streams.victims;
    let di = s.di;
    let vi = s.vi;
    for (let i = 0; i < ops; i++) {
      const id = heap.schedule(delays[di++ & STREAM_MASK]);
      const v = victims[vi++ & VICTIM_MASK];
      if (!heap.cancel(live[v])) throw new Error("cancel of a live timer failed");
      live[v] = id;
    }
    s.di = di;
    s.vi = vi;
  }

  subject.run = { holdTurns, holdStrict, cancel: cancelOps }[workload];
  return subject;
}

// ---- plain JS, objects --------------------------------------------------------------
// The same drivers as typedSubject, repeated so that V8 sees one heap class per loop.

export function objectSubject(n, streams, workload) {
  const subject = jsSubject(
    "js object binary",
    new ObjectTimerHeap(n + BATCH + 16),
    n,
    streams,
    workload,
  );
  const { heap, s, out, delays } = subject;

  function holdTurns(ops) {
    let left = ops;
    let now = s.now;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      now += 1;
      let popped = 0;
      for (;;) {
        const want = Math.min(left - popped, BATCH);
        const k = heap.collect(now, want, out);
        for (let i = 0; i < k; i++) sum = (sum + out[i]) | 0;
        popped += k;
        if (k < want || popped === left) break;
      }
      for (let i = 0; i < popped; i++) heap.schedule(delays[di++ & STREAM_MASK]);
      left -= popped;
    }
    s.now = now;
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function holdStrict(ops) {
    let left = ops;
    let di = s.di;
    let sum = 0;
    while (left > 0) {
      const k = heap.collect(heap.nextDeadline(), Math.min(left, BATCH), out);
      if (k === 0) throw new Error("nothing due at the next deadline");
      for (let i = 0; i < k; i++) sum = (sum + out[i]) | 0;
      for (let i = 0; i < k; i++) heap.schedule(delays[di++ & STREAM_MASK]);
      left -= k;
    }
    s.di = di;
    s.sum = (s.sum + sum) | 0;
  }

  function cancelOps(ops) {
    const live = s.live;
    const victims = streams.victims;
    let di = s.di;
    let vi = s.vi;
    for (let i = 0; i < ops; i++) {
      const id = heap.schedule(delays[di++ & STREAM_MASK]);
      const v = victims[vi++ & VICTIM_MASK];
      if (!heap.cancel(live[v])) throw new Error("cancel of a live timer failed");
      live[v] = id;
    }
    s.di = di;
    s.vi = vi;
  }

  subject.run = { holdTurns, holdStrict, cancel: cancelOps }[workload];
  return subject;
}

export const SUBJECTS = [coreSubject, typedSubject, objectSubject];

// ---- correctness: the three must agree before anything is timed --------------------

/**
 * Drives all three implementations with the same seeded random operations
 * (schedule with few distinct delays so ties are frequent, cancel a random live
 * timer, cancel a stale id, advance time and collect in random batch sizes) and
 * checks that they fire the same timers in the same order. Ids differ between
 * implementations, so timers are compared by creation index. Throws on mismatch.
 */
export function crossCheck(seed, ops = 20000) {
  const random = prng(seed);
  const core = createCore({ timersMax: 1 << 16 });
  const ex = core.ex;
  const typed = new TypedTimerHeap(1 << 16);
  const object = new ObjectTimerHeap(1 << 16);
  const out = new Int32Array(BATCH);
  // Per implementation: id -> creation index.
  const maps = [new Map(), new Map(), new Map()];
  const liveIdx = []; // creation indices of live timers (model)
  const idsOf = []; // creation index -> [coreId, typedId, objectId]
  const fired = [[], [], []];
  let created = 0;
  let now = 0;
  let turns = 0;
  for (let op = 0; op < ops; op++) {
    const roll = random();
    if (roll < 0.5) {
      // Few distinct delays (multiples of 4 ms up to 252) so equal deadlines are common.
      const delay = 4 * Math.floor(random() * 64);
      const ids = [
        check(ex.zl_timer_schedule(delay, 0), "zl_timer_schedule"),
        typed.schedule(delay),
        object.schedule(delay),
      ];
      ids.forEach((id, i) => {
        maps[i].set(id, created);
      });
      idsOf.push(ids);
      liveIdx.push(created++);
    } else if (roll < 0.7 && liveIdx.length > 0) {
      const at = Math.floor(random() * liveIdx.length);
      const index = liveIdx[at];
      liveIdx[at] = liveIdx[liveIdx.length - 1];
      liveIdx.pop();
      const [a, b, c] = idsOf[index];
      if (ex.zl_timer_cancel(a) !== 0 || !typed.cancel(b) || !object.cancel(c))
        throw new Error(`cancel of live timer #${index} failed`);
    } else if (roll < 0.75 && created > 0) {
      // A stale or fired id must be refused by all three (or accepted by all three if live).
      const index = Math.floor(random() * created);
      const [a, b, c] = idsOf[index];
      const results = [ex.zl_timer_cancel(a) === 0, typed.cancel(b), object.cancel(c)];
      if (results[0] !== results[1] || results[1] !== results[2])
        throw new Error(`cancel of timer #${index} disagrees: ${results}`);
      if (results[0]) liveIdx.splice(liveIdx.indexOf(index), 1);
    } else {
      now += Math.floor(random() * 4);
      const firedBefore = fired[0].length;
      check(ex.zl_set_now(now * 1000), "zl_set_now"); // µs
      check(ex.zl_turn_begin(), "zl_turn_begin");
      const max = 1 + Math.floor(random() * 8);
      for (;;) {
        const k = check(ex.zl_timers_collect(max), "zl_timers_collect");
        if (k === 0) break;
        const batch = core.timerBatch();
        for (let i = 0; i < k; i++) fired[0].push(maps[0].get(batch[i]));
      }
      check(ex.zl_turn_end(), "zl_turn_end");
      for (const [i, heap] of [
        [1, typed],
        [2, object],
      ]) {
        for (;;) {
          const k = heap.collect(now, max, out);
          if (k === 0) break;
          for (let j = 0; j < k; j++) fired[i].push(maps[i].get(out[j]));
        }
      }
      // Everything fired is no longer live in the model.
      const firedNow = new Set(fired[0].slice(firedBefore));
      for (let i = liveIdx.length - 1; i >= 0; i--) {
        if (firedNow.has(liveIdx[i])) {
          liveIdx[i] = liveIdx[liveIdx.length - 1];
          liveIdx.pop();
        }
      }
      turns++;
    }
  }
  for (let i = 1; i < 3; i++) {
    if (fired[i].length !== fired[0].length)
      throw new Error(
        `implementation ${i} fired ${fired[i].length} timers, the core ${fired[0].length}`,
      );
    for (let j = 0; j < fired[0].length; j++) {
      if (fired[i][j] !== fired[0][j])
        throw new Error(
          `pop order differs at ${j}: core #${fired[0][j]}, implementation ${i} #${fired[i][j]}`,
        );
    }
  }
  core.verify();
  typed.verify();
  object.verify();
  const armed = core.stat("timers_armed");
  if (armed !== typed.len || armed !== object.len || armed !== liveIdx.length) {
    throw new Error(
      `sizes differ: core ${armed}, typed ${typed.len}, object ${object.len}, model ${liveIdx.length}`,
    );
  }
  return { ops, created, fired: fired[0].length, turns, pending: armed };
}
