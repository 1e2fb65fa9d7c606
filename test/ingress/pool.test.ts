/// <reference types="node" />
/**
 * offload / createPool with real worker threads: results settle loop promises on the
 * loop, errors cross with their constructor, message and stack, AbortSignal cancels
 * queued and running calls, a worker that dies is replaced, and closing settles
 * everything. The workers run the built pool_worker.js (dist/, built by the test setup).
 */
import { describe, expect, it } from "vitest";
import {
  createPool,
  OffloadError,
  offload,
  ThreadsUnavailableError,
} from "../../src-ts/ingress/mod.ts";
import { createEventLoop } from "../../src-ts/node.ts";

const workerUrl = new URL("../../dist/ingress/pool_worker.js", import.meta.url);

describe("offload: results on the loop", () => {
  it("a result settles a loop.Promise, in a loop task: its reactions run in that task's checkpoint", async () => {
    const loop = await createEventLoop({ metrics: true });
    const pool = createPool(loop, { size: 2, workerUrl });
    const promise = pool.run((a: number, b: number) => a + b, [20, 22]);
    expect(promise).toBeInstanceOf(loop.Promise);
    const log: string[] = [];
    promise.then((value) => {
      log.push(`reaction ${value} (state ${loop.state})`);
    });
    await promise;
    expect(log).toEqual(["reaction 42 (state running)"]);
    expect(loop.metrics().tasksExecuted).toBeGreaterThanOrEqual(1);
    await pool.close();
    loop.close();
  });

  it("async functions, structured arguments and results, 1,000 calls in flight", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 2, workerUrl });
    const asyncResult = await pool.run(
      async (input: { list: number[]; map: Map<string, number> }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return {
          sum: input.list.reduce((a, b) => a + b, 0),
          keys: [...input.map.keys()],
          bytes: new Uint8Array([1, 2]),
        };
      },
      [{ list: [1, 2, 3], map: new Map([["a", 1]]) }],
    );
    expect(asyncResult).toEqual({ sum: 6, keys: ["a"], bytes: new Uint8Array([1, 2]) });
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => pool.run((n: number) => n * n, [i])),
    );
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i * i));
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0, completed: 1001, failed: 0 });
    await pool.close();
    loop.close();
  });

  it("errors cross as errors: the loop realm's constructor, message, code, cause and the worker's stack", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, workerUrl });
    const error = await pool
      .run(function failing() {
        throw Object.assign(new RangeError("out of range", { cause: new Error("root") }), {
          code: "E_RANGE",
        });
      })
      .then(
        () => undefined,
        (e: unknown) => e as RangeError & { code: string },
      );
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toBe("out of range");
    expect(error!.code).toBe("E_RANGE");
    expect((error!.cause as Error).message).toBe("root");
    expect(error!.stack).toMatch(/RangeError: out of range\n\s+at failing \(zigloop-offload-1\.js/);
    const rejected = await pool
      .run(async () => Promise.reject(new TypeError("async failure")))
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(TypeError);
    const syntax = await pool
      .run(
        {
          method() {
            return 1;
          },
        }.method,
      )
      .catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(SyntaxError); // a method's source is not an expression
    const unclonable = await pool.run(() => () => 1).catch((e: unknown) => e);
    expect(unclonable).toBeInstanceOf(TypeError);
    expect((unclonable as Error).message).toMatch(/cannot be cloned/);
    await pool.close();
    loop.close();
  });

  it("bad arguments throw at the call: not a function, a native function, an argument that cannot be cloned", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, workerUrl });
    expect(() => pool.run(42 as never)).toThrow(TypeError);
    expect(() => pool.run(Math.max)).toThrow(/native or bound/);
    expect(() => pool.run((f: unknown) => f, [() => 1])).toThrow(/cannot be cloned/);
    expect(() => offload(loop, null as never)).toThrow(TypeError);
    await pool.close();
    loop.close();
  });
});

describe("offload: cancellation", () => {
  it("an AbortSignal rejects at once; a running call's worker is terminated and replaced; a queued call never runs", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, pipeline: 3, workerUrl });
    const spin = (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return ms;
    };
    expect(await pool.run(() => "warm")).toBe("warm"); // the worker is up: the spin below starts at once
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.run(spin, [5_000], { signal: running.signal });
    const second = pool.run(spin, [1], { signal: queued.signal }); // pipelined behind the first
    const third = pool.run((x: number) => x + 1, [1]); // innocent, queued on the same worker: sent again to its replacement
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    queued.abort(new Error("not needed"));
    running.abort(new Error("too slow"));
    await expect(first).rejects.toThrow("too slow");
    await expect(second).rejects.toThrow("not needed");
    expect(await third).toBe(2);
    expect(performance.now() - started).toBeLessThan(3_000); // did not wait for the 5 s spin
    expect(pool.stats()).toMatchObject({ cancelled: 2, workersLost: 1 }); // the second was skipped, not run
    expect(await pool.run((x: number) => x * 3, [5])).toBe(15); // a replacement worker
    const aborted = new AbortController();
    aborted.abort(new Error("already"));
    await expect(pool.run(spin, [1], { signal: aborted.signal })).rejects.toThrow("already");
    await expect(offload(loop, { signal: aborted.signal }, spin, 1)).rejects.toThrow("already");
    await pool.close();
    loop.close();
  }, 20_000);
});

describe("offload: failures and closing", () => {
  it("a worker that dies (process.exit in the worker) rejects its running call with OffloadError; the pool goes on", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, workerUrl });
    const dead = await pool
      .run(() => {
        (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3);
      })
      .catch((e: unknown) => e);
    expect(dead).toBeInstanceOf(OffloadError);
    expect((dead as OffloadError).code).toBe("ERR_OFFLOAD_WORKER_EXITED");
    expect(await pool.run(() => "alive")).toBe("alive");
    await pool.close();
    loop.close();
  });

  it("destroy() rejects every unsettled call; close() lets them finish; the loop's close() destroys its pools", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, workerUrl });
    const slow = pool.run(() => new Promise((resolve) => setTimeout(() => resolve("late"), 200)));
    const graceful = pool.close();
    await expect(pool.run(() => 1)).rejects.toThrow(OffloadError);
    expect(await slow).toBe("late");
    await graceful;

    const pool2 = createPool(loop, { size: 1, workerUrl });
    const never = pool2.run(() => new Promise(() => {}));
    pool2.destroy();
    await expect(never).rejects.toMatchObject({ code: "ERR_OFFLOAD_POOL_CLOSED" });

    const pool3 = createPool(loop, { size: 1, workerUrl });
    const orphan = pool3.run(() => new Promise(() => {}));
    orphan.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    loop.close();
    await expect(orphan).rejects.toMatchObject({ code: "ERR_OFFLOAD_POOL_CLOSED" });
    expect(pool3.closed).toBe(true);
  });

  it("run() stays alive while calls are pending and resolves when they are done (the pool itself is unref'd)", async () => {
    const loop = await createEventLoop();
    const pool = createPool(loop, { size: 1, workerUrl });
    let result: unknown;
    pool
      .run(() => new Promise((resolve) => setTimeout(() => resolve("done"), 100)))
      .then((value) => (result = value));
    await loop.run();
    expect(result).toBe("done");
    await loop.run(); // nothing pending: resolves at once though the worker is alive
    await pool.close();
    loop.close();
  });

  it("without threads (workerd) createPool throws ThreadsUnavailableError", async () => {
    const loop = await createEventLoop();
    const globals = globalThis as unknown as {
      Worker?: unknown;
      process: { versions: { node?: string } };
    };
    const node = globals.process.versions.node;
    Object.defineProperty(globals.process.versions, "node", {
      value: undefined,
      configurable: true,
    });
    try {
      // No web Worker in Node, and now no Node either: threads.ts finds no way to start a thread.
      expect(() => createPool(loop, { workerUrl })).toThrow(ThreadsUnavailableError);
      expect(() => offload(loop, () => 1)).toThrow(/no threads/);
    } finally {
      Object.defineProperty(globals.process.versions, "node", { value: node, configurable: true });
    }
    loop.close();
  });
});
