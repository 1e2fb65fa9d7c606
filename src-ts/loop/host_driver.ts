/**
 * How a real-clock loop is woken by its host runtime: libuv (epoll/kqueue/IOCP)
 * under Node, Deno's and Bun's event loops, workerd's, a browser's.
 *
 * The driver owns two host resources:
 * - one host timer, armed for the loop's earliest deadline and re-armed only
 *   when that deadline moves earlier (or after it fires), like Node's single
 *   libuv timer for all JS timers;
 * - one "soon" wake-up for queued tasks, immediates and microtask checkpoints:
 *   `setImmediate` where it exists (Node, Bun, Deno 2, workerd with a 2026
 *   compatibility date), else a `MessageChannel` (browsers, older workerd dates),
 *   else `setTimeout(0)`. A port with a listener keeps Node, Deno and Bun alive,
 *   so the loop releases the channel whenever it becomes idle (`release()`).
 *
 * The host functions are captured when this module loads, so a loop whose
 * globals were installed onto `globalThis` never calls itself.
 *
 * Ref/unref: the host timer is ref'd only while the loop has ref'd handles, so a
 * Node process whose loop holds only unref'd timers can exit (Node's
 * `timeout.unref()`, Bun's `timer.unref()`; Deno's `Deno.unrefTimer` comes from the
 * entry point as a {@linkcode RuntimeHooks.setTimerRef}).
 *
 * @module
 */

import type { RuntimeHooks } from "../runtime.ts";

type HostTimer = unknown;

const host = globalThis as unknown as {
  setTimeout: (fn: () => void, ms: number) => HostTimer;
  clearTimeout: (timer: HostTimer) => void;
  setImmediate?: (fn: () => void) => unknown;
  clearImmediate?: (handle: unknown) => void;
  queueMicrotask: (fn: () => void) => void;
  MessageChannel?: typeof MessageChannel;
};

const hostSetTimeout = host.setTimeout.bind(globalThis);
const hostClearTimeout = host.clearTimeout.bind(globalThis);
const hostSetImmediate =
  typeof host.setImmediate === "function" ? host.setImmediate.bind(globalThis) : undefined;
const hostClearImmediate =
  hostSetImmediate && typeof host.clearImmediate === "function"
    ? host.clearImmediate.bind(globalThis)
    : undefined;
const hostQueueMicrotask = host.queueMicrotask.bind(globalThis);
const HostMessageChannel =
  typeof host.MessageChannel === "function" ? host.MessageChannel : undefined;

/** Queues `fn` on the host's own microtask queue (captured at load). */
export function queueHostMicrotask(fn: () => void): void {
  hostQueueMicrotask(fn);
}

/**
 * Resolves on a later host macrotask: every native microtask queued before it (and
 * every one those queue) has run by then. setImmediate where it exists; else a
 * MessageChannel (browsers: setTimeout(0) is clamped to 4 ms once nested), closed again
 * when nothing waits, so it never keeps a process alive; else setTimeout(0).
 */
export function hostMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    if (hostSetImmediate) hostSetImmediate(resolve);
    else if (HostMessageChannel) macrotaskChannel.post(resolve);
    else hostSetTimeout(resolve, 0);
  });
}

const macrotaskChannel = {
  channel: undefined as MessageChannel | undefined,
  waiting: [] as Array<() => void>,
  post(resolve: () => void): void {
    this.waiting.push(resolve);
    if (this.channel === undefined) {
      this.channel = new HostMessageChannel!();
      this.channel.port1.onmessage = () => this.deliver();
    }
    this.channel.port2.postMessage(null);
  },
  deliver(): void {
    this.waiting.shift()?.();
    if (this.waiting.length > 0 || this.channel === undefined) return;
    const channel = this.channel;
    this.channel = undefined;
    channel.port1.onmessage = null;
    channel.port1.close();
    channel.port2.close();
  },
};

/** The default: host timers that are objects with ref()/unref() (Node, Bun, workerd). */
function refTimerObject(timer: HostTimer, ref: boolean): void {
  if (typeof timer !== "object" || timer === null) return;
  const handle = timer as { ref?(): void; unref?(): void };
  if (ref) handle.ref?.();
  else handle.unref?.();
}

export class HostDriver {
  #onTimer: () => void;
  #onWake: () => void;
  readonly #setTimerRef: (timer: HostTimer, ref: boolean) => void;
  #timer: HostTimer = undefined;
  /** The deadline (loop µs) the host timer is armed for; Infinity when disarmed. */
  #armedAt = Infinity;
  #timerRef = true;
  #wakePending = false;
  /** The pending setImmediate wake-up (Node, Bun: an object with ref()/unref()). */
  #wakeHandle: unknown = undefined;
  #wakeRef = true;
  #channel: MessageChannel | undefined;
  #disposed = false;
  #fireTimer = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    if (!this.#disposed) this.#onTimer();
  };
  #fireWake = (): void => {
    this.#wakePending = false;
    this.#wakeHandle = undefined;
    if (!this.#disposed) this.#onWake();
  };

  constructor(onTimer: () => void, onWake: () => void, runtime: RuntimeHooks) {
    this.#onTimer = onTimer;
    this.#onWake = onWake;
    this.#setTimerRef = runtime.setTimerRef ?? refTimerObject;
  }

  /**
   * Arms the host timer for `deadlineUs` unless it is already armed for an earlier
   * time, or wakes the loop at once if that time has come. Both times are the loop's,
   * in microseconds.
   */
  arm(deadlineUs: number, nowUs: number): void {
    // Already due (html's setTimeout(fn, 0)): the next host macrotask runs it. A host
    // timer would add its own floor (1 ms in Node and Chromium, 4 ms once nested).
    if (deadlineUs <= nowUs) {
      this.wake();
      return;
    }
    if (this.#disposed || deadlineUs >= this.#armedAt) return;
    if (this.#timer !== undefined) hostClearTimeout(this.#timer);
    this.#armedAt = deadlineUs;
    // Round up: a host timer that fires a fraction early would find nothing due.
    const delay = Math.max(0, Math.ceil((deadlineUs - nowUs) / 1000));
    this.#timer = hostSetTimeout(this.#fireTimer, delay);
    if (!this.#timerRef) this.#setTimerRef(this.#timer, false);
  }

  /** Disarms the host timer. */
  disarm(): void {
    if (this.#timer !== undefined) hostClearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  /** Whether the armed host timer keeps the host process alive. */
  setTimerRef(ref: boolean): void {
    if (ref === this.#timerRef) return;
    this.#timerRef = ref;
    if (this.#timer !== undefined) this.#setTimerRef(this.#timer, ref);
  }

  /**
   * Requests one host macrotask callback soon (coalesced). `ref`: whether it keeps the
   * host process alive (new work does; only unref'd immediates left after a turn do not).
   */
  wake(ref = true): void {
    this.setWakeRef(ref);
    if (this.#wakePending || this.#disposed) return;
    this.#wakePending = true;
    if (hostSetImmediate) {
      this.#wakeHandle = hostSetImmediate(this.#fireWake);
      if (!this.#wakeRef) refTimerObject(this.#wakeHandle, false);
    } else if (HostMessageChannel) {
      if (!this.#channel) {
        this.#channel = new HostMessageChannel();
        this.#channel.port1.onmessage = this.#fireWake;
      }
      this.#channel.port2.postMessage(null);
    } else {
      hostSetTimeout(this.#fireWake, 0);
    }
  }

  /**
   * Withdraws a pending unref'd setImmediate wake-up; true if it did. run() confirming
   * idleness takes a ref'd host task, which would otherwise keep the process alive
   * long enough to run unref'd immediates that Node would never run.
   */
  withdrawUnrefdWake(): boolean {
    if (!this.#wakePending || this.#wakeRef || this.#wakeHandle === undefined) return false;
    if (hostClearImmediate === undefined) return false;
    hostClearImmediate(this.#wakeHandle);
    this.#wakeHandle = undefined;
    this.#wakePending = false;
    return true;
  }

  /**
   * Whether a wake-up keeps the host process alive: not when the only queued work is
   * unref'd immediates, which, as in Node, run only while something else keeps the
   * process alive. (A MessageChannel wake-up has no unref: browsers do not exit.)
   */
  setWakeRef(ref: boolean): void {
    if (ref === this.#wakeRef) return;
    this.#wakeRef = ref;
    if (this.#wakeHandle !== undefined) refTimerObject(this.#wakeHandle, ref);
  }

  /**
   * The loop is idle: drop the MessageChannel (if one is in use and no wake-up is
   * pending) so it does not keep the host process alive. The next wake() makes a new one.
   */
  release(): void {
    if (this.#channel === undefined || this.#wakePending) return;
    this.#closeChannel();
  }

  #closeChannel(): void {
    const channel = this.#channel!;
    this.#channel = undefined;
    channel.port1.onmessage = null;
    channel.port1.close();
    channel.port2.close();
  }

  dispose(): void {
    this.#disposed = true;
    this.disarm();
    if (this.#channel) this.#closeChannel();
  }
}
