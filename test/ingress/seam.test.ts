/// <reference types="node" />
/**
 * The loop's seam for work from other threads (src-ts/loop/ingress_host.ts): an ingress
 * holds one of the loop's refs, its messages are the loop's own tasks, the loop's close,
 * shutdown and trap reach it, and `zigloop/ingress` finds the seam on any copy of the loop
 * class (ESM loop, CommonJS ingress and the reverse).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createIngress, IngressClosedError, openIngress } from "../../src-ts/ingress/mod.ts";
import { createEventLoop } from "../../src-ts/node.ts";
import { loopWithCoreAccess } from "../reliability/_core_access.ts";

describe("the loop's seam for other threads", () => {
  it("a ref'd ingress is one of the loop's refs; unref and close give it back", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    expect(loop.pending.refs).toBe(0);
    const ingress = createIngress(loop);
    expect(loop.pending.refs).toBe(1);
    expect(loop.metrics().handles.refs).toBe(1);
    ingress.unref();
    expect(loop.pending.refs).toBe(0);
    ingress.ref();
    expect(loop.pending.refs).toBe(1);
    ingress.close();
    expect(loop.pending.refs).toBe(0);
    createIngress(loop, { ref: false });
    expect(loop.pending.refs).toBe(0);
    loop.close();
  });

  it("messages are the loop's tasks: FIFO with submit, a checkpoint after each, counted in metrics", async () => {
    const loop = await createEventLoop({ clock: "manual", metrics: true });
    const ingress = createIngress(loop, { window: 4 });
    const log: string[] = [];
    ingress.on(1, (value: number) => {
      log.push(`message ${value}`);
      loop.queueMicrotask(() => log.push(`microtask ${value}`));
    });
    const port = openIngress(ingress.description);
    loop.submit(() => log.push("submitted first"));
    for (let i = 0; i < 3; i++) port.post(1, i);
    // The consumer is parked: a producer's wake-up arrives as a host job.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = loop.metrics().tasksExecuted;
    loop.runUntilIdle();
    expect(log).toEqual([
      "submitted first",
      "message 0",
      "microtask 0",
      "message 1",
      "microtask 1",
      "message 2",
      "microtask 2",
    ]);
    // 1 submitted task + 3 messages (+ the consumer's own pump tasks).
    expect(loop.metrics().tasksExecuted - before).toBeGreaterThanOrEqual(4);
    ingress.close();
    loop.close();
  });

  it("close() reports messages still in lanes; shutdown() after close() reports the same", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop);
    const port = openIngress(ingress.description);
    for (let i = 0; i < 7; i++) port.post(1, i);
    const shutdown = loop.shutdown({ graceful: false });
    expect(loop.close().ingress).toEqual({ delivered: 0, undelivered: 7 });
    expect((await shutdown).ingress).toEqual({ delivered: 0, undelivered: 7 });
    expect(() => port.post(1, 8)).toThrow(IngressClosedError);
    expect(() => createIngress(loop)).toThrow(IngressClosedError);
  });

  it("no ingress open: the reports carry no ingress field", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    createIngress(loop).close();
    expect("ingress" in loop.close()).toBe(false);
    const other = await createEventLoop();
    expect("ingress" in (await other.shutdown())).toBe(false);
  });

  it("a trapped core closes the loop's ingresses: producers see IngressClosedError, not a full lane", () => {
    const access = loopWithCoreAccess();
    const ingress = createIngress(access.loop);
    const port = openIngress(ingress.description);
    expect(port.post(1, 1)).toBe(true);
    access.armed.add("zl_task_push");
    expect(() => access.loop.submit(() => {})).toThrow();
    expect(access.loop.state).toBe("broken");
    expect(ingress.closed).toBe(true);
    expect(ingress.report?.undelivered).toBe(1);
    expect(() => port.post(1, 2)).toThrow(IngressClosedError);
  });

  it("createIngress refuses what is not a loop, with the call in the message", () => {
    expect(() => createIngress({} as never)).toThrow(
      /createIngress\(loop, options\): The "loop" argument must be a zigloop EventLoop/,
    );
    expect(() => createIngress(null as never)).toThrow(TypeError);
  });

  it("an ESM loop with the CommonJS zigloop/ingress, and a CommonJS loop with the ESM one", async () => {
    const require = createRequire(import.meta.url);
    const cjsIngress = require("../../dist/cjs/ingress.cjs");
    const cjsCore = require("../../dist/cjs/zigloop.cjs");
    const esmIngress = await import("../../dist/ingress/mod.js" as string);
    const esmCore = await import("../../dist/node.js" as string);
    for (const [core, ingressModule] of [
      [esmCore, cjsIngress],
      [cjsCore, esmIngress],
    ]) {
      const loop = await core.createEventLoop({ clock: "manual" });
      const ingress = ingressModule.createIngress(loop);
      expect(loop.pending.refs).toBe(1);
      openIngress(ingress.description).post(1, 1);
      expect(loop.close().ingress).toEqual({ delivered: 0, undelivered: 1 });
    }
  });
});
