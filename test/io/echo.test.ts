/// <reference types="node" />
/**
 * loop.watch with real host I/O: a TCP echo server on 127.0.0.1 whose connection
 * handling runs entirely on the loop, under a bounded load (200 connections x 100
 * messages) that must lose and reorder nothing.
 */
import net from "node:net";
import { describe, expect, it } from "vitest";
// @ts-expect-error: the example is plain JS (no declarations)
import { startEchoServer } from "../../examples/echo_server.mjs";
import { createEventLoop } from "../../src-ts/node.ts";

function client(
  port: number,
  messages: number,
  id: number,
): Promise<{ sent: string; received: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let sent = "";
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.length === sent.length && sent.length > 0 && sending === messages) socket.end();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve({ sent, received }));
    let sending = 0;
    const sendSome = () => {
      while (sending < messages) {
        const line = `client ${id} message ${sending} ${"x".repeat(sending % 17)}\n`;
        sent += line;
        sending++;
        if (!socket.write(line)) {
          socket.once("drain", sendSome);
          return;
        }
      }
    };
    socket.on("connect", sendSome);
  });
}

describe("loop.watch: TCP echo server on the loop", () => {
  it("200 connections x 100 messages: nothing lost, nothing reordered", async () => {
    const loop = await createEventLoop({ profile: "node", metrics: true });
    const { port, stop } = await startEchoServer(loop);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client(port, 100, i)));
    for (const { sent, received } of results) expect(received).toBe(sent);
    const bytes = results.reduce((n, r) => n + r.sent.length, 0);
    expect(bytes).toBeGreaterThan(200 * 100 * 20);
    await stop();
    const metrics = loop.metrics();
    // Every accept, read, write and close ran as a loop task.
    expect(metrics.tasksExecuted).toBeGreaterThanOrEqual(200 * 2);
    expect(metrics.handles.watchers).toBe(0); // connection watches ended with their sockets
    await loop.run(); // nothing ref'd is left: resolves
    loop.close();
  }, 30_000);
});

describe("loop.watch: sources and lifecycle", () => {
  it("EventTarget events arrive as loop tasks with a checkpoint each, in order", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const target = new EventTarget();
    const log: string[] = [];
    const watch = loop.watch(
      target,
      (event) => {
        log.push(`${event.type} ${(event.data as CustomEvent).detail}`);
        loop.queueMicrotask(() =>
          log.push(`microtask after ${(event.data as CustomEvent).detail}`),
        );
      },
      { events: ["ping"] },
    );
    target.dispatchEvent(new CustomEvent("ping", { detail: 1 }));
    target.dispatchEvent(new CustomEvent("ping", { detail: 2 }));
    expect(log).toEqual([]); // delivered as tasks, not synchronously
    loop.runUntilIdle();
    expect(log).toEqual(["ping 1", "microtask after 1", "ping 2", "microtask after 2"]);
    expect(loop.metrics().tasksExecuted).toBe(2);
    watch.close();
    target.dispatchEvent(new CustomEvent("ping", { detail: 3 }));
    loop.runUntilIdle();
    expect(log).toHaveLength(4);
  });

  it("closing a watch drops its queued events: no callback runs after close()", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const target = new EventTarget();
    const log: string[] = [];
    const watch = loop.watch(target, (event) => log.push(event.type), { events: ["a"] });
    target.dispatchEvent(new Event("a"));
    target.dispatchEvent(new Event("a"));
    watch.close();
    loop.runUntilIdle();
    expect(log).toEqual([]);
    expect(watch.closed).toBe(true);
  });

  it("a ReadableStream delivers data chunks, then end, and the watch closes itself", async () => {
    const loop = await createEventLoop();
    const chunks: unknown[] = [];
    const stream = new ReadableStream<string>({
      start(controller) {
        controller.enqueue("a");
        controller.enqueue("b");
        controller.close();
      },
    });
    let watch!: { closed: boolean };
    await new Promise<void>((resolve) => {
      watch = loop.watch(stream, (event) => {
        chunks.push(event.type === "data" ? event.data : event.type);
        if (event.type === "end") resolve();
      });
    });
    expect(chunks).toEqual(["a", "b", "end"]);
    expect(watch.closed).toBe(true);
    await loop.run();
    loop.close();
  });

  it("a ref'd watch keeps run() alive until closed; an unref'd one does not", async () => {
    const loop = await createEventLoop();
    const target = new EventTarget();
    const watch = loop.watch(target, () => {}, { events: ["x"] });
    let resolved = false;
    const running = loop.run().then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    watch.unref();
    await running;
    expect(resolved).toBe(true);
    expect(loop.metrics().handles.watchers).toBe(1);
    watch.close();
    expect(loop.metrics().handles.watchers).toBe(0);
    loop.close();
  });

  it("bad sources and callbacks are TypeErrors; watching after close throws LoopClosedError", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    expect(() => loop.watch({}, () => {})).toThrow(TypeError);
    expect(() => loop.watch(new EventTarget(), () => {})).toThrow(/name the event types/);
    expect(() => loop.watch(new EventTarget(), "nope" as never, { events: ["x"] })).toThrow(
      TypeError,
    );
    loop.close();
    expect(() => loop.watch(new EventTarget(), () => {}, { events: ["x"] })).toThrow(/closed/);
  });

  it("shutdown stops watches listening: events queued before it still run, later ones are refused", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const target = new EventTarget();
    const log: string[] = [];
    const watch = loop.watch(target, (event) => log.push(event.type), { events: ["a"] });
    target.dispatchEvent(new Event("a"));
    await loop.shutdown();
    target.dispatchEvent(new Event("a"));
    expect(log).toEqual(["a"]); // queued before shutdown: ran; the later one was not taken
    expect(watch.closed).toBe(true); // closed with the loop
  });
});
