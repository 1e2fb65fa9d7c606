/**
 * I/O readiness on the loop: `loop.watch(source, callback, options)`.
 *
 * The host runtime does the I/O (libuv's epoll/kqueue/IOCP under Node, Deno's and
 * workerd's own machinery); a watch turns each readiness notification of a source
 * into a loop task that calls `callback(event)`, followed by a microtask
 * checkpoint, ordered with the loop's other tasks and counted in its metrics.
 *
 * Sources:
 * - Node streams and sockets (anything with `on`/`off`): events `readable`,
 *   `writable` (Node's `drain`), `end`, `error`, `close` by default, or any event
 *   names in `options.events` (e.g. `"data"`, `"connection"`). `readable` and
 *   `writable` are readiness events: consecutive ones coalesce while one is queued,
 *   and the callback reads (`stream.read()`) or writes itself.
 * - Any `EventTarget`: the event types in `options.events` (required).
 * - A web `ReadableStream` (Deno connections, fetch bodies): the watch reads it;
 *   each chunk arrives as a `data` event, then `end` (or `error`).
 *
 * Lifecycle: a ref'd watch (the default) keeps `run()` alive until it is closed;
 * `unref()` lets the loop finish while the source stays open. A watch closes itself
 * after delivering `close` (Node) or `end`/`error` (ReadableStream). `close()` is
 * final and safe at any time: listeners are removed, a stream's reader is released
 * (the stream itself is not cancelled), and events already queued for this watch
 * are dropped, so no callback runs after `close()` returns. Closing the source is
 * also safe: its remaining events (`end`, `close`) are delivered in order.
 *
 * @module
 */

/** An I/O event delivered on the loop. */
export interface WatchEvent {
  /** `readable`, `writable`, `end`, `error`, `close`, `data`, or the source's own event type. */
  type: string;
  /** The watched source. */
  source: unknown;
  /** The event's payload: a chunk (`data`), an Error (`error`), a native Event, or the emitter's arguments. */
  data?: unknown;
}

export interface WatchOptions {
  /** Event types to watch. Node emitters: default readable, writable, end, error, close. Required for an EventTarget. */
  events?: readonly string[];
  /** Whether the watch keeps `run()` (and a Node process) alive. Default true. */
  ref?: boolean;
}

/** The handle `loop.watch` returns. */
export interface Watch {
  /** Stops watching: listeners removed, queued events dropped. Idempotent. */
  close(): void;
  /** Keeps the loop alive while open (the default). */
  ref(): Watch;
  /** Lets the loop finish while this watch is open. */
  unref(): Watch;
  hasRef(): boolean;
  readonly closed: boolean;
}

/** What a watch needs from its loop. */
export interface WatchHost {
  /** Queues `deliver(record)` as a loop task. May throw (closed loop, capacity). */
  queueTask(deliver: (record: Delivery) => void, record: Delivery): void;
  report(error: unknown): void;
  /** A watch started (+1) or stopped (-1) listening; ref'd or not. */
  watchCountChanged(delta: number, refDelta: number): void;
  /** The watch closed for good. */
  forget(watch: LoopWatch): void;
}

/** One queued event of one watch. */
export interface Delivery {
  watch: LoopWatch;
  event: WatchEvent;
}

const NODE_DEFAULT_EVENTS = ["readable", "writable", "end", "error", "close"] as const;
/** Readiness names mapped to Node's event names. */
const NODE_EVENT_NAMES: Record<string, string> = { writable: "drain" };
const COALESCED = new Set(["readable", "writable"]);

interface NodeEmitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener?(event: string, listener: (...args: unknown[]) => void): unknown;
}

function isEventTarget(source: unknown): source is EventTarget {
  return (
    typeof (source as EventTarget)?.addEventListener === "function" &&
    typeof (source as EventTarget)?.removeEventListener === "function"
  );
}

function isNodeEmitter(source: unknown): source is NodeEmitter {
  const emitter = source as NodeEmitter;
  return (
    typeof emitter?.on === "function" &&
    (typeof emitter.off === "function" || typeof emitter.removeListener === "function")
  );
}

function isReadableStream(source: unknown): source is ReadableStream {
  return typeof (source as ReadableStream)?.getReader === "function";
}

const deliver = (record: Delivery): void => record.watch.deliver(record.event);

export class LoopWatch implements Watch {
  readonly #host: WatchHost;
  readonly #source: unknown;
  readonly #callback: (event: WatchEvent) => void;
  #closed = false;
  /** Not listening any more (closed, or stopped by a graceful shutdown); counted out of the loop. */
  #detached = false;
  #ref: boolean;
  /** Readiness events queued and not yet delivered (for coalescing). */
  readonly #pendingReadiness = new Set<string>();
  #detach: () => void = () => {};

  constructor(
    host: WatchHost,
    source: unknown,
    callback: (event: WatchEvent) => void,
    options: WatchOptions,
  ) {
    this.#host = host;
    this.#source = source;
    this.#callback = callback;
    this.#ref = options.ref ?? true;
    const events = options.events;
    if (isReadableStream(source) && !isNodeEmitter(source)) {
      this.#attachStream(source);
    } else if (isNodeEmitter(source)) {
      this.#attachEmitter(source, events ?? NODE_DEFAULT_EVENTS);
    } else if (isEventTarget(source)) {
      if (events === undefined || events.length === 0) {
        throw new TypeError(
          'watch(eventTarget, callback, { events }): name the event types to watch, e.g. { events: ["message"] }.',
        );
      }
      this.#attachTarget(source, events);
    }
    host.watchCountChanged(1, this.#ref ? 1 : 0);
  }

  get closed(): boolean {
    return this.#closed;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  ref(): Watch {
    if (!this.#ref) {
      this.#ref = true;
      if (!this.#detached) this.#host.watchCountChanged(0, 1);
    }
    return this;
  }

  unref(): Watch {
    if (this.#ref) {
      this.#ref = false;
      if (!this.#detached) this.#host.watchCountChanged(0, -1);
    }
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pendingReadiness.clear();
    this.stopListening();
    this.#host.forget(this);
  }

  /**
   * Stops listening but still delivers the events already queued (a graceful shutdown:
   * queued work runs, new work is refused).
   */
  stopListening(): void {
    if (this.#detached) return;
    this.#detached = true;
    try {
      this.#detach();
    } catch (error) {
      this.#host.report(error);
    }
    this.#host.watchCountChanged(-1, this.#ref ? -1 : 0);
  }

  /** Runs on the loop (a task): hands the event to the callback unless the watch closed. */
  deliver(event: WatchEvent): void {
    if (this.#closed) return;
    if (COALESCED.has(event.type)) this.#pendingReadiness.delete(event.type);
    try {
      this.#callback(event);
    } finally {
      // After its last event a source cannot say anything more: the watch ends.
      if (
        event.type === "close" ||
        (isReadableStream(this.#source) && (event.type === "end" || event.type === "error"))
      ) {
        this.close();
      }
    }
  }

  #queue(type: string, data: unknown): void {
    if (this.#detached) return;
    if (COALESCED.has(type)) {
      if (this.#pendingReadiness.has(type)) return;
      this.#pendingReadiness.add(type);
    }
    try {
      this.#host.queueTask(deliver, { watch: this, event: { type, source: this.#source, data } });
    } catch (error) {
      // The loop refused (closed, shutting down, or its task capacity is exhausted):
      // the event cannot be delivered; say so and stop watching.
      this.#host.report(error);
      this.close();
    }
  }

  /**
   * Listens for each event type. All or nothing: if the source refuses one listener
   * (its `on` throws), the ones already added are removed before the error propagates,
   * so a failed `watch()` leaves the source as it was.
   */
  #attachEmitter(emitter: NodeEmitter, events: readonly string[]): void {
    const listeners: Array<[string, (...args: unknown[]) => void]> = [];
    const detach = () => {
      for (const [name, listener] of listeners) {
        if (typeof emitter.off === "function") emitter.off(name, listener);
        else emitter.removeListener!(name, listener);
      }
    };
    try {
      for (const type of events) {
        const name = NODE_EVENT_NAMES[type] ?? type;
        const listener = (...args: unknown[]) =>
          this.#queue(type, args.length <= 1 ? args[0] : args);
        emitter.on(name, listener);
        listeners.push([name, listener]);
      }
    } catch (error) {
      detach();
      throw error;
    }
    this.#detach = detach;
  }

  #attachTarget(target: EventTarget, events: readonly string[]): void {
    const listener = (event: Event) => this.#queue(event.type, event);
    const added: string[] = [];
    const detach = () => {
      for (const type of added) target.removeEventListener(type, listener);
    };
    try {
      for (const type of events) {
        target.addEventListener(type, listener);
        added.push(type);
      }
    } catch (error) {
      detach();
      throw error;
    }
    this.#detach = detach;
  }

  #attachStream(stream: ReadableStream): void {
    const reader = stream.getReader();
    let released = false;
    this.#detach = () => {
      released = true;
      // Stop reading without cancelling the stream: the embedder may hand it on.
      try {
        reader.releaseLock();
      } catch {
        // A read is pending in an older runtime: it ends when the stream does.
      }
    };
    const pump = async (): Promise<void> => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (released) return;
          if (done) {
            this.#queue("end", undefined);
            return;
          }
          this.#queue("data", value);
        }
      } catch (error) {
        if (!released) this.#queue("error", error);
      }
    };
    void pump();
  }
}

/** Whether `watch` can handle `source`. */
export function isWatchable(source: unknown): boolean {
  return isNodeEmitter(source) || isEventTarget(source) || isReadableStream(source);
}

/** The watches of one loop: creating them with the loop's hooks, and ending them all. */
export class Watches {
  readonly #host: WatchHost;
  readonly #open = new Set<LoopWatch>();
  /** Watches listening now (ref'd or not). */
  listening = 0;

  /**
   * @param queueTask Queues a delivery as a loop task (throws when the loop refuses work).
   * @param report Reports an error thrown by a detach or a delivery.
   * @param adjustRefs Retains (+1) or releases (-1) one ref'd handle of the loop.
   */
  constructor(
    queueTask: WatchHost["queueTask"],
    report: (error: unknown) => void,
    adjustRefs: (delta: number) => void,
  ) {
    this.#host = {
      queueTask,
      report,
      forget: (watch) => this.#open.delete(watch),
      watchCountChanged: (delta, refDelta) => {
        this.listening += delta;
        adjustRefs(refDelta);
      },
    };
  }

  /** Starts a watch (see `loop.watch`). The caller has checked the arguments. */
  add(source: unknown, callback: (event: WatchEvent) => void, options: WatchOptions): Watch {
    const watch = new LoopWatch(this.#host, source, callback, options);
    this.#open.add(watch);
    return watch;
  }

  /** Close: watches end and drop what they queued. Shutdown (`drop` false): they stop listening only. */
  closeAll(drop: boolean): void {
    for (const watch of [...this.#open]) {
      if (drop) watch.close();
      else watch.stopListening();
    }
  }
}
