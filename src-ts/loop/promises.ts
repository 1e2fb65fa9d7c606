/**
 * A loop's Promise (a constructor and domain over the one promise class) and how it is
 * wired to the loop: its jobs go on the loop's microtask queue (or, once the loop is
 * closed, the host's, so awaiting a loop promise never hangs), rejection events are
 * loop tasks, and the end of every checkpoint moves the shutdown registry's nursery and
 * notifies about rejected promises.
 *
 * The constructor and domain are created on first use of `loop.Promise`.
 *
 * @module
 */

import { TerminationError } from "../errors.ts";
import {
  createPromiseClass,
  type LoopPromiseConstructor,
  type LoopPromiseKit,
  type PromiseHost,
} from "../promise/promise.ts";
import type { LoopEvent } from "../web.ts";
import type { Engine } from "./engine.ts";
import { hostMacrotask, queueHostMicrotask } from "./host_driver.ts";

export class LoopPromises {
  readonly #engine: Engine;
  readonly #dispatchEvent: (event: LoopEvent) => boolean;
  #kit: LoopPromiseKit | undefined = undefined;
  /**
   * A graceful shutdown terminated the loop's promises. A class created later (on first
   * use of `loop.Promise`) must behave as if it had been there: waits on its pending
   * promises reject at once. A plain close() terminates nothing, whenever the class was
   * created.
   */
  #terminated = false;

  constructor(engine: Engine, dispatchEvent: (event: LoopEvent) => boolean) {
    this.#engine = engine;
    this.#dispatchEvent = dispatchEvent;
  }

  /** The loop's Promise class (created on first use). */
  get Promise(): LoopPromiseConstructor {
    return (this.#kit ??= this.#create()).Promise;
  }

  /** Work waiting for the end of a checkpoint: rejections to notify, nursery links to promote. */
  pendingNotifications(): number {
    const kit = this.#kit;
    return kit === undefined ? 0 : kit.tracker.pendingNotifications + kit.nurserySize;
  }

  /** HTML "notify about rejected promises" (and the registry's promotion) at the end of a checkpoint. */
  checkpointEnd(): void {
    this.#kit?.checkpointEnd();
  }

  /** Rejects pending loop promises that someone waits on; returns how many. */
  terminatePending(): number {
    this.#terminated = true;
    return this.#kit?.terminatePending(new TerminationError()) ?? 0;
  }

  /**
   * The loop just closed. Rejections waiting for a checkpoint's end (close() was called
   * inside a checkpoint, which then stopped) are notified at the end of a host task, like
   * the ones that happen after close; otherwise they would wait for the next rejection.
   */
  closed(): void {
    if (this.pendingNotifications() > 0) this.#closedCheckpointNeeded();
  }

  #create(): LoopPromiseKit {
    const engine = this.#engine;
    const kit = createPromiseClass(new LoopPromiseHost(engine, this.#dispatchEvent), {
      unhandledRejections: engine.config.unhandledRejections,
      trackCreation: engine.config.trackPromiseCreation,
    });
    // A rejection outside any checkpoint (top-level code) must still be reported; the
    // shutdown registry's nursery must still be promoted: both need a checkpoint's end.
    kit.tracker.onPending = () => this.#checkpointNeeded();
    kit.onNurseryStart = () => this.#checkpointNeeded();
    // Created after a graceful shutdown terminated: waits on new pending promises reject,
    // as they would had the class existed then. (Created during the shutdown's drain, the
    // final termination reaches and counts them.) After a plain close() nothing is
    // terminated, so nothing is here either.
    if (this.#terminated) kit.terminatePending(new TerminationError());
    return kit;
  }

  #checkpointNeeded(): void {
    const engine = this.#engine;
    if (engine.closed) this.#closedCheckpointNeeded();
    else if (engine.depth === 0 && !engine.checkpointing) engine.requestCheckpoint();
  }

  #closedCheckpointQueued = false;

  /**
   * A closed loop has no checkpoints, but its promises still settle (their jobs run on
   * the host's queue): their rejections are still notified, at the end of a later host
   * task, after the host's microtasks (handlers attached by then count as handled).
   */
  #closedCheckpointNeeded(): void {
    if (this.#closedCheckpointQueued) return;
    this.#closedCheckpointQueued = true;
    void hostMacrotask().then(() => {
      this.#closedCheckpointQueued = false;
      this.#kit?.checkpointEnd();
    });
  }
}

/**
 * What a loop gives its promises (PromiseHost). A class, not an object of closures: every
 * loop's promises then call the same functions, so the promise code's call sites stay
 * monomorphic however many loops the process has (bench suite many_loops).
 */
class LoopPromiseHost implements PromiseHost {
  readonly #engine: Engine;
  readonly #dispatch: (event: LoopEvent) => boolean;

  constructor(engine: Engine, dispatch: (event: LoopEvent) => boolean) {
    this.#engine = engine;
    this.#dispatch = dispatch;
  }

  enqueueJob(job: (arg: any) => void, arg: unknown): void {
    const engine = this.#engine;
    // After close, on the host's own queue: awaiting a loop promise never hangs.
    if (engine.closed) queueHostMicrotask(() => job(arg));
    else engine.enqueueJob(job, arg, true);
  }

  reportError(error: unknown): void {
    this.#engine.report(error);
  }

  queueTask(task: () => void): void {
    const engine = this.#engine;
    if (engine.closed) void hostMacrotask().then(task);
    else engine.queueInternalTask(task);
  }

  dispatchEvent(event: LoopEvent): boolean {
    return this.#dispatch(event);
  }

  warn(message: string, detail?: unknown): void {
    const warning = new Error(message);
    const name = (detail as { name?: unknown } | undefined)?.name;
    warning.name = typeof name === "string" ? name : "Warning";
    this.#engine.warn(warning);
  }

  setExitCode(code: number): void {
    this.#engine.hooks.exitCode = code;
  }
}
