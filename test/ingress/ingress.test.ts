/// <reference types="node" />
/**
 * The ingress end to end: producers in real worker threads (fixtures/producer.mjs) post
 * into a loop. Each test names the guarantee it checks (docs/INGRESS.md).
 */
import { describe, expect, it } from "vitest";
import { L_TAIL, laneWord } from "../../src-ts/ingress/layout.ts";
import {
  createIngress,
  IngressClosedError,
  openIngress,
  ThreadsUnavailableError,
} from "../../src-ts/ingress/mod.ts";
import { LaneWriter, makeViews } from "../../src-ts/ingress/wire.ts";
import { createEventLoop } from "../../src-ts/node.ts";
import { startProducer, until } from "./_helpers.ts";

describe("ingress: delivery", () => {
  it("4 producers x 20,000 messages through 4 KiB lanes: each producer's messages arrive once, in order, one task each", async () => {
    const loop = await createEventLoop({ metrics: true });
    const ingress = createIngress(loop, { laneBytes: 4096, window: 256 });
    const next = new Map<number, number>();
    const order: string[] = [];
    let delivered = 0;
    let done = 0;
    const PRODUCERS = 4;
    const COUNT = 20_000;
    ingress.on(1, (value: number, producer: number) => {
      const tag = Math.floor(value / 1e6);
      const expected = next.get(tag) ?? 0;
      if (value % 1e6 !== expected)
        throw new Error(`producer ${tag}: got ${value % 1e6}, expected ${expected}`);
      next.set(tag, expected + 1);
      delivered++;
      expect(producer).toBeGreaterThan(0);
      // Its microtask checkpoint runs before the next message's task.
      if (delivered % 5000 === 0) {
        order.push(`task ${delivered}`);
        loop.queueMicrotask(() => order.push(`microtask ${delivered}`));
      }
    });
    ingress.on(2, () => {
      if (++done === PRODUCERS) ingress.close();
    });
    const errors: unknown[] = [];
    loop.onError = (error) => errors.push(error);
    const producers = Array.from({ length: PRODUCERS }, (_, tag) =>
      startProducer({ description: ingress.description, mode: "sequence", count: COUNT, tag }),
    );
    await loop.run();
    await Promise.all(producers.map((p) => p.result));
    expect(errors).toEqual([]);
    expect(delivered).toBe(PRODUCERS * COUNT);
    expect([...next.values()]).toEqual(Array(PRODUCERS).fill(COUNT));
    for (let i = 0; i < order.length; i += 2)
      expect(order[i + 1]).toBe(order[i]!.replace("task", "microtask"));
    expect(ingress.report).toEqual({
      delivered: PRODUCERS * (COUNT + 1),
      undelivered: 0,
      producers: [],
    });
    expect(loop.metrics().tasksExecuted).toBeGreaterThanOrEqual(PRODUCERS * (COUNT + 1));
    loop.close();
  }, 60_000);

  it("payloads cross as values of the loop's realm: numbers, strings, typed arrays, structured values", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop);
    const payload = [
      42,
      "plain",
      "snow \u2603 and \u{1f600}",
      new Uint8Array([1, 2, 3]),
      new Float64Array([0.5]),
      { nested: [1, { deep: true }], when: new Date(5) },
      null,
      true,
    ];
    const received: unknown[] = [];
    ingress.on(7, (value) => received.push(value));
    ingress.on(8, () => ingress.close());
    startProducer({ description: ingress.description, mode: "payloads", kind: 7, payload });
    await loop.run();
    expect(received).toEqual(payload);
    expect(Object.getPrototypeOf(received[5])).toBe(Object.prototype);
    loop.close();
  });

  it("a handler that throws reports to onError and the next message still runs; an unknown kind is a TypeError there", async () => {
    const errors: Error[] = [];
    const loop = await createEventLoop({ onError: (error) => errors.push(error as Error) });
    const ingress = createIngress(loop);
    const seen: number[] = [];
    ingress.on(1, (value: number) => {
      seen.push(value);
      if (value === 1) throw new Error("handler failed");
    });
    const port = openIngress(ingress.description);
    port.post(1, 0);
    port.post(1, 1);
    port.post(9, "nobody listens");
    port.post(1, 2);
    await until(() => seen.length === 3 && errors.length === 2, "the messages");
    expect(seen).toEqual([0, 1, 2]);
    expect(errors[0]!.message).toBe("handler failed");
    expect(errors[1]).toBeInstanceOf(TypeError);
    expect(errors[1]!.message).toMatch(/no handler for message kind 9/);
    ingress.close();
    loop.close();
  });

  it("a manual-clock loop runs messages when it is driven", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop);
    const seen: string[] = [];
    ingress.on(1, (value: string) => seen.push(value));
    const port = openIngress(ingress.description);
    port.post(1, "a");
    port.post(1, "b");
    await until(() => loop.pending.tasks > 0, "the consumer to take the messages");
    expect(seen).toEqual([]);
    loop.runUntilIdle();
    expect(seen).toEqual(["a", "b"]);
    ingress.close();
    loop.close();
  });
});

describe("ingress: wake-ups", () => {
  it("no lost wake-up: 300 posts, each into a parked consumer, are all delivered", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { pollMs: 3_600_000 }); // no fallback polling: only notify wakes it
    let delivered = 0;
    ingress.on(1, () => delivered++);
    const port = openIngress(ingress.description);
    for (let i = 0; i < 300; i++) {
      await until(() => ingress.stats().parked, "the consumer to park");
      port.post(1, i);
      await until(() => delivered === i + 1, `message ${i}`);
    }
    expect(ingress.stats().wakeups).toBeGreaterThanOrEqual(300);
    ingress.close();
    loop.close();
  });

  it("no lost wake-up under races: producers in bursts with random pauses; everything arrives without the fallback timer", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { pollMs: 3_600_000, laneBytes: 1024 });
    const counts = [0, 0, 0];
    let done = 0;
    ingress.on(1, (value: number) => counts[Math.floor(value / 1e6)]!++);
    ingress.on(2, () => {
      if (++done === 3) ingress.close();
    });
    const producers = [0, 1, 2].map((tag) =>
      startProducer({
        description: ingress.description,
        mode: "bursts",
        count: 3000,
        tag,
        burst: 40,
        pauseMs: 1,
      }),
    );
    await loop.run();
    await Promise.all(producers.map((p) => p.result));
    expect(counts).toEqual([3000, 3000, 3000]);
    expect(ingress.stats().wakeups).toBeGreaterThan(10); // it did park and wake, many times
    loop.close();
  }, 30_000);

  it("a loop that is running does not park with messages pending: posts from inside handlers keep it going", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { pollMs: 3_600_000, window: 4 });
    const port = openIngress(ingress.description);
    let n = 0;
    ingress.on(1, () => {
      if (++n < 5000) port.post(1, n);
      else ingress.close();
    });
    port.post(1, 0);
    await loop.run();
    expect(n).toBe(5000);
    loop.close();
  });
});

describe("ingress: back-pressure", () => {
  it("a full lane makes post return false and overwrites nothing; the messages arrive once the loop runs", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop, { laneBytes: 256 });
    const seen: number[] = [];
    ingress.on(1, (value: number) => seen.push(value));
    const port = openIngress(ingress.description);
    let accepted = 0;
    while (port.post(1, accepted)) accepted++;
    expect(accepted).toBe(16);
    expect(port.post(1, 999)).toBe(false);
    expect(port.stats).toEqual({ posted: 16, full: 2 });
    await until(() => loop.pending.tasks > 0, "the consumer");
    loop.runUntilIdle();
    expect(seen).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(port.post(1, 16)).toBe(true);
    ingress.close();
    loop.close();
  });

  it("postWait waits for room up to its timeout, then returns false", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop, { laneBytes: 256 });
    ingress.on(1, () => {});
    const port = openIngress(ingress.description);
    while (port.post(1, 0));
    const started = performance.now();
    expect(port.postWait(1, 0, 30)).toBe(false); // nobody consumes: the loop is not driven
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    ingress.close();
    loop.close();
  });

  it("a producer blocked in postWait on a full lane is released by close(): IngressClosedError, and the report counts what it had posted", async () => {
    const loop = await createEventLoop({ clock: "manual" }); // never driven: nothing is consumed
    const ingress = createIngress(loop, { laneBytes: 256 });
    const producer = startProducer({
      description: ingress.description,
      mode: "closed",
      tag: 1,
      timeoutMs: 60_000,
    });
    const id = await producer.opened;
    await new Promise((resolve) => setTimeout(resolve, 100)); // it fills the lane and blocks
    const report = ingress.close();
    const result = await producer.result;
    expect(result.error).toEqual({ name: "IngressClosedError", code: "ERR_INGRESS_CLOSED" });
    expect(result.accepted).toBe(16);
    expect(report).toEqual({ delivered: 0, undelivered: 16, producers: [{ id, undelivered: 16 }] });
    loop.close();
  });
});

describe("ingress: producers that die", () => {
  it("a record written but never published (the producer died mid-write) is invisible; the loop is not wedged", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { retireGraceMs: 50 });
    const seen: unknown[] = [];
    ingress.on(1, (value) => seen.push(value));
    const dying = openIngress(ingress.description);
    dying.post(1, "before");
    // Write a record on the dying producer's lane without publishing it, as a thread
    // stopped between its writes and its compare-and-swap would leave it.
    const lane = dying.id % 4096;
    const views = makeViews(ingress.description.buffer);
    const tail = Atomics.load(views.i32, laneWord(lane, L_TAIL));
    const ghost = new LaneWriter(views, 16, 65536, lane, tail);
    const at = ghost.reserve(16);
    views.i32[at >> 2] = (1 << 16) | 5;
    views.i32[(at >> 2) + 1] = 8;
    views.f64[(at >> 3) + 1] = 666;
    const other = openIngress(ingress.description);
    other.post(1, "other producer");
    await until(() => seen.length === 2, "both published messages");
    ingress.retire(dying.id);
    expect(() => dying.post(1, "after retire")).toThrow(IngressClosedError); // its lane is sealed
    other.post(1, "still flowing");
    await until(() => seen.length === 3, "the other producer");
    expect(seen).toEqual(["before", "other producer", "still flowing"]);
    // After the grace period the lane is free again: a new producer gets it and is delivered.
    await until(() => {
      try {
        const fresh = openIngress(ingress.description);
        fresh.post(1, `fresh ${fresh.id % 4096 === lane}`);
        return true;
      } catch {
        return false;
      }
    }, "a free lane");
    await until(() => seen.length === 4, "the fresh producer");
    ingress.close();
    loop.close();
  });

  it("threads terminated mid-stream: what each published arrives whole and in order, nothing after; others go on", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { laneBytes: 4096, retireGraceMs: 0 });
    const counter = new SharedArrayBuffer(4 * 8);
    const next = new Map<number, number>();
    ingress.on(1, (value: number) => {
      const tag = Math.floor(value / 1e6);
      const expected = next.get(tag) ?? 0;
      if (value % 1e6 !== expected)
        throw new Error(`producer ${tag}: got ${value % 1e6}, expected ${expected}`);
      next.set(tag, expected + 1);
    });
    const errors: unknown[] = [];
    loop.onError = (error) => errors.push(error);
    for (let tag = 0; tag < 6; tag++) {
      const producer = startProducer({
        description: ingress.description,
        mode: "flood",
        tag,
        counter,
      });
      const id = await producer.opened;
      await new Promise((resolve) => setTimeout(resolve, 5 + tag * 7));
      await producer.worker.terminate(); // stops it wherever it is: possibly mid-write
      const acknowledged = Atomics.load(new Int32Array(counter), tag);
      let drained = false;
      ingress.retire(id, () => (drained = true));
      await until(() => drained, `producer ${tag}'s published messages`);
      // It may have published one message it never counted (killed between the two).
      expect(next.get(tag) ?? 0).toBeGreaterThanOrEqual(acknowledged);
      expect(next.get(tag) ?? 0).toBeLessThanOrEqual(acknowledged + 1);
    }
    expect(errors).toEqual([]);
    ingress.close();
    loop.close();
  }, 30_000);
});

describe("ingress: closing and counting", () => {
  it("close() counts accepted messages that will not run (per producer); later posts throw IngressClosedError", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop);
    let ran = 0;
    ingress.on(1, () => ran++);
    const a = openIngress(ingress.description);
    const b = openIngress(ingress.description);
    for (let i = 0; i < 5; i++) a.post(1, i);
    for (let i = 0; i < 3; i++) b.post(1, i);
    await until(() => loop.pending.tasks >= 8, "the consumer to queue them");
    const report = ingress.close();
    expect(report.undelivered + report.delivered).toBe(8);
    expect(report.producers.reduce((n, p) => n + p.undelivered, 0)).toBe(report.undelivered);
    loop.runUntilIdle(); // the queued tasks run as no-ops: no handler after close()
    expect(ran).toBe(report.delivered);
    expect(() => a.post(1, 9)).toThrow(IngressClosedError);
    expect(() => openIngress(ingress.description)).toThrow(IngressClosedError);
    expect(ingress.close()).toBe(report);
    loop.close();
  });

  it("shutdown() seals, runs everything accepted, then closes", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { window: 2 });
    const seen: number[] = [];
    ingress.on(1, (value: number) => seen.push(value));
    const port = openIngress(ingress.description);
    for (let i = 0; i < 100; i++) port.post(1, i);
    const report = await ingress.shutdown();
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(report).toEqual({ delivered: 100, undelivered: 0, producers: [] });
    expect(() => port.post(1, 0)).toThrow(IngressClosedError);
    loop.close();
  });

  it("the loop's close() reports the ingress's undelivered messages; its graceful shutdown() delivers them first", async () => {
    const loop = await createEventLoop({ clock: "manual" });
    const ingress = createIngress(loop);
    let ran = 0;
    ingress.on(1, () => ran++);
    const port = openIngress(ingress.description);
    for (let i = 0; i < 10; i++) port.post(1, i);
    const report = loop.close();
    expect(report.ingress).toEqual({ delivered: 0, undelivered: 10 });
    expect(ran).toBe(0);
    expect(ingress.closed).toBe(true);

    const loop2 = await createEventLoop();
    const ingress2 = createIngress(loop2, { window: 3 });
    let ran2 = 0;
    ingress2.on(1, () => ran2++);
    const port2 = openIngress(ingress2.description);
    for (let i = 0; i < 50; i++) port2.post(1, i);
    const shutdown = await loop2.shutdown();
    expect(ran2).toBe(50);
    expect(shutdown.ingress).toEqual({ delivered: 50, undelivered: 0 });
    expect(shutdown.ranTasks).toBeGreaterThanOrEqual(50); // each message was a loop task
    expect(() => createIngress(loop2)).toThrow(IngressClosedError);
  });
});

describe("ingress: ref and unref", () => {
  it("run() stays pending while the ingress is ref'd, and resolves once it is unref'd or closed", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop);
    let settled = false;
    const running = loop.run().then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    ingress.unref();
    await running;
    expect(ingress.hasRef()).toBe(false);
    ingress.ref();
    settled = false;
    const again = loop.run().then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    ingress.close();
    await again;
    loop.close();
  });

  it("an unref'd ingress still delivers while the loop runs", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { ref: false });
    const seen: number[] = [];
    ingress.on(1, (value: number) => seen.push(value));
    loop.setTimeout(() => {}, 100); // keeps the loop alive meanwhile
    openIngress(ingress.description).post(1, 5);
    await loop.run();
    expect(seen).toEqual([5]);
    ingress.close();
    loop.close();
  });
});

describe("ingress: options and availability", () => {
  it("bad options are RangeErrors that name the option", async () => {
    const loop = await createEventLoop();
    expect(() => createIngress(loop, { producers: 0 })).toThrow(
      /producers must be an integer from 1 to 4096/,
    );
    expect(() => createIngress(loop, { laneBytes: 1000 })).toThrow(/power of two/);
    expect(() => createIngress(loop, { laneBytes: 128 })).toThrow(RangeError);
    expect(() => createIngress(loop, { linger: -1 })).toThrow(/linger/);
    const ingress = createIngress(loop);
    expect(() => ingress.on(65535, () => {})).toThrow(RangeError);
    expect(() => openIngress({ buffer: new SharedArrayBuffer(8) })).toThrow(TypeError);
    expect(() => openIngress(ingress.description).post(-1, 0)).toThrow(RangeError);
    ingress.close();
    loop.close();
  });

  it("all lanes taken: openIngress throws a RangeError; a closed port's lane is reused once drained", async () => {
    const loop = await createEventLoop();
    const ingress = createIngress(loop, { producers: 2 });
    let seen = 0;
    ingress.on(1, () => seen++);
    const a = openIngress(ingress.description);
    openIngress(ingress.description);
    expect(() => openIngress(ingress.description)).toThrow(/all 2 producer lanes are in use/);
    a.post(1, 1);
    a.close();
    await until(() => seen === 1, "a's message");
    await until(() => {
      try {
        openIngress(ingress.description).post(1, 2);
        return true;
      } catch {
        return false;
      }
    }, "a's lane to be freed");
    await until(() => seen === 2, "the new producer's message");
    ingress.close();
    loop.close();
  });

  it("without SharedArrayBuffer (workerd; pages that are not cross-origin isolated) createIngress throws ThreadsUnavailableError", async () => {
    const loop = await createEventLoop();
    const saved = globalThis.SharedArrayBuffer;
    // @ts-expect-error: simulating a runtime without shared memory
    delete globalThis.SharedArrayBuffer;
    try {
      expect(() => createIngress(loop)).toThrow(ThreadsUnavailableError);
      expect(() => createIngress(loop)).toThrow(/cross-origin isolated/);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    loop.close();
  });
});
