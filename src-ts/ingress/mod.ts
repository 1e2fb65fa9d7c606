/**
 * `zigloop/ingress`: work from other threads, on the loop.
 *
 * - `createIngress(loop, options)`: a shared-memory queue that producers in any thread
 *   open with `openIngress(ingress.description)` (`zigloop/worker`); each message runs on
 *   the loop as a task with the handler registered for its kind. (Will become
 *   `loop.createIngress(options)`.)
 * - `offload(loop, fn, ...args)` / `createPool(loop, options)`: run a function in a
 *   worker pool; the result settles a `loop.Promise` on the loop.
 *
 * Needs threads and SharedArrayBuffer: Node `worker_threads`, Deno, Bun, cross-origin
 * isolated browser pages. workerd has no threads: `createIngress` and `createPool`
 * throw `ThreadsUnavailableError` there. Design: docs/INGRESS.md.
 *
 * @module
 */

import { invalidArgType } from "../errors.ts";
import type { EventLoop } from "../event_loop.ts";
import { INGRESS_HOST, type IngressLoop } from "../loop/ingress_host.ts";
import { Ingress, type IngressOptions } from "./ingress.ts";
import { defaultPool, type PoolOptions, type RunOptions, WorkerPool } from "./pool.ts";

export type { IngressCounts, IngressLoop, IngressLoopClient } from "../loop/ingress_host.ts";
export { IngressClosedError, OffloadError, ThreadsUnavailableError } from "./errors.ts";
export {
  Ingress,
  type IngressHandler,
  type IngressOptions,
  type IngressReport,
  type IngressStats,
} from "./ingress.ts";
export { type PoolOptions, type PoolStats, type RunOptions, WorkerPool } from "./pool.ts";
export { type IngressDescription, IngressPort, openIngress } from "./producer.ts";

/**
 * Creates an ingress on `loop`: producers in other threads post into it with
 * `openIngress(ingress.description).post(kind, payload)`; each message runs on the loop
 * as a task, `handler(payload, producerId)` for its kind.
 *
 * @param loop The loop the messages run on.
 * @param options Lanes (`producers`), `laneBytes`, batching (`window`, `quantum`),
 *   wake-up (`linger`, `pollMs`), `ref`.
 * @returns The ingress: `on(kind, handler)`, `description`, `ref()`/`unref()`, `close()`,
 *   `shutdown()`, `stats()`, `reserve()`/`retire(id)`.
 * @throws {ThreadsUnavailableError} without SharedArrayBuffer (workerd; a page that is not
 *   cross-origin isolated).
 * @throws {IngressClosedError} when the loop is closed or shutting down.
 * @throws {RangeError} for out-of-range options.
 * @example
 * ```js
 * import { createEventLoop } from "zigloop";
 * import { createIngress } from "zigloop/ingress";
 * import { Worker } from "node:worker_threads";
 * const loop = await createEventLoop();
 * const ingress = createIngress(loop);
 * ingress.on(1, (text, producer) => console.log(producer, text));
 * new Worker("./producer.js", { workerData: ingress.description });
 * await loop.run(); // runs until ingress.close() or unref()
 * ```
 */
export function createIngress(loop: EventLoop, options?: IngressOptions): Ingress {
  return new Ingress(ingressLoop(loop, "createIngress(loop, options)"), options);
}

/**
 * Creates a worker pool whose results settle on `loop` (will become `loop.createPool`).
 *
 * @param loop The loop the results settle on.
 * @param options `size` (threads), `pipeline` (calls queued per worker), lane sizes,
 *   `idleTimeoutMs`, `workerUrl`.
 * @returns The pool: `run(fn, args, { signal })`, `close()`, `destroy()`, `stats()`.
 * @throws {ThreadsUnavailableError} where there are no threads (workerd).
 * @example
 * ```js
 * const pool = createPool(loop, { size: 2 });
 * const sum = await pool.run((a, b) => a + b, [1, 2]);
 * await pool.close();
 * ```
 */
export function createPool(loop: EventLoop, options?: PoolOptions): WorkerPool {
  return new WorkerPool(ingressLoop(loop, "createPool(loop, options)"), options);
}

/**
 * Runs `fn(...args)` in the loop's default worker pool (will become `loop.offload`);
 * `offload(loop, { signal }, fn, ...args)` makes it cancellable.
 *
 * @param loop The loop whose `Promise` the result settles.
 * @returns A `loop.Promise` of the result; rejected with the worker's error (its
 *   constructor name, message and stack), `signal.reason`, or an OffloadError.
 * @throws {TypeError} when `fn` is not a function or an argument cannot be cloned.
 * @throws {ThreadsUnavailableError} where there are no threads (workerd).
 * @example
 * ```js
 * const hash = await offload(loop, (text) => text.length * 31, "hello");
 * const controller = new AbortController();
 * const slow = offload(loop, { signal: controller.signal }, (n) => { while (n--); }, 1e10);
 * controller.abort(); // slow rejects with the abort reason; its worker is replaced
 * ```
 */
export function offload<A extends unknown[], T>(
  loop: EventLoop,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Promise<Awaited<T>>;
export function offload<A extends unknown[], T>(
  loop: EventLoop,
  options: RunOptions,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Promise<Awaited<T>>;
export function offload(loop: EventLoop, first: unknown, ...rest: unknown[]): Promise<unknown> {
  const pool = defaultPool(ingressLoop(loop, "offload(loop, fn, ...args)"));
  if (typeof first === "function") return pool.run(first as (...args: unknown[]) => unknown, rest);
  if (first === null || typeof first !== "object") {
    throw new TypeError(
      `offload(loop, fn, ...args): fn must be a function, got ${first === null ? "null" : typeof first}.`,
    );
  }
  const [fn, ...args] = rest;
  return pool.run(fn as (...args: unknown[]) => unknown, args, first as RunOptions);
}

/** The seam of `loop` (loop/ingress_host.ts), through its registered-symbol method. */
function ingressLoop(loop: EventLoop, call: string): IngressLoop {
  const method = (loop as unknown as Record<symbol, unknown> | null)?.[INGRESS_HOST];
  if (typeof method !== "function") {
    throw invalidArgType("loop", "a zigloop EventLoop", loop, call);
  }
  return method.call(loop) as IngressLoop;
}
