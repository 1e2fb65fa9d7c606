/**
 * The loop's seam for work from other threads: exactly what an ingress or an offload pool
 * (`zigloop/ingress`, src-ts/ingress/) needs from a loop, on the loop's own parts.
 *
 * - tasks: `queueTask(fn, arg)` is the engine's task queue, the one `submit` and I/O
 *   deliveries use: FIFO with them, a microtask checkpoint after each, counted in the
 *   metrics (`tasksExecuted`, `queue.ingress`), refused while closed or stopping;
 * - liveness: `retain`/`release` are `engine.live` (the one count of ref'd handles, like a
 *   timer's or a watch's), so a ref'd ingress keeps `run()` and the host alive;
 * - closing: the lifecycle tells every client before the loop closes (a graceful
 *   shutdown: while tasks are still accepted, so what they accepted still runs), and adds
 *   what they report to its `CloseReport`/`ShutdownReport` as `ingress`.
 *
 * The ingress code is imported only by `zigloop/ingress`, so a loop's bundle does not
 * carry it; this part is created on first use, so a loop that never meets an ingress pays
 * nothing. `zigloop/ingress` reaches it through a method keyed by a registered symbol
 * ({@linkcode INGRESS_HOST}), which works across module copies (an ESM loop with the
 * CommonJS `zigloop/ingress`, or the reverse).
 *
 * @module
 */

import { LoopClosedError } from "../errors.ts";
import type { Engine } from "./engine.ts";
import type { LoopPromises } from "./promises.ts";

/** The key of the loop's method that returns its {@linkcode IngressLoop}. */
export const INGRESS_HOST: unique symbol = Symbol.for("zigloop.ingressHost") as never;

/** What the ingresses and pools of a loop did with their messages, in the loop's reports. */
export interface IngressCounts {
  /** Messages whose handler ran (over the ingresses' lives). */
  delivered: number;
  /** Messages that were accepted (`post` returned true) but will never run. */
  undelivered: number;
}

/** A party the loop tells about its closing (one per ingress or pool). */
export interface IngressLoopClient {
  /**
   * The loop begins to close. `graceful` (shutdown() began): called while `queueTask`
   * still accepts work, so the client queues every message it accepted; the loop runs
   * them with its other queued tasks. Not graceful (close(), or a trap): called after the
   * loop refused new work and before it drops its queued tasks; the client counts what
   * will not run. May be called again with false after a graceful call.
   */
  loopClosing(graceful: boolean): void;
  /** The loop is closed: what happened to the messages. Called once, after loopClosing. */
  loopClosed(): IngressCounts;
}

/** What the ingress and the offload pool use of a loop. */
export interface IngressLoop {
  /**
   * Queues `fn(arg)` as a loop task (see the module comment). Wakes the host when called
   * outside a turn. Throws `LoopClosedError`, `LoopShuttingDownError` or `CapacityError`;
   * nothing is queued then.
   */
  queueTask(fn: (arg: number) => void, arg: number): void;
  /** One more ref'd handle: `run()` does not resolve while any is held. */
  retain(): void;
  /** Gives back one `retain()`. */
  release(): void;
  /** The loop's Promise class (offload results settle these). */
  readonly Promise: PromiseConstructor;
  /** Whether the loop still accepts work (not closed, stopping or broken). */
  readonly accepting: boolean;
  /** Registers `client`; returns a function that unregisters it. Throws if the loop is closed. */
  onClose(client: IngressLoopClient): () => void;
}

export class IngressHost implements IngressLoop {
  readonly #engine: Engine;
  readonly #promises: LoopPromises;
  readonly #clients = new Set<IngressLoopClient>();
  /** The clients open when the loop began to close (closing unregisters them). */
  #closing: IngressLoopClient[] | undefined = undefined;
  #counts: IngressCounts | undefined = undefined;

  constructor(engine: Engine, promises: LoopPromises) {
    this.#engine = engine;
    this.#promises = promises;
  }

  queueTask(fn: (arg: number) => void, arg: number): void {
    this.#engine.queueTask(fn, arg, "deliver a message from another thread");
  }

  retain(): void {
    // A closed loop dropped every ref at once (lifecycle.ts); nothing to count any more.
    if (!this.#engine.closed) this.#engine.live.retain();
  }

  release(): void {
    if (!this.#engine.closed) this.#engine.live.release();
  }

  get Promise(): PromiseConstructor {
    return this.#promises.Promise as unknown as PromiseConstructor;
  }

  get accepting(): boolean {
    return !this.#engine.refusing;
  }

  onClose(client: IngressLoopClient): () => void {
    if (this.#engine.closed) {
      throw this.#engine.core.broken ?? new LoopClosedError("attach an ingress");
    }
    this.#clients.add(client);
    return () => this.#clients.delete(client);
  }

  // ---- the lifecycle's side ------------------------------------------------------------

  /** The loop begins to close (lifecycle.ts): tells every client; what they throw is reported. */
  loopClosing(graceful: boolean): void {
    this.#closing ??= [...this.#clients];
    for (const client of this.#closing) {
      try {
        client.loopClosing(graceful);
      } catch (error) {
        this.#engine.report(error);
      }
    }
  }

  /** The loop closed: the clients' counts, summed (undefined when it never had a client). */
  loopClosed(): IngressCounts | undefined {
    const closing = this.#closing;
    if (closing === undefined || closing.length === 0) return undefined;
    if (this.#counts === undefined) {
      const counts = { delivered: 0, undelivered: 0 };
      for (const client of closing) {
        try {
          const c = client.loopClosed();
          counts.delivered += c.delivered;
          counts.undelivered += c.undelivered;
        } catch (error) {
          this.#engine.report(error);
        }
      }
      this.#counts = counts;
    }
    return this.#counts;
  }
}
