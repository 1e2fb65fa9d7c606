/**
 * The offload pool: run a function in a worker thread, settle a `loop.Promise` on the
 * loop. `offload(loop, fn, ...args)` uses the loop's default pool; `createPool(loop,
 * options)` makes one with its own size.
 *
 * Transport, both ways over shared memory, no `postMessage` per call:
 * - loop → worker: each worker has a request lane (the ingress layout, one lane; the
 *   loop is its producer). A call is one record: sequence number, call id, function id
 *   and the arguments in the structured codec. A function's source is sent once per
 *   worker (DEFINE) and compiled there. Up to `pipeline` calls are queued per worker.
 * - worker → loop: the pool's own ingress; each worker owns one reserved lane. A result
 *   (value or error, with its stack) is one record; it runs on the loop as a task that
 *   settles the call's promise, so its reactions run in that task's checkpoint.
 *
 * Cancellation (`signal`): a queued call is removed; a call already sent is marked in
 * the worker's control array (it skips the call if it has not started), and a call
 * that has started has its worker terminated and replaced (JavaScript cannot be
 * interrupted otherwise). The promise rejects with `signal.reason` at once. Other calls
 * that were queued on a terminated worker and had not started are sent again; ones that
 * had started (async functions run concurrently) reject with OffloadError.
 *
 * Functions: `fn` must be self-contained — its source is compiled in the worker, so it
 * sees its arguments and the worker's globals, not the variables around it.
 *
 * @module
 */

import type { IngressCounts, IngressLoop, IngressLoopClient } from "../loop/ingress_host.ts";
import type { LoopAbortSignal, LoopUrl } from "../web.ts";
import { Encoder } from "./codec.ts";
import { OffloadError, ThreadsUnavailableError } from "./errors.ts";
import { hostClearTimeout, hostSetTimeout } from "./host_functions.ts";
import { Ingress } from "./ingress.ts";
import { bufferBytes, initHeader, L_STATE, LANE_OPEN, laneWord } from "./layout.ts";
import { integerOption } from "./options.ts";
import {
  CONTROL_CANCEL,
  CONTROL_STARTED,
  CONTROL_STOP,
  CONTROL_WRITING,
  controlBytes,
  REQUEST_CALL,
  REQUEST_DEFINE,
  REQUEST_STOP,
  STATUS_CANCELLED,
  STATUS_FULFILLED,
} from "./pool_protocol.ts";
import { startThread, type Thread, threadsAvailable } from "./threads.ts";
import { LaneWriter, makeViews } from "./wire.ts";

export interface PoolOptions {
  /** Worker threads. Default: hardware concurrency − 1, at least 1. */
  size?: number;
  /** Calls queued per worker (sent ahead, so a worker never waits for the loop). Default 4. */
  pipeline?: number;
  /** Bytes of each worker's request lane; one call's arguments take at most half. Default 1 MiB. */
  requestBytes?: number;
  /** Bytes of each worker's result lane; one result takes at most half. Default 1 MiB. */
  resultBytes?: number;
  /**
   * An idle worker is terminated after this many ms (and started again when needed).
   * Default: never where a worker can be unref'd (Node, Bun), else 250 (Deno, browsers:
   * a live Worker keeps Deno's process running).
   */
  idleTimeoutMs?: number;
  /** The worker module (for bundlers that move it). Default: pool_worker.js beside this module. */
  workerUrl?: LoopUrl;
}

export interface RunOptions {
  /** Cancels the call: the promise rejects with `signal.reason`. */
  signal?: LoopAbortSignal;
}

export interface PoolStats {
  /** Live workers. */
  workers: number;
  /** Calls waiting for a worker. */
  queued: number;
  /** Calls sent to a worker, not finished. */
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Workers terminated to cancel a running call, or that died. */
  workersLost: number;
}

const QUEUED = 0;
const SENT = 1;
const DONE = 2;

interface Call {
  readonly id: number;
  readonly fnId: number;
  readonly source: string;
  readonly args: Uint8Array;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  state: number;
  /** Rejected already (aborted, or the pool closed); its result is ignored. */
  settled: boolean;
  worker: PoolWorker | undefined;
  seq: number;
  signal: LoopAbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function urlText(url: LoopUrl): string {
  return typeof url === "string" ? url : url.href;
}

/** pool_worker beside this module (.ts when running from sources: Deno, Bun). Computed lazily: workerd has no import.meta.url. */
function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith(".ts") ? "./pool_worker.ts" : "./pool_worker.js", here);
}

/** One worker thread as the loop sees it. */
class PoolWorker {
  readonly slot: number;
  readonly requests: LaneWriter;
  readonly control: Int32Array;
  readonly resultsId: number;
  readonly defined = new Set<number>();
  /** Calls sent and not finished, by sequence number. */
  readonly calls = new Map<number, Call>();
  thread: Thread | undefined;
  nextSeq = 1;
  dead = false;
  terminating = false;
  idleTimer: unknown;
  /** The idle timeout when the pool has none: 250 ms where this thread cannot be unref'd. */
  idleMs = Infinity;

  constructor(slot: number, requests: LaneWriter, control: Int32Array, resultsId: number) {
    this.slot = slot;
    this.requests = requests;
    this.control = control;
    this.resultsId = resultsId;
  }
}

function powerOfTwo(value: unknown, name: string, fallback: number): number {
  const bytes = integerOption("createPool", value, name, 4096, 1 << 26, fallback);
  if ((bytes & (bytes - 1)) !== 0)
    throw new RangeError(`createPool: ${name} must be a power of two, got ${bytes}.`);
  return bytes;
}

/** A pool of worker threads whose results settle on a loop. Create it with `createPool`. */
export class WorkerPool implements IngressLoopClient {
  readonly #loop: IngressLoop;
  readonly #ingress: Ingress;
  readonly #size: number;
  readonly #pipeline: number;
  readonly #requestBytes: number;
  readonly #idleTimeoutMs: number | undefined;
  readonly #workerUrl: URL;
  readonly #workers: Array<PoolWorker | undefined>;
  readonly #queue: Call[] = [];
  #queueHead = 0;
  readonly #calls = new Map<number, Call>();
  readonly #fnIds = new Map<string, number>();
  readonly #encoder = new Encoder();
  readonly #unregister: () => void;
  #nextCallId = 1;
  #pending = 0;
  #closing = false;
  #closed = false;
  #closeWaiters: Array<() => void> = [];
  #stats = { completed: 0, failed: 0, cancelled: 0, workersLost: 0 };

  /** @internal Use {@linkcode createPool}. */
  constructor(loop: IngressLoop, options: PoolOptions = {}) {
    if (!threadsAvailable()) {
      throw new ThreadsUnavailableError(
        "create a worker pool",
        "this runtime has no threads (workerd runs one thread per isolate)",
      );
    }
    if (options === null || typeof options !== "object")
      throw new TypeError("createPool(loop, options): options must be an object.");
    const cores =
      (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
        ?.hardwareConcurrency ?? 2;
    this.#size = integerOption("createPool", options.size, "size", 1, 1024, Math.max(1, cores - 1));
    this.#pipeline = integerOption("createPool", options.pipeline, "pipeline", 1, 1024, 4);
    this.#requestBytes = powerOfTwo(options.requestBytes, "requestBytes", 1 << 20);
    const resultBytes = powerOfTwo(options.resultBytes, "resultBytes", 1 << 20);
    const idle = options.idleTimeoutMs;
    if (idle !== undefined && !(typeof idle === "number" && idle >= 0)) {
      throw new RangeError(
        `createPool: idleTimeoutMs must be a number >= 0 (or Infinity), got ${String(idle)}.`,
      );
    }
    this.#idleTimeoutMs = idle;
    this.#workerUrl =
      options.workerUrl === undefined ? defaultWorkerUrl() : new URL(urlText(options.workerUrl));
    this.#loop = loop;
    // Twice the lanes: a replaced worker's lane is reused only after the ingress's grace period.
    this.#ingress = new Ingress(loop, {
      producers: this.#size * 2,
      laneBytes: resultBytes,
      ref: false,
    });
    this.#ingress.onOffload(this.#onResult);
    this.#workers = new Array(this.#size).fill(undefined);
    this.#unregister = loop.onClose(this);
  }

  /** Worker threads this pool runs at most. */
  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closing;
  }

  stats(): PoolStats {
    let running = 0;
    let workers = 0;
    for (const worker of this.#workers) {
      if (worker === undefined) continue;
      workers++;
      running += worker.calls.size;
    }
    return { workers, queued: this.#queue.length - this.#queueHead, running, ...this.#stats };
  }

  /**
   * Runs `fn(...args)` in a worker.
   *
   * @param fn A self-contained function (its source is compiled in the worker; it sees its
   *   arguments and the worker's globals only). May be async.
   * @param args Cloneable arguments (structured codec: numbers, strings, typed arrays,
   *   arrays, plain objects, Map, Set, Date, RegExp, BigInt, errors).
   * @returns A `loop.Promise` settled on the loop with the result, or rejected with the
   *   error thrown in the worker (same constructor name, message and stack), with
   *   `signal.reason` when cancelled, or with OffloadError when its worker died.
   * @throws {TypeError} when `fn` is not a function or an argument cannot be cloned.
   */
  run<T = unknown>(
    fn: (...args: any[]) => T | PromiseLike<T>,
    args: readonly unknown[] = [],
    options: RunOptions = {},
  ): Promise<Awaited<T>> {
    if (typeof fn !== "function")
      throw new TypeError(
        `offload: fn must be a function, got ${fn === null ? "null" : typeof fn}.`,
      );
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(
        `offload: ${fn.name || "fn"} is a native or bound function; pass a function written in JavaScript.`,
      );
    }
    const signal = options?.signal;
    const encoded = this.#encoder.encode(Array.isArray(args) ? args : [...args]).slice();
    if (encoded.byteLength + 12 > this.#requestBytes / 2 - 8) {
      throw new RangeError(
        `offload: the arguments take ${encoded.byteLength} B; a call carries at most ${this.#requestBytes / 2 - 20} B (createPool({ requestBytes })).`,
      );
    }
    const LoopPromise = this.#loop.Promise;
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new LoopPromise<Awaited<T>>((res, rej) => {
      resolve = res as (value: unknown) => void;
      reject = rej;
    });
    if (this.#closing) {
      reject(new OffloadError("ERR_OFFLOAD_POOL_CLOSED", "Cannot offload: the pool is closed."));
      return promise;
    }
    if (signal?.aborted) {
      reject(signal.reason);
      return promise;
    }
    let fnId = this.#fnIds.get(source);
    if (fnId === undefined) this.#fnIds.set(source, (fnId = this.#fnIds.size + 1));
    const call: Call = {
      id: this.#nextCallId++,
      fnId,
      source,
      args: encoded,
      resolve,
      reject,
      state: QUEUED,
      settled: false,
      worker: undefined,
      seq: 0,
      signal,
      onAbort: undefined,
    };
    if (signal !== undefined) {
      call.onAbort = () => this.#abort(call);
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
    this.#calls.set(call.id, call);
    this.#queue.push(call);
    if (this.#pending++ === 0) this.#ingress.ref();
    this.#dispatch();
    return promise;
  }

  // ---- dispatching -------------------------------------------------------------------------

  #dispatch(): void {
    const queue = this.#queue;
    while (this.#queueHead < queue.length) {
      const call = queue[this.#queueHead]!;
      if (call.settled) {
        this.#queueHead++;
        continue;
      }
      const worker = this.#pickWorker();
      if (worker === undefined || !this.#send(worker, call)) break;
      this.#queueHead++;
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > queue.length) {
      queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    } else if (this.#queueHead === queue.length) {
      queue.length = 0;
      this.#queueHead = 0;
    }
  }

  /** The least busy live worker with a free pipeline slot; starts one when a slot is empty. */
  #pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (let slot = 0; slot < this.#size; slot++) {
      let worker = this.#workers[slot];
      if (worker === undefined) {
        if (best !== undefined && best.calls.size === 0) continue;
        worker = this.#startWorker(slot);
        if (worker === undefined) continue;
      }
      if (worker.terminating || worker.calls.size >= this.#pipeline) continue;
      if (best === undefined || worker.calls.size < best.calls.size) best = worker;
      if (best.calls.size === 0) break;
    }
    return best;
  }

  #send(worker: PoolWorker, call: Call): boolean {
    const writer = worker.requests;
    if (!worker.defined.has(call.fnId)) {
      if (writer.write(REQUEST_DEFINE, [call.fnId, call.source]) !== 1) return false;
      worker.defined.add(call.fnId);
    }
    const seq = worker.nextSeq;
    if (writer.writeWords(REQUEST_CALL, seq, call.id, call.fnId, call.args) !== 1) return false;
    worker.nextSeq = seq + 1;
    call.state = SENT;
    call.worker = worker;
    call.seq = seq;
    worker.calls.set(seq, call);
    if (worker.idleTimer !== undefined) {
      hostClearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
    return true;
  }

  #startWorker(slot: number): PoolWorker | undefined {
    if (this.#closed) return undefined;
    let results: ReturnType<Ingress["reserve"]>;
    try {
      results = this.#ingress.reserve();
    } catch {
      return undefined; // every result lane is still in its grace period: try again later
    }
    const requestBuffer = new SharedArrayBuffer(bufferBytes(1, this.#requestBytes));
    const views = makeViews(requestBuffer);
    initHeader(views.i32, 1, this.#requestBytes);
    Atomics.store(views.i32, laneWord(0, L_STATE), LANE_OPEN);
    const controlBuffer = new SharedArrayBuffer(controlBytes(this.#pipeline));
    const worker = new PoolWorker(
      slot,
      new LaneWriter(views, 1, this.#requestBytes, 0, 0),
      new Int32Array(controlBuffer),
      results.id,
    );
    this.#workers[slot] = worker;
    const start = {
      requests: requestBuffer,
      control: controlBuffer,
      results,
      pipeline: this.#pipeline,
    };
    startThread(this.#workerUrl, start, `zigloop offload ${slot}`).then(
      (thread) => {
        worker.thread = thread;
        thread.onExit((error) => this.#threadExited(worker, error));
        if (!thread.unref()) worker.idleMs = 250;
        if (worker.terminating) void thread.terminate();
        else this.#armIdle(worker);
      },
      (error) => this.#threadExited(worker, error),
    );
    return worker;
  }

  #idleMs(worker: PoolWorker): number {
    return this.#idleTimeoutMs ?? worker.idleMs;
  }

  #armIdle(worker: PoolWorker): void {
    const ms = this.#idleMs(worker);
    if (ms === Infinity || worker.calls.size > 0 || worker.dead || worker.idleTimer !== undefined)
      return;
    if (this.#queueHead < this.#queue.length) return;
    worker.idleTimer = hostSetTimeout(() => {
      worker.idleTimer = undefined;
      if (worker.calls.size === 0 && !worker.dead) this.#terminate(worker);
    }, ms);
  }

  /**
   * Stops a worker: CONTROL_STOP (it writes no more results), a STOP request (a parked
   * worker wakes and leaves its loop: Deno ends a worker only when it returns to its
   * event loop), then terminate() (interrupts a running function where the runtime can).
   */
  #terminate(worker: PoolWorker): void {
    if (worker.terminating) return;
    worker.terminating = true;
    Atomics.store(worker.control, CONTROL_STOP, 1);
    worker.requests.write(REQUEST_STOP, undefined);
    if (worker.idleTimer !== undefined) hostClearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    if (worker.thread !== undefined) void worker.thread.terminate();
  }

  // ---- results ---------------------------------------------------------------------------------

  /** Runs on the loop (an ingress task): one result record [callId, status, value]. */
  readonly #onResult = (record: [number, number, unknown]): void => {
    const [callId, status, value] = record;
    const call = this.#calls.get(callId);
    if (call === undefined) return;
    this.#finish(call);
    if (call.settled) return;
    call.settled = true;
    if (status === STATUS_FULFILLED) {
      this.#stats.completed++;
      call.resolve(value);
    } else if (status === STATUS_CANCELLED) {
      this.#stats.cancelled++;
      call.reject(new OffloadError("ERR_OFFLOAD_CANCELLED", "The offloaded call was cancelled."));
    } else {
      this.#stats.failed++;
      call.reject(value);
    }
  };

  /** The call is over (result, or its worker is gone): bookkeeping, then more work. */
  #finish(call: Call): void {
    call.state = DONE;
    this.#calls.delete(call.id);
    const worker = call.worker;
    if (worker !== undefined) {
      worker.calls.delete(call.seq);
      this.#armIdle(worker);
    }
    if (call.onAbort !== undefined) call.signal!.removeEventListener("abort", call.onAbort);
    if (--this.#pending === 0) {
      this.#ingress.unref();
      if (this.#closing) this.#closeNow();
    }
    this.#dispatch();
  }

  #abort(call: Call): void {
    if (call.settled || call.state === DONE) return;
    call.settled = true;
    this.#stats.cancelled++;
    call.reject(call.signal!.reason);
    if (call.state === QUEUED) {
      this.#finish(call);
      return;
    }
    const worker = call.worker!;
    const control = worker.control;
    Atomics.store(control, CONTROL_CANCEL + (call.seq % this.#pipeline), call.seq);
    // Store the mark, then read how far the worker got; the worker stores that, then reads
    // the mark. If it started this call, it cannot be interrupted: its worker goes.
    if (Atomics.load(control, CONTROL_STARTED) >= call.seq) {
      this.#stats.workersLost++;
      this.#terminate(worker);
    }
  }

  /** A worker thread ended: once its published results are delivered, settle what it left. */
  #threadExited(worker: PoolWorker, error: unknown): void {
    if (worker.dead) return;
    worker.dead = true;
    if (!worker.terminating) this.#stats.workersLost++; // it died by itself
    worker.terminating = true;
    if (worker.idleTimer !== undefined) hostClearTimeout(worker.idleTimer);
    if (this.#workers[worker.slot] === worker) this.#workers[worker.slot] = undefined;
    if (this.#closed) return;
    // Its result lane may be reused once the thread can no longer write into it: it set
    // nothing in CONTROL_WRITING after seeing CONTROL_STOP (web workers give no exit event,
    // and Deno lets a terminated worker finish its running function).
    Atomics.store(worker.control, CONTROL_STOP, 1);
    const control = worker.control;
    this.#ingress.retire(
      worker.resultsId,
      () => this.#orphaned(worker, error),
      () => Atomics.load(control, CONTROL_WRITING) === 0,
    );
  }

  /** Calls a dead worker left: not started → sent again; started → rejected. */
  #orphaned(worker: PoolWorker, error: unknown): void {
    const started = Atomics.load(worker.control, CONTROL_STARTED);
    const again: Call[] = [];
    for (const call of [...worker.calls.values()].sort((a, b) => a.seq - b.seq)) {
      worker.calls.delete(call.seq);
      if (call.settled) {
        this.#finish(call);
      } else if (call.seq > started && !this.#closing) {
        call.state = QUEUED;
        call.worker = undefined;
        again.push(call);
      } else {
        call.settled = true;
        this.#stats.failed++;
        call.reject(
          new OffloadError(
            "ERR_OFFLOAD_WORKER_EXITED",
            `The offloaded call did not finish: its worker thread ${error === undefined ? "was terminated" : "failed"}` +
              `${error === undefined ? "" : ` (${(error as Error)?.message ?? String(error)})`}.`,
            { cause: error },
          ),
        );
        this.#finish(call);
      }
    }
    if (again.length > 0) {
      this.#queue.splice(this.#queueHead, 0, ...again);
      this.#dispatch();
    }
  }

  // ---- closing -----------------------------------------------------------------------------------

  /**
   * Closes gracefully: refuses new calls, lets the queued and running ones finish, then
   * terminates the workers. Resolves when done.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closing = true;
    if (this.#pending === 0) {
      this.#closeNow();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** Closes now: every call that has not settled rejects with OffloadError; workers are terminated. */
  destroy(reason = "the pool was destroyed"): void {
    if (this.#closed) return;
    this.#closing = true;
    for (const call of [...this.#calls.values()]) {
      if (!call.settled) {
        call.settled = true;
        this.#stats.failed++;
        call.reject(
          new OffloadError(
            "ERR_OFFLOAD_POOL_CLOSED",
            `The offloaded call did not finish: ${reason}.`,
          ),
        );
      }
      this.#finish(call);
    }
    this.#closeNow();
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers) if (worker !== undefined) this.#terminate(worker);
    this.#workers.fill(undefined);
    this.#ingress.close();
    this.#unregister();
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** @internal IngressLoopClient. */
  loopClosing(_graceful: boolean): void {
    this.destroy("the loop closed");
  }

  /** @internal IngressLoopClient. */
  loopClosed(): IngressCounts {
    return { delivered: 0, undelivered: 0 };
  }
}

const defaultPools = new WeakMap<IngressLoop, WorkerPool>();

/** The loop's default pool (created on first use). */
export function defaultPool(loop: IngressLoop): WorkerPool {
  let pool = defaultPools.get(loop);
  if (pool === undefined || pool.closed) defaultPools.set(loop, (pool = new WorkerPool(loop)));
  return pool;
}
