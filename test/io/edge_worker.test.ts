/// <reference types="node" />
/**
 * The edge-worker embedding, in real workerd on 127.0.0.1: each request creates a
 * loop, runs a guest with the loop's timers and Promise, awaits loop.run() inside the
 * request and answers with the result and the loop's metrics. Needs dist/ (built by
 * `npm install`'s prepare step, or `npm run build`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain JS helper shared with the runtime runners
import { startWorkerd } from "../runtimes/workerd_server.mjs";

let server: { url: string; stop(): Promise<unknown>; log(): string };

beforeAll(async () => {
  server = await startWorkerd({ main: "examples/edge_worker/worker.mjs" });
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

describe("edge worker in workerd", () => {
  it("runs the guest on a per-request loop and answers with its result and metrics", async () => {
    const response = await fetch(`${server.url}/?name=zigloop`);
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body.result).toEqual({
      greeting: "hello, zigloop",
      events: ["microtask", "slept, 3 ticks", "all: ab"],
    });
    // sleep(10), three interval beats, sleep(1), sleep(2): six timer callbacks.
    expect(body.metrics.timersFired).toBe(6);
    expect(body.metrics.tasksExecuted).toBeGreaterThanOrEqual(6);
    expect(body.metrics.microtasksExecuted).toBeGreaterThan(0);
    expect(body.metrics.loopTimeMs).toBeGreaterThanOrEqual(10);
  });

  it("concurrent requests each get their own loop", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
    const bodies = await Promise.all(
      names.map((name) => fetch(`${server.url}/?name=${name}`).then((r) => r.json())),
    );
    expect(bodies.map((b) => b.result.greeting)).toEqual(names.map((n) => `hello, ${n}`));
    for (const body of bodies) expect(body.metrics.timersFired).toBe(6);
  });
});
