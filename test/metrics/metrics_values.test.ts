/**
 * Metrics values pinned exactly. A real-clock loop measures lateness and latency with
 * its host's clock, read again before every group of `latencyGroup` callbacks; on a
 * fake host (test/fake_host.ts) that clock moves only when the test says so, so each
 * known workload below has exactly one right answer, on any machine.
 *
 * Percentiles come from the core's log-linear histogram (README "Metrics", 1/32
 * precision; src-zig/histogram.zig): a value v ≥ 32 µs lands in one of 32 equal
 * sub-buckets of [2^e, 2^(e+1)), and a percentile reports the upper bound of the bucket
 * holding the true value, clamped to [min, max]. So a percentile is pinned to that bound
 * (e.g. 1000 µs: e = 9, sub-buckets of 16 µs, 1000 is in [992, 1008), reported as
 * 1.007 ms) and must lie within the stated precision of the true value.
 */
import { describe, expect, it } from "vitest";
import { createEventLoop, type LatencySummary } from "../../src-ts/node.ts";
import { onFakeHost } from "../fake_host.ts";

/** `reported` is within the histogram's stated precision of the exact value (1/32, plus the 1 µs of rounding). */
function expectWithinPrecision(reported: number, exact: number): void {
  expect(reported).toBeGreaterThanOrEqual(exact);
  expect(reported).toBeLessThanOrEqual(exact + exact / 32 + 0.001);
}

describe("timer lateness on a fake host", () => {
  it("is measured when each timer starts (latencyGroup: 1): a 5 ms timer behind a callback that ran 20 ms is 20 ms late", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: { latencyGroup: 1 } });
    loop.setTimeout(() => host.block(20), 5);
    loop.setTimeout(() => {}, 5);
    await host.until(loop.run());
    // Both ran in the turn at 5: the first on time, the second after the first's 20 ms.
    expect(loop.metrics().timerLateness).toEqual({
      count: 2,
      min: 0,
      max: 20,
      mean: 10,
      p50: 0,
      p90: 20, // 20000 µs's bucket ends at 20479 µs, clamped to the maximum
      p95: 20,
      p99: 20,
      p999: 20,
    });
    loop.close();
  });

  it("with the default group of 64, the clock is read again before every 64 timers", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: true });
    for (let i = 0; i < 130; i++) loop.setTimeout(() => host.block(1), 5);
    await host.until(loop.run());
    // Timers 0-63 are measured at 5 (on time), 64-127 at 5 + 64, the last two at 5 + 128.
    expect(loop.metrics().timerLateness).toEqual({
      count: 130,
      min: 0,
      max: 128,
      mean: (64 * 64 + 2 * 128) / 130,
      p50: 64.511, // 64000 µs is in [63488, 64512)
      p90: 64.511,
      p95: 64.511,
      p99: 128, // 128000 µs's bucket ends at 129023, clamped to the maximum
      p999: 128,
    });
    loop.close();
  });

  it("percentiles of a known distribution are the bounds of the buckets holding the exact values", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: { latencyGroup: 1 } });
    // 1000 timers due at 5 ms; the host first runs the loop at 6 ms, and each callback
    // takes what makes the next timer's lateness the next value of this distribution.
    const lateness = [
      ...Array<number>(500).fill(1),
      ...Array<number>(400).fill(3),
      ...Array<number>(50).fill(7),
      ...Array<number>(40).fill(20),
      ...Array<number>(9).fill(50),
      99,
    ];
    lateness.forEach((late, i) => {
      loop.setTimeout(() => host.block((lateness[i + 1] ?? late) - late), 5);
    });
    host.block(6); // the script runs until 6 ms
    await host.until(loop.run());
    const summary = loop.metrics().timerLateness;
    expect(summary).toEqual({
      count: 1000,
      min: 1,
      max: 99,
      mean: 3.399,
      p50: 1.007, // rank 500: 1000 µs, in [992, 1008)
      p90: 3.007, // rank 900: 3000 µs, in [2944, 3008)
      p95: 7.039, // rank 950: 7000 µs, in [6912, 7040)
      p99: 20.479, // rank 990: 20000 µs, in [19968, 20480)
      p999: 50.175, // rank 999 (not 1000: 99.9 / 100 rounds up in f64): 50000 µs, in [49152, 50176)
    });
    const exact = { p50: 1, p90: 3, p95: 7, p99: 20, p999: 50 };
    for (const [name, value] of Object.entries(exact)) {
      expectWithinPrecision(summary[name as keyof LatencySummary], value);
    }
    loop.close();
  });
});

describe("task latency on a fake host", () => {
  it("runs from submit (or setImmediate) to the start of the callback (latencyGroup: 1)", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: { latencyGroup: 1 } });
    for (let i = 0; i < 3; i++) loop.submit(() => host.block(10));
    loop.setImmediate(() => {});
    host.block(3); // the script runs until 3 ms: the host cannot run the loop before
    await host.until(loop.run());
    // The tasks start at 3, 13 and 23; the immediate, after the task phase, at 33.
    expect(loop.metrics().taskLatency).toEqual({
      count: 4,
      min: 3,
      max: 33,
      mean: (3 + 13 + 23 + 33) / 4,
      p50: 13.055, // rank 2: 13000 µs, in [12800, 13056)
      p90: 33,
      p95: 33,
      p99: 33,
      p999: 33,
    });
    loop.close();
  });

  it("with the default group of 64, tasks behind a 20 ms task are measured when their group starts", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: true });
    loop.submit(() => host.block(20));
    for (let i = 0; i < 200; i++) loop.submit(() => {});
    await host.until(loop.run());
    // The first group of 64 (the slow task among them) is measured at 0, the other 137 at 20.
    expect(loop.metrics().taskLatency).toEqual({
      count: 201,
      min: 0,
      max: 20,
      mean: expect.closeTo((137 * 20) / 201, 12),
      p50: 20,
      p90: 20,
      p95: 20,
      p99: 20,
      p999: 20,
    });
    loop.close();
  });
});

describe("utilization on a fake host", () => {
  it("is the share of host time spent in the loop: a 30 ms callback, then 30 ms idle until a timer at 60", async () => {
    const { host, zigloop } = await onFakeHost();
    const loop = await zigloop.createEventLoop({ metrics: true });
    loop.setTimeout(() => host.block(30), 0);
    loop.setTimeout(() => {}, 60);
    await host.until(loop.run());
    expect(host.now).toBe(60);
    expect(loop.metrics().utilization).toEqual({ active: 30, idle: 30, utilization: 0.5 });
    loop.close();
  });
});

// On the host's real clock only lower bounds hold on every machine: a loaded machine
// makes every wait longer, never shorter.
describe("on the real clock", () => {
  function busyWait(ms: number): void {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // spin
    }
  }

  it("a 5 ms timer behind a callback that busy-waits 20 ms is at least 20 ms late (latencyGroup: 1)", async () => {
    const loop = await createEventLoop({ metrics: { latencyGroup: 1 } });
    loop.setTimeout(() => busyWait(20), 5);
    loop.setTimeout(() => {}, 5);
    await loop.run();
    const lateness = loop.metrics().timerLateness;
    expect(lateness.count).toBe(2);
    expect(lateness.max).toBeGreaterThanOrEqual(20);
    loop.close();
  });

  it("with the default group, a task in a later group still sees at least the 20 ms of blocking work", async () => {
    const loop = await createEventLoop({ metrics: true });
    loop.submit(() => busyWait(20));
    for (let i = 0; i < 200; i++) loop.submit(() => {});
    await loop.run();
    const latency = loop.metrics().taskLatency;
    expect(latency.count).toBe(201);
    expect(latency.max).toBeGreaterThanOrEqual(20);
    loop.close();
  });

  it("percentiles are ordered and utilization counts at least the busy time", async () => {
    const loop = await createEventLoop({ metrics: true });
    loop.setTimeout(() => busyWait(30), 0);
    for (let i = 0; i < 200; i++) loop.setTimeout(() => {}, i % 20);
    await loop.run();
    const m = loop.metrics();
    const l = m.timerLateness;
    expect(l.count).toBe(201);
    expect(l.max).toBeGreaterThanOrEqual(30 - 19); // the timers due by 19 ran after the 30 ms callback
    const ordered = [l.min, l.p50, l.p90, l.p95, l.p99, l.p999, l.max];
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
    expect(l.min).toBeGreaterThanOrEqual(0);
    expect(m.utilization.active).toBeGreaterThanOrEqual(30);
    expect(m.utilization.utilization).toBeGreaterThan(0);
    expect(m.utilization.utilization).toBeLessThanOrEqual(1);
    loop.close();
  });
});
