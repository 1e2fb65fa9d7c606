// Suite "ingress" (issue 16): work from other threads. The shared-memory ingress
// (zigloop/ingress + zigloop/worker) against what it replaces, worker_threads
// postMessage → loop.submit, with 1, 2, 4 and 100 producer threads: throughput,
// latency from post to task start (loop awake and loop idle), bytes per message; and
// the offload pool against piscina. Producers are real threads
// (bench/lib/ingress_producer.mjs) that all start at one shared signal; every
// comparison runs both subjects in alternating rounds in one fresh process.
// What each benchmark measures and why: docs/BENCHMARKS.md, docs/INGRESS.md.

import { readFileSync } from "node:fs";
import { serialize } from "node:v8";
import { Worker } from "node:worker_threads";
import Piscina from "piscina";
import { formatNumber, median, quantile } from "../lib/harness.mjs";
import { runIsolated } from "../lib/isolate.mjs";
import { createLoop } from "../lib/loop.mjs";

export const name = "ingress";
export const title = "work from other threads: ingress and offload";
export const issue = 16;

const PRODUCER = new URL("../lib/ingress_producer.mjs", import.meta.url);
const PISCINA_TASK = new URL("../lib/piscina_task.mjs", import.meta.url).href;
const { createIngress, createPool } = await import(
  new URL("../../dist/ingress/mod.js", import.meta.url).href
);

const hrBase = process.hrtime.bigint();
const now = () => Number(process.hrtime.bigint() - hrBase);

/**
 * This thread's time on a CPU and waiting for one, in ns (Linux: /proc/…/schedstat of the
 * main thread), or undefined. The loop's own cost per message, whatever else the machine runs.
 */
function threadTimes() {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8")
      .split(" ")
      .map(Number);
    return { onCpu, waiting };
  } catch {
    return undefined;
  }
}

/** What one now() adds to an interval between two of them (median of back-to-back pairs). */
function nowCost() {
  const samples = new Float64Array(100_000);
  for (let i = 0; i < samples.length; i++) {
    const a = now();
    samples[i] = now() - a;
  }
  samples.sort();
  return quantile(samples, 0.5);
}

/** Starts `threads` producer threads; resolves when all are ready, with a start() that releases them. */
async function startProducers(threads, workerData) {
  const go = new SharedArrayBuffer(4);
  const workers = [];
  const ready = [];
  const done = [];
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(PRODUCER, {
      workerData: { ...workerData, go, base: String(hrBase) },
    });
    workers.push(worker);
    let markDone;
    done.push(new Promise((resolve) => (markDone = resolve)));
    ready.push(
      new Promise((resolve, reject) => {
        worker.on("message", (message) => {
          if (message === "ready") resolve();
          else if (message === "done") markDone();
        });
        worker.once("error", reject);
      }),
    );
  }
  await Promise.all(ready);
  return {
    workers,
    start() {
      Atomics.store(new Int32Array(go), 0, 1);
      Atomics.notify(new Int32Array(go), 0);
    },
    done: Promise.all(done),
    terminate: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

// ---- throughput ---------------------------------------------------------------------------------

/** One timed run: `producers` threads post `total` numbers in all; ns per message on the loop. */
async function throughputOnce(subject, producers, total) {
  const loop = await createLoop();
  const perProducer = Math.ceil(total / producers);
  const expected = perProducer * producers;
  let received = 0;
  let finished;
  const allReceived = new Promise((resolve) => (finished = resolve));
  let t1 = 0;
  const handler = () => {
    if (++received === expected) {
      t1 = performance.now();
      finished();
    }
  };
  let ingress;
  let threads;
  if (subject === "ingress") {
    ingress = createIngress(loop, { producers, laneBytes: 65536 });
    ingress.on(1, handler);
    threads = await startProducers(producers, {
      mode: "ingress",
      description: ingress.description,
      count: perProducer,
    });
  } else {
    threads = await startProducers(producers, { mode: "postMessage", count: perProducer });
    for (const worker of threads.workers) {
      worker.on("message", (message) => {
        if (typeof message === "number") loop.submit(() => handler(message));
      });
    }
  }
  const running = loop.run();
  const before = threadTimes();
  const t0 = performance.now();
  threads.start();
  await allReceived;
  const after = threadTimes();
  ingress?.close();
  await threads.done;
  await threads.terminate();
  loop.close();
  await running;
  return {
    wall: ((t1 - t0) * 1e6) / expected,
    cpu: before && after ? (after.onCpu - before.onCpu) / expected : NaN,
    waiting: before && after ? (after.waiting - before.waiting) / expected : NaN,
  };
}

/** Child: both subjects at one producer count, alternating, `rounds` rounds after a warm-up. */
export async function compareThroughput({ producers, total, rounds }, ctx) {
  const results = { ingress: [], postMessage: [] };
  for (let round = -1; round < rounds; round++) {
    const order = round % 2 === 0 ? ["ingress", "postMessage"] : ["postMessage", "ingress"];
    const line = [];
    for (const subject of order) {
      const r = await throughputOnce(subject, producers, round < 0 ? total / 4 : total);
      if (round >= 0) results[subject].push(r);
      line.push(
        `${subject} ${r.wall.toFixed(0)} ns/msg (loop thread on CPU ${r.cpu.toFixed(0)}, waiting for a CPU ${r.waiting.toFixed(0)})`,
      );
    }
    ctx.progress(
      `${producers} producers: ${round < 0 ? "warm-up" : `round ${round + 1}/${rounds}`}: ${line.join(", ")}`,
    );
  }
  const summarize = (key) => {
    const ratios = results.ingress.map((r, i) => results.postMessage[i][key] / r[key]);
    return {
      ingress: median(results.ingress.map((r) => r[key])),
      postMessage: median(results.postMessage.map((r) => r[key])),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    };
  };
  return { wall: summarize("wall"), cpu: summarize("cpu"), waiting: summarize("waiting") };
}

// ---- latency --------------------------------------------------------------------------------------

/**
 * One producer posts `count` timestamps, one every `pacingNs`; the loop records, at the
 * start of each message's task, now − timestamp. Awake: the loop keeps turning (the
 * ingress lingers, polling every turn; for postMessage a setImmediate chain keeps Node's
 * loop spinning); idle: the loop sleeps between messages (waitAsync / epoll).
 */
async function latencyOnce(subject, awake, count, pacingNs) {
  const loop = await createLoop();
  const samples = new Float64Array(count);
  let received = 0;
  let finished;
  const allReceived = new Promise((resolve) => (finished = resolve));
  const handler = (stamp) => {
    samples[received] = now() - stamp;
    if (++received === count) finished();
  };
  let ingress;
  let threads;
  let spinning = false;
  if (subject === "ingress") {
    ingress = createIngress(loop, { producers: 1, linger: awake ? 60_000 : 0 });
    ingress.on(1, handler);
    threads = await startProducers(1, {
      mode: "ingress-paced",
      description: ingress.description,
      count,
      pacingNs,
    });
  } else {
    threads = await startProducers(1, { mode: "postMessage-paced", count, pacingNs });
    threads.workers[0].on("message", (message) => {
      if (typeof message === "number") loop.submit(() => handler(message));
    });
    if (awake) {
      spinning = true;
      const spin = () => {
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
    }
  }
  const running = loop.run();
  threads.start();
  await allReceived;
  spinning = false;
  ingress?.close();
  await threads.done;
  await threads.terminate();
  loop.close();
  await running;
  return samples;
}

/** Child: latency summaries of both subjects, awake or idle, alternating rounds. */
export async function compareLatency({ awake, count, pacingNs, rounds }, ctx) {
  const cost = nowCost();
  const all = { ingress: [], postMessage: [] };
  for (let round = -1; round < rounds; round++) {
    const order = round % 2 === 0 ? ["ingress", "postMessage"] : ["postMessage", "ingress"];
    const line = [];
    for (const subject of order) {
      const samples = await latencyOnce(subject, awake, round < 0 ? count / 4 : count, pacingNs);
      const sorted = Float64Array.from(samples, (v) => Math.max(0, v - cost)).sort();
      line.push(
        `${subject} p50 ${formatNumber(quantile(sorted, 0.5) / 1000)} µs p99 ${formatNumber(quantile(sorted, 0.99) / 1000)} µs`,
      );
      if (round >= 0) all[subject].push(...sorted);
    }
    ctx.progress(
      `latency (${awake ? "loop awake" : "loop idle"}): ${round < 0 ? "warm-up" : `round ${round + 1}/${rounds}`}: ${line.join(", ")}`,
    );
  }
  const summary = (list) => {
    const sorted = Float64Array.from(list).sort();
    return {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      p999: quantile(sorted, 0.999),
      max: sorted[sorted.length - 1],
    };
  };
  return { ingress: summary(all.ingress), postMessage: summary(all.postMessage), costNs: cost };
}

// ---- offload against piscina ---------------------------------------------------------------------

/**
 * Child: x => x + 1 on 2 threads, `total` calls in batches of `batch`, then `sequential`
 * calls one at a time. Each round creates the subject's pool and destroys it afterwards,
 * so the two pools' threads never compete for the 2 cores.
 */
export async function compareOffload({ total, batch, sequential, rounds }, ctx) {
  const loop = await createLoop();
  const increment = (x) => x + 1;
  const makers = {
    zigloop: () => {
      const pool = createPool(loop, { size: 2 });
      return { call: (x) => pool.run(increment, [x]), close: () => pool.close() };
    },
    piscina: () => {
      const pool = new Piscina({
        filename: PISCINA_TASK,
        minThreads: 2,
        maxThreads: 2,
        idleTimeout: 60_000,
      });
      return { call: (x) => pool.run(x), close: () => pool.destroy() };
    },
  };
  const perCall = { zigloop: [], piscina: [] };
  const latency = { zigloop: [], piscina: [] };
  for (let round = -1; round < rounds; round++) {
    const order = round % 2 === 0 ? ["zigloop", "piscina"] : ["piscina", "zigloop"];
    const line = [];
    for (const subject of order) {
      const { call, close } = makers[subject]();
      await Promise.all(Array.from({ length: 100 }, (_, i) => call(i))); // threads up and warm
      const n = round < 0 ? total / 4 : total;
      const t0 = performance.now();
      for (let done = 0; done < n; done += batch) {
        const calls = [];
        for (let i = 0; i < batch; i++) calls.push(call(i));
        const results = await Promise.all(calls);
        if (results[batch - 1] !== batch)
          throw new Error(`${subject} returned ${results[batch - 1]}`);
      }
      const ns = ((performance.now() - t0) * 1e6) / n;
      const lat = [];
      for (let i = 0; i < sequential; i++) {
        const start = now();
        await call(i);
        lat.push(now() - start);
      }
      await close();
      if (round >= 0) {
        perCall[subject].push(ns);
        latency[subject].push(...lat);
      }
      lat.sort((a, b) => a - b);
      line.push(
        `${subject} ${ns.toFixed(0)} ns/call, one at a time p50 ${formatNumber(quantile(lat, 0.5) / 1000)} µs`,
      );
    }
    ctx.progress(
      `offload: ${round < 0 ? "warm-up" : `round ${round + 1}/${rounds}`}: ${line.join(", ")}`,
    );
  }
  loop.close();
  const summary = (list) => {
    const sorted = list.slice().sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  };
  const ratios = perCall.zigloop.map((ns, i) => perCall.piscina[i] / ns);
  return {
    zigloop: { nsPerCall: median(perCall.zigloop), latency: summary(latency.zigloop) },
    piscina: { nsPerCall: median(perCall.piscina), latency: summary(latency.piscina) },
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
  };
}

// ---- the suite ---------------------------------------------------------------------------------------

const PRODUCER_COUNTS = [1, 2, 4, 100];

async function throughput(ctx, rows, notes) {
  const rounds = ctx.quick ? 1 : 3;
  const total = ctx.quick ? 100_000 : 400_000;
  const lines = [];
  const waits = [];
  for (const producers of PRODUCER_COUNTS) {
    const {
      wall: r,
      cpu,
      waiting,
    } = await runIsolated(ctx, import.meta.url, "compareThroughput", { producers, total, rounds });
    const threads = `${producers} producer thread${producers > 1 ? "s" : ""}`;
    rows.push({
      benchmark: `throughput, ${threads} posting numbers (wall-clock ns per message on the loop)`,
      zigloop: r.ingress,
      peer: r.postMessage,
      peerName: "postMessage → loop.submit",
      unit: "ns/msg",
      ratio: r.ratio,
      ratioLabel: "faster",
      ratioRange: r.ratioRange,
      goal: ">= 10x",
      goalRatio: 10,
      met: r.ratio >= 10,
    });
    if (Number.isFinite(cpu.ingress)) {
      rows.push({
        benchmark: `loop thread's own CPU per message, ${threads} (schedstat: time on a CPU)`,
        zigloop: cpu.ingress,
        peer: cpu.postMessage,
        peerName: "postMessage → loop.submit",
        unit: "ns/msg",
        ratio: cpu.ratio,
        ratioLabel: "faster",
        ratioRange: cpu.ratioRange,
        goal: null,
        met: null,
      });
      waits.push(
        `${producers}: ${formatNumber(waiting.ingress)} vs ${formatNumber(waiting.postMessage)}`,
      );
    }
    lines.push(
      `${producers}: ${formatNumber(1e3 / r.ingress)} vs ${formatNumber(1e3 / r.postMessage)} M msgs/s`,
    );
  }
  if (waits.length > 0) {
    notes.push(
      "The loop thread's time waiting for a CPU (runnable, not running; schedstat) per message, ingress vs postMessage, " +
        `by producer threads: ${waits.join("; ")} ns. On 2 cores the producers and whatever else the machine runs take turns ` +
        "with the loop; its own CPU per message is the cost this design controls.",
    );
  }
  notes.push(
    `Throughput (${formatNumber(total)} messages per round, median of ${rounds} alternating rounds; time from the start signal to the last handler): ` +
      `ingress vs postMessage → loop.submit, by producer threads: ${lines.join("; ")}. Each message is one loop task with its ` +
      "microtask checkpoint in both. Producers use postWait (back-pressure, 64 KiB lanes); postMessage has none, so its " +
      "producers finish early and the main thread drains a long queue.",
  );
}

async function latency(ctx, rows, notes) {
  const rounds = ctx.quick ? 1 : 3;
  for (const awake of [true, false]) {
    const count = awake ? (ctx.quick ? 5_000 : 20_000) : ctx.quick ? 300 : 1_000;
    const pacingNs = awake ? 20_000 : 1_000_000;
    const r = await runIsolated(ctx, import.meta.url, "compareLatency", {
      awake,
      count,
      pacingNs,
      rounds,
    });
    const label = awake ? "loop awake" : "loop idle between messages";
    for (const q of ["p50", "p99"]) {
      const goal = awake && q === "p99";
      rows.push({
        benchmark: `latency from post to task start, ${q}, ${label} (one producer sleeping ≥ ${formatNumber(pacingNs / 1000)} µs between posts)`,
        zigloop: r.ingress[q] / 1000,
        peer: r.postMessage[q] / 1000,
        peerName: "postMessage → loop.submit",
        unit: "µs",
        ratio: r.postMessage[q] / r.ingress[q],
        ratioLabel: "faster",
        goal: goal ? "< 5 µs" : null,
        goalValue: goal ? 5 : undefined,
        goalValueOf: goal ? r.ingress[q] / 1000 : undefined,
        goalUnit: goal ? "µs" : undefined,
        goalDirection: goal ? "max" : undefined,
        met: goal ? r.ingress[q] / 1000 < 5 : null,
      });
    }
    notes.push(
      `Latency, ${label}: ${formatNumber(count)} messages per round, ${rounds} rounds pooled; p99.9 / max: ingress ` +
        `${formatNumber(r.ingress.p999 / 1000)} / ${formatNumber(r.ingress.max / 1000)} µs, postMessage ` +
        `${formatNumber(r.postMessage.p999 / 1000)} / ${formatNumber(r.postMessage.max / 1000)} µs. Timestamps: process.hrtime ` +
        `(one monotonic clock for all threads), ${formatNumber(r.costNs)} ns per reading subtracted.` +
        (awake
          ? " Awake: the ingress lingers (polls every loop turn); postMessage's main thread spins a setImmediate chain."
          : " Idle: the ingress consumer is parked in Atomics.waitAsync; Node's main thread sleeps in epoll."),
    );
  }
}

function bytes(rows, notes) {
  const cases = [
    ["a number", 42, 16],
    ["an 11-character string", "hello world", 8 + 16],
    ["a 64-byte Uint8Array", new Uint8Array(64), 8 + 64],
  ];
  for (const [what, value, ingressBytes] of cases) {
    const cloned = serialize(value).byteLength;
    rows.push({
      benchmark: `bytes per message carrying ${what}`,
      zigloop: ingressBytes,
      peer: cloned,
      peerName: "postMessage (V8 serializer payload only)",
      unit: "B",
      ratio: cloned / ingressBytes,
      ratioLabel: "smaller",
      goal: null,
      met: null,
    });
  }
  notes.push(
    "Bytes per message: the ingress record (8-byte header + payload padded to 8) in the lane; for postMessage the V8 " +
      "serializer's bytes only — Node adds a message object, a queue node and an uv_async wake-up per message on top.",
  );
}

async function offload(ctx, rows, notes) {
  const rounds = ctx.quick ? 1 : 3;
  const r = await runIsolated(ctx, import.meta.url, "compareOffload", {
    total: ctx.quick ? 20_000 : 100_000,
    batch: 1000,
    sequential: ctx.quick ? 500 : 2000,
    rounds,
  });
  rows.push({
    benchmark: "offload x => x + 1 on 2 threads, 1,000 calls in flight (ns per call)",
    zigloop: r.zigloop.nsPerCall,
    peer: r.piscina.nsPerCall,
    peerName: "piscina",
    unit: "ns/call",
    ratio: r.ratio,
    ratioLabel: "faster",
    ratioRange: r.ratioRange,
    goal: null,
    met: null,
  });
  for (const q of ["p50", "p99"]) {
    rows.push({
      benchmark: `offload one call at a time, round trip ${q}`,
      zigloop: r.zigloop.latency[q] / 1000,
      peer: r.piscina.latency[q] / 1000,
      peerName: "piscina",
      unit: "µs",
      ratio: r.piscina.latency[q] / r.zigloop.latency[q],
      ratioLabel: "faster",
      goal: null,
      met: null,
    });
  }
  notes.push(
    "Offload: zigloop's pool sends calls through a shared request lane per worker and results through the pool's ingress " +
      "(a loop.Promise settled in a loop task); piscina posts each task and result through a MessagePort (a native " +
      "Promise). Same function, 2 threads each, on this 2-core machine (the loop thread competes with them).",
  );
}

export async function run(ctx) {
  const rows = [];
  const notes = [];
  await throughput(ctx, rows, notes);
  await latency(ctx, rows, notes);
  bytes(rows, notes);
  await offload(ctx, rows, notes);
  return { rows, notes };
}

export default { name, title, issue, run };
