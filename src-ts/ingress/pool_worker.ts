/**
 * The offload pool's worker thread. Started by `pool.ts` with one start message:
 * `{ requests, control, results }` — its request channel (a one-lane buffer in the
 * ingress layout; the loop writes, this thread reads), a small control array (the last
 * request started; cancellation marks) and a reserved lane of the pool's ingress for its
 * results.
 *
 * Requests (records of the request lane; payloads in the structured codec):
 * - DEFINE [fnId, source]: compile `source` (a function expression) once;
 * - CALL [seq, callId, fnId, args]: run it; the result (or the error, with its stack)
 *   goes back as one ingress record [callId, status, value];
 * - STOP: end.
 *
 * While only synchronous functions run, the thread blocks in Atomics.wait between
 * requests (no event-loop round trip); while an async function's promise is pending it
 * waits with Atomics.waitAsync instead, so that promise can settle.
 *
 * @module
 */

import { Decoder } from "./codec.ts";
import { checkLayout } from "./layout.ts";
import {
  CONTROL_CANCEL,
  CONTROL_STARTED,
  CONTROL_STOP,
  CONTROL_WRITING,
  REQUEST_CALL,
  REQUEST_DEFINE,
  REQUEST_STOP,
  STATUS_CANCELLED,
  STATUS_FULFILLED,
  STATUS_REJECTED,
} from "./pool_protocol.ts";
import type { IngressDescription } from "./producer.ts";
import { type IngressPort, openIngress } from "./producer.ts";
import { LaneReader, makeViews, readValue } from "./wire.ts";

interface Start {
  requests: SharedArrayBuffer;
  control: SharedArrayBuffer;
  results: IngressDescription;
  pipeline: number;
}

const IDLE_WAIT_MS = 1000;

/**
 * The start message. A permanent message listener stays registered: it keeps this thread
 * alive (Node unrefs a port without listeners) while it waits with Atomics.waitAsync,
 * which keeps nothing alive by itself. The pool ends the thread with terminate().
 */
async function receiveStart(): Promise<Start> {
  const scope = globalThis as unknown as {
    postMessage?: unknown;
    addEventListener?: (type: string, listener: (event: { data: Start }) => void) => void;
  };
  if (typeof scope.postMessage === "function" && typeof scope.addEventListener === "function") {
    // A web Worker (Deno, Bun, browsers).
    return new Promise((resolve) =>
      scope.addEventListener!("message", (event) => resolve(event.data)),
    );
  }
  // Node's worker_threads.
  const { parentPort } = (await import("node:worker_threads" as string)) as {
    parentPort: { on(event: "message", listener: (data: Start) => void): void };
  };
  return new Promise((resolve) => parentPort.on("message", resolve));
}

class Server {
  readonly #reader: LaneReader;
  readonly #control: Int32Array;
  readonly #port: IngressPort;
  readonly #pipeline: number;
  readonly #functions = new Map<number, ((...args: unknown[]) => unknown) | { error: unknown }>();
  #pending = 0;
  #stopping = false;
  readonly #decoder = new Decoder();

  constructor(start: Start) {
    const { lanes, laneBytes } = checkLayout(start.requests, "pool worker");
    this.#reader = new LaneReader(makeViews(start.requests), lanes, laneBytes, 0);
    this.#control = new Int32Array(start.control);
    this.#port = openIngress(start.results);
    this.#pipeline = start.pipeline;
  }

  async serve(): Promise<void> {
    const reader = this.#reader;
    let handled = 0;
    while (!this.#stopping && Atomics.load(this.#control, CONTROL_STOP) === 0) {
      const at = reader.next();
      if (at >= 0) {
        const i32 = reader.views.i32;
        const op = i32[at >> 2]! >>> 16;
        try {
          if (op === REQUEST_CALL) {
            const w = at >> 2;
            const length = i32[w + 1]!;
            const args = this.#decoder.decode(
              reader.views.u8.subarray(at + 20, at + 8 + length),
            ) as unknown[];
            this.#call(i32[w + 2]!, i32[w + 3]!, i32[w + 4]!, args);
          } else {
            this.#handle(op, readValue(reader.views, at) as unknown[]);
          }
        } finally {
          reader.consume();
        }
        // Let pending promises (async functions) make progress during long bursts.
        if (this.#pending > 0 && (++handled & 63) === 0)
          await new Promise((resolve) => setTimeout(resolve, 0));
        continue;
      }
      if (reader.finished) break;
      if (this.#pending > 0) await reader.parkAsync(IDLE_WAIT_MS);
      else reader.park(IDLE_WAIT_MS);
    }
    if (Atomics.load(this.#control, CONTROL_STOP) === 0) this.#port.close();
    // Back to the event loop, and gone: Deno ends a terminated worker only there (not
    // inside Atomics.wait or a synchronous loop); a web worker can also close itself.
    (globalThis as { close?: () => void }).close?.();
  }

  #handle(op: number, request: unknown[]): void {
    switch (op) {
      case REQUEST_DEFINE: {
        const [fnId, source] = request as [number, string];
        try {
          // Indirect eval-like compilation in this worker's global scope: `source` is a
          // function expression (arrow, function, async function), self-contained.
          const fn = new Function(
            `return (${source}\n);\n//# sourceURL=zigloop-offload-${fnId}.js`,
          )();
          if (typeof fn !== "function")
            throw new TypeError("offload: the source did not evaluate to a function.");
          this.#functions.set(fnId, fn);
        } catch (error) {
          this.#functions.set(fnId, { error });
        }
        return;
      }
      case REQUEST_STOP:
        this.#stopping = true;
        return;
    }
  }

  #call(seq: number, callId: number, fnId: number, args: unknown[]): void {
    const control = this.#control;
    Atomics.store(control, CONTROL_STARTED, seq);
    if (Atomics.load(control, CONTROL_CANCEL + (seq % this.#pipeline)) === seq) {
      this.#send(callId, STATUS_CANCELLED, undefined);
      return;
    }
    const fn = this.#functions.get(fnId);
    if (fn === undefined || typeof fn !== "function") {
      this.#send(
        callId,
        STATUS_REJECTED,
        fn?.error ?? new Error(`offload: function ${fnId} was never defined in this worker.`),
      );
      return;
    }
    let result: unknown;
    try {
      result = fn(...args);
    } catch (error) {
      this.#send(callId, STATUS_REJECTED, error);
      return;
    }
    if (
      result !== null &&
      (typeof result === "object" || typeof result === "function") &&
      typeof (result as PromiseLike<unknown>).then === "function"
    ) {
      this.#pending++;
      Promise.resolve(result).then(
        (value) => {
          this.#pending--;
          this.#send(callId, STATUS_FULFILLED, value);
        },
        (error) => {
          this.#pending--;
          this.#send(callId, STATUS_REJECTED, error);
        },
      );
      return;
    }
    this.#send(callId, STATUS_FULFILLED, result);
  }

  /**
   * Posts a result, waiting for room; a result that cannot be sent becomes an error
   * result. Nothing is written once the pool set CONTROL_STOP: the pool may reuse this
   * worker's result lane as soon as it sees CONTROL_WRITING at 0 after setting STOP
   * (store WRITING, then read STOP; the pool stores STOP, then reads WRITING).
   */
  #send(callId: number, status: number, value: unknown): void {
    const control = this.#control;
    Atomics.store(control, CONTROL_WRITING, 1);
    try {
      if (Atomics.load(control, CONTROL_STOP) !== 0) return;
      let record: unknown[] = [callId, status, value];
      for (let attempt = 0; ; attempt++) {
        try {
          while (!this.#port.postResult(record)) this.#port.waitForRoom(IDLE_WAIT_MS);
          return;
        } catch (error) {
          if (attempt > 0 || (error as { name?: string })?.name === "IngressClosedError") return; // the pool is gone
          record = [callId, STATUS_REJECTED, error];
        }
      }
    } finally {
      Atomics.store(control, CONTROL_WRITING, 0);
    }
  }
}

const start = await receiveStart();
await new Server(start).serve();
