/**
 * Metrics: known workloads produce known counts (manual clock). Latency, lateness,
 * percentiles and utilization are pinned in metrics_values.test.ts, on a fake host.
 */
import { describe, expect, it } from "vitest";
import { createEventLoop } from "../../src-ts/node.ts";

describe("metrics", () => {
  it("counts every macrotask and microtask of a known workload", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    for (let i = 0; i < 100; i++) loop.setTimeout(() => loop.queueMicrotask(() => {}), i);
    for (let i = 0; i < 50; i++) loop.submit(() => {});
    for (let i = 0; i < 25; i++) loop.setImmediate(() => {});
    const cleared = loop.setImmediate(() => {});
    loop.clearImmediate(cleared);
    loop.advance(1000);
    const m = loop.metrics();
    expect(m.timersFired).toBe(100);
    expect(m.immediatesExecuted).toBe(25);
    expect(m.tasksExecuted).toBe(175);
    expect(m.microtasksExecuted).toBe(100);
    expect(m.queue.ingress).toEqual({ current: 0, max: 50 });
    expect(m.queue.timers).toEqual({ current: 0, max: 100 });
    expect(m.queue.immediates.max).toBe(26);
  });

  it("timers cleared after they were collected are not counted as fired", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    let second = 0;
    loop.setTimeout(() => loop.clearTimeout(second), 10);
    second = loop.setTimeout(() => {}, 10);
    loop.advance(10);
    expect(loop.metrics().timersFired).toBe(1);
  });

  it("timer lateness on a virtual clock is exactly zero", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    for (let i = 0; i < 1000; i++) loop.setTimeout(() => {}, (i * 7919) % 5000);
    loop.runAll();
    const lateness = loop.metrics().timerLateness;
    expect(lateness.count).toBe(1000);
    expect([lateness.min, lateness.p50, lateness.p99, lateness.max, lateness.mean]).toEqual([
      0, 0, 0, 0, 0,
    ]);
  });

  it("throughput reports a rate; resetMetrics starts a new window", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    for (let i = 0; i < 1000; i++) loop.setTimeout(() => {}, i);
    loop.advance(2500);
    const m = loop.metrics();
    expect(m.throughput.tasksPerSecond.peak).toBeGreaterThan(0);
    loop.resetMetrics();
    const fresh = loop.metrics();
    expect(fresh.tasksExecuted).toBe(0);
    expect(fresh.timerLateness.count).toBe(0);
    expect(fresh.queue.timers.max).toBe(0);
    expect(fresh.since).toBe(2500);
  });

  it("throughput is the rate over the last complete second of loop time: exact on a manual clock", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    for (let i = 1; i <= 1000; i++) loop.setTimeout(() => {}, i);
    loop.advance(1000);
    const m = loop.metrics();
    expect(m.tasksExecuted).toBe(1000);
    expect(m.throughput.tasksPerSecond).toEqual({ current: 1000, peak: 1000 });
    // An idle second after it: the window that completed by now is closed, so the rate falls.
    loop.advance(1000);
    expect(loop.metrics().throughput.tasksPerSecond).toEqual({ current: 0, peak: 1000 });
  });

  it("a run shorter than a second reports no rate (no projection from 25 ms)", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    for (let i = 1; i <= 10; i++) loop.setTimeout(() => {}, i);
    loop.advance(25);
    const m = loop.metrics();
    expect(m.tasksExecuted).toBe(10);
    expect(m.throughput.tasksPerSecond).toEqual({ current: 0, peak: 0 });
  });

  it("without metrics on there is no throughput and no utilization, only counts", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    for (let i = 1; i <= 1000; i++) loop.setTimeout(() => {}, i);
    loop.advance(2000);
    const m = loop.metrics();
    expect(m.tasksExecuted).toBe(1000);
    expect(m.throughput).toEqual({
      tasksPerSecond: { current: 0, peak: 0 },
      microtasksPerSecond: { current: 0, peak: 0 },
    });
    expect(m.utilization).toEqual({ active: 0, idle: 0, utilization: 0 });
  });

  it("without metrics: true, counts and depths still work and histograms stay empty", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    loop.setTimeout(() => {}, 1);
    loop.advance(5);
    const m = loop.metrics();
    expect(m.timersFired).toBe(1);
    expect(m.timerLateness.count).toBe(0);
  });
});
