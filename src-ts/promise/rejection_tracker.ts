/**
 * Unhandled-rejection tracking for the loop's Promise.
 *
 * This is the HTML Standard's host side of ECMAScript's HostPromiseRejectionTracker:
 *
 * - "The HostPromiseRejectionTracker implementation"
 *   (https://html.spec.whatwg.org/multipage/webappapis.html#the-hostpromiserejectiontracker-implementation,
 *   §8.1.5.2 in the copy this was written against; HTML renumbers these sections often, so the anchors are
 *   the stable names): operation "reject" appends the promise to the global's *about-to-be-notified
 *   rejected promises list*; operation "handle" removes it from that list if it is there (and nothing fires
 *   at all), otherwise, if the promise is in the *outstanding rejected promises weak set*, removes it and
 *   queues a task that fires `rejectionhandled`.
 * - "Unhandled promise rejections" / "notify about rejected promises"
 *   (https://html.spec.whatwg.org/multipage/webappapis.html#unhandled-promise-rejections, §8.1.4.7 in the
 *   same copy): at the end of every microtask checkpoint, take (and empty) the list; if it was not empty,
 *   queue ONE task that, for each promise p of the list: skips p if p.[[PromiseIsHandled]]; fires a
 *   cancelable `unhandledrejection` (PromiseRejectionEvent with promise and reason); if not canceled,
 *   reports the reason; and if p.[[PromiseIsHandled]] is (still) false, appends p to the outstanding
 *   rejected promises weak set.
 *
 * The last step is why a handler attached *inside* an `unhandledrejection` listener never produces
 * `rejectionhandled`: the "handle" operation finds p neither in the (already emptied) list nor in the weak
 * set (p is only added after dispatch, and only if still unhandled). Whether the event was canceled does
 * not matter for the weak set; it only decides whether the rejection is reported.
 *
 * Node's `--unhandled-rejections` modes (lib/internal/process/promises.js) are mapped onto the same
 * tracking; the reporting step differs per mode (see {@link UnhandledRejectionsMode}), and so does
 * its timing: Node processes rejections in `processTicksAndRejections`, right after the microtasks
 * drain (between two timers, after every callback), not from a task. So in the node modes the
 * end of every checkpoint first emits `rejectionhandled` for handlers attached late, then notifies
 * about the rejections still unhandled, synchronously.
 * @module
 */
import { describeValue } from "../errors.ts";
import { HostEvent, type LoopEvent, type LoopEventInit } from "../web.ts";

/** How a rejection that is still unhandled when its notification task runs is reported. */
export type UnhandledRejectionsMode =
  | "html"
  | "throw"
  | "strict"
  | "warn"
  | "warn-with-error-code"
  | "none";

const MODES: readonly UnhandledRejectionsMode[] = [
  "html",
  "throw",
  "strict",
  "warn",
  "warn-with-error-code",
  "none",
];

/** The part of the loop host the tracker uses. `PromiseHost` from promise.ts is a superset. */
export interface RejectionTrackerHost {
  /** Report an error that has no promise to reject (HTML "report an exception"). Must not throw. */
  reportError(error: unknown): void;
  /** Queue a macrotask on the loop. */
  queueTask(task: () => void): void;
  /** Dispatch an event on the loop (an EventTarget). Returns dispatchEvent's result. */
  dispatchEvent(event: LoopEvent): boolean;
  /** Emit a process-style warning. */
  warn(message: string, detail?: unknown): void;
  /** Set the process-style exit code. */
  setExitCode(code: number): void;
}

/** What the tracker needs to ask about a promise it is tracking. */
export interface RejectionInspector {
  /** The promise's [[PromiseIsHandled]]. */
  isHandled(promise: object): boolean;
  /** The stack recorded when the promise was created (option `trackCreation`), else undefined. */
  creationStack(promise: object): string | undefined;
}

/** Options of {@link RejectionTracker}. */
export interface RejectionTrackerOptions {
  /** Reporting mode; default "html". */
  unhandledRejections?: UnhandledRejectionsMode;
}

/** Init dictionary of {@link PromiseRejectionEvent} (HTML's PromiseRejectionEventInit plus zigloop's extra). */
export interface PromiseRejectionEventInit extends LoopEventInit {
  /** The promise this notification is about (required). */
  promise: object;
  /** The rejection reason. */
  reason?: unknown;
  /** zigloop extension: where the promise was created, when the loop tracks creation stacks. */
  creationStack?: string;
}

/**
 * The event fired at the loop for `unhandledrejection` (cancelable) and `rejectionhandled`.
 * Mirrors HTML's PromiseRejectionEvent interface; defined here because server runtimes lack it.
 */
export class PromiseRejectionEvent extends HostEvent {
  /** The promise this notification is about. */
  readonly promise: object;
  /** The rejection reason. */
  readonly reason: unknown;
  /** Where the promise was created (only with `trackCreation: true`). */
  readonly creationStack: string | undefined;

  /**
   * Creates the event.
   * @param type "unhandledrejection" or "rejectionhandled" (any string is accepted, as in HTML).
   * @param init `promise` (required object), `reason`, `creationStack` and the usual EventInit flags.
   * @throws {TypeError} if `init` or `init.promise` is not an object.
   * @example
   * ```ts
   * const ev = new PromiseRejectionEvent("unhandledrejection", { promise: p, reason: err, cancelable: true });
   * ```
   */
  constructor(type: string, init: PromiseRejectionEventInit) {
    if (init === null || typeof init !== "object") {
      throw new TypeError(
        `PromiseRejectionEvent: init must be an object with a 'promise' member, got ${describeValue(init)}`,
      );
    }
    const promise: unknown = init.promise;
    if (promise === null || (typeof promise !== "object" && typeof promise !== "function")) {
      throw new TypeError(
        `PromiseRejectionEvent: init.promise must be an object, got ${describeValue(promise)}`,
      );
    }
    super(type, init);
    this.promise = promise;
    this.reason = init.reason;
    this.creationStack = init.creationStack;
  }
}

/**
 * The error raised (via `reportError`) in the node modes "throw" and "strict" when the rejection reason
 * is not error-like, mirroring Node's `UnhandledPromiseRejection` (code `ERR_UNHANDLED_REJECTION`).
 */
export class UnhandledPromiseRejection extends Error {
  /** Node's error code. */
  readonly code = "ERR_UNHANDLED_REJECTION";
  /** The original rejection reason. */
  readonly reason: unknown;

  /**
   * Wraps a non-error rejection reason.
   * @param reason The rejection reason.
   * @example
   * ```ts
   * const e = new UnhandledPromiseRejection(42); // e.message mentions "42"
   * ```
   */
  constructor(reason: unknown) {
    super(
      "This error originated either by throwing inside of an async function without a catch block, " +
        "or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason " +
        `"${reasonText(reason)}".`,
    );
    this.name = "UnhandledPromiseRejection";
    this.reason = reason;
  }
}

/**
 * Tracks rejected promises without handlers and notifies about them at the end of each microtask
 * checkpoint, as HTML specifies (see the module comment), reporting per the configured mode.
 *
 * Memory: the about-to-be-notified list holds its promises strongly until the next notification task has
 * run (ECMA-262 allows this for "reject"); the outstanding set is a WeakMap, so a reported promise that
 * nobody references is collectable.
 */
export class RejectionTracker {
  /** The reporting mode. */
  readonly mode: UnhandledRejectionsMode;
  #host: RejectionTrackerHost;
  #inspector: RejectionInspector;
  /** HTML's about-to-be-notified rejected promises list: promise → reason, insertion-ordered, O(1) delete. */
  #aboutToBeNotified = new Map<object, unknown>();
  /** HTML's outstanding rejected promises weak set (with the reason and Node-style rejection id). */
  #outstanding = new WeakMap<object, OutstandingRecord>();
  /** Node modes: reported rejections that got a handler since the last checkpoint end. */
  #handledLater: Array<[object, OutstandingRecord]> = [];
  #nextRejectionId = 1;

  /**
   * Creates a tracker bound to one loop.
   * @param host The loop's task queue, event target, error reporter and process hooks.
   * @param options `unhandledRejections` mode (default "html").
   * @param inspector Reads [[PromiseIsHandled]] and creation stacks of the tracked promises.
   * @throws {TypeError} if a host method or inspector method is missing, or the mode is unknown.
   * @example
   * ```ts
   * const tracker = new RejectionTracker(host, { unhandledRejections: "warn" }, inspector);
   * ```
   */
  constructor(
    host: RejectionTrackerHost,
    options: RejectionTrackerOptions | undefined,
    inspector: RejectionInspector,
  ) {
    for (const name of [
      "reportError",
      "queueTask",
      "dispatchEvent",
      "warn",
      "setExitCode",
    ] as const) {
      if (host === null || typeof host !== "object" || typeof host[name] !== "function") {
        throw new TypeError(
          `RejectionTracker: host.${name} must be a function, got ${describeValue(host?.[name])}`,
        );
      }
    }
    if (
      inspector === null ||
      typeof inspector !== "object" ||
      typeof inspector.isHandled !== "function" ||
      typeof inspector.creationStack !== "function"
    ) {
      throw new TypeError(
        `RejectionTracker: inspector must have isHandled and creationStack functions, got ${describeValue(inspector)}`,
      );
    }
    const mode = options?.unhandledRejections ?? "html";
    if (!MODES.includes(mode)) {
      throw new TypeError(
        `RejectionTracker: unhandledRejections must be one of ${MODES.join(", ")}, got ${describeValue(mode)}`,
      );
    }
    this.mode = mode;
    this.#host = host;
    this.#inspector = inspector;
  }

  /** How many rejected (or late-handled) promises wait for the end of the current checkpoint. */
  get pendingNotifications(): number {
    return this.#aboutToBeNotified.size + this.#handledLater.length;
  }

  /**
   * HostPromiseRejectionTracker(promise, "reject"): a promise was rejected while it had no handler.
   * @param promise The rejected promise.
   * @param reason Its rejection reason.
   * @returns nothing.
   * @example
   * ```ts
   * tracker.onReject(p, new Error("x")); // reported at the next checkpointEnd() unless handled first
   * ```
   */
  onReject(promise: object, reason: unknown): void {
    this.#aboutToBeNotified.set(promise, reason);
    if (this.#aboutToBeNotified.size === 1) this.onPending?.();
  }

  /**
   * Called when the "about to be notified" list becomes non-empty, so a host that only
   * runs checkpoints when microtasks are queued can make sure one happens.
   */
  onPending: (() => void) | undefined = undefined;

  /**
   * HostPromiseRejectionTracker(promise, "handle"): a handler was attached to a rejected promise that had
   * none. Before notification this silently forgets the rejection; after it was reported, it queues a task
   * that fires `rejectionhandled`.
   * @param promise The promise that just got its first handler.
   * @returns nothing.
   * @example
   * ```ts
   * tracker.onHandle(p);
   * ```
   */
  onHandle(promise: object): void {
    if (this.#aboutToBeNotified.delete(promise)) return;
    const record = this.#outstanding.get(promise);
    if (record === undefined) return;
    this.#outstanding.delete(promise);
    if (this.mode !== "html") {
      this.#handledLater.push([promise, record]);
      if (this.pendingNotifications === 1) this.onPending?.();
      return;
    }
    this.#host.queueTask(() => this.#fireHandled(promise, record));
  }

  #fireHandled(promise: object, record: OutstandingRecord): void {
    this.#host.dispatchEvent(
      new PromiseRejectionEvent("rejectionhandled", {
        promise,
        reason: record.reason,
        creationStack: record.creationStack,
      }),
    );
  }

  /**
   * HTML "notify about rejected promises": the loop calls this at the end of every microtask checkpoint.
   * If any rejection is still waiting, it empties the list and queues one task that fires the events.
   * @returns nothing.
   * @example
   * ```ts
   * // inside the loop, after draining microtasks:
   * tracker.checkpointEnd();
   * ```
   */
  checkpointEnd(): void {
    if (this.mode !== "html") {
      this.#processNow();
      return;
    }
    const pending = this.#aboutToBeNotified;
    if (pending.size === 0) return;
    this.#aboutToBeNotified = new Map();
    this.#host.queueTask(() => this.#notify(pending));
  }

  /** Node's processPromiseRejections: late handlers first, then the rejections still unhandled. */
  #processNow(): void {
    const handled = this.#handledLater;
    if (handled.length > 0) {
      this.#handledLater = [];
      for (const [promise, record] of handled) this.#fireHandled(promise, record);
    }
    const pending = this.#aboutToBeNotified;
    if (pending.size === 0) return;
    this.#aboutToBeNotified = new Map();
    try {
      this.#notify(pending);
    } catch (error) {
      this.#host.reportError(error); // inside a checkpoint: nothing may escape into the turn
    }
  }

  /** The queued task of "notify about rejected promises". Processes every entry even if one report throws. */
  #notify(list: Map<object, unknown>): void {
    let failed = false;
    let failure: unknown;
    for (const [promise, reason] of list) {
      if (this.#inspector.isHandled(promise)) continue;
      try {
        this.#notifyOne(promise, reason);
      } catch (error) {
        if (!failed) failure = error;
        failed = true;
      }
    }
    if (failed) throw failure;
  }

  #notifyOne(promise: object, reason: unknown): void {
    const host = this.#host;
    const creationStack = this.#inspector.creationStack(promise);
    const id = this.#nextRejectionId++;
    const fire = (): boolean =>
      host.dispatchEvent(
        new PromiseRejectionEvent("unhandledrejection", {
          promise,
          reason,
          cancelable: true,
          creationStack,
        }),
      );
    switch (this.mode) {
      case "html":
        if (fire()) host.reportError(reason);
        break;
      case "throw":
        if (fire()) host.reportError(uncaughtErrorFor(reason));
        break;
      case "strict":
        host.reportError(uncaughtErrorFor(reason));
        if (fire()) this.#warn(reason, promise, id, creationStack);
        break;
      case "warn":
        fire();
        this.#warn(reason, promise, id, creationStack);
        break;
      case "warn-with-error-code":
        if (fire()) {
          this.#warn(reason, promise, id, creationStack);
          host.setExitCode(1);
        }
        break;
      case "none":
        fire();
        break;
    }
    if (!this.#inspector.isHandled(promise)) {
      this.#outstanding.set(promise, { reason, creationStack });
    }
  }

  #warn(reason: unknown, promise: object, id: number, creationStack: string | undefined): void {
    let message =
      `Unhandled promise rejection: ${reasonText(reason)}\n` +
      "This error originated either by throwing inside of an async function without a catch block, " +
      "or by rejecting a promise which was not handled with .catch(). " +
      `To make such rejections fatal, use the unhandledRejections: "strict" or "throw" option. (rejection id: ${id})`;
    if (creationStack !== undefined) message += `\nThe promise was created at:\n${creationStack}`;
    this.#host.warn(message, {
      name: "UnhandledPromiseRejectionWarning",
      reason,
      promise,
      rejectionId: id,
      creationStack,
    });
  }
}

interface OutstandingRecord {
  reason: unknown;
  creationStack: string | undefined;
}

/** Node's isErrorLike: an object with an own `stack` property. */
function isErrorLike(value: unknown): boolean {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "stack");
}

/** What Node raises as the uncaught exception for an unhandled rejection. */
function uncaughtErrorFor(reason: unknown): unknown {
  return isErrorLike(reason) ? reason : new UnhandledPromiseRejection(reason);
}

/** Text for a rejection reason that runs as little user code as possible (Node: noSideEffectsToString). */
function reasonText(reason: unknown): string {
  try {
    if (isErrorLike(reason)) return String((reason as { stack: unknown }).stack);
    if (reason !== null && (typeof reason === "object" || typeof reason === "function")) {
      return Object.prototype.toString.call(reason);
    }
    return String(reason);
  } catch {
    return "<unprintable reason>";
  }
}
