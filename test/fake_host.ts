/// <reference types="node" />
/**
 * A host whose clock and timers belong to the test, for real-clock loops.
 *
 * A real-clock loop reads the host's clock (`performance.now`) and is woken by the host's
 * `setTimeout` and `setImmediate`, all captured when zigloop's modules load
 * (src-ts/loop/clock.ts, src-ts/loop/host_driver.ts), so that a loop whose globals are
 * installed never calls itself. Faking those globals once zigloop is loaded changes
 * nothing. {@linkcode onFakeHost} therefore loads a fresh copy of the package while the
 * fakes are installed and puts the real globals back before it returns (no source hook,
 * no option: the same seam as test/reliability/_core_access.ts). Loops from that copy run
 * their real-clock code (one host timer for the earliest deadline, wake-ups, one clock
 * read per turn, the metrics clock reads) on a time line that moves only when the test
 * says so, so what they measure is exact on any machine, however loaded:
 *
 * - `host.block(ms)`: the callback running now takes `ms` (a busy wait): time passes and
 *   no host task runs meanwhile.
 * - `await host.advance(ms)`: the host's event loop for `ms` of host time.
 * - `await host.until(promise)`: the host's event loop until `promise` settles, e.g.
 *   `await host.until(loop.run())`. Where a Node process would exit instead (nothing ref'd
 *   is pending), it throws: a hang is an error at once, never a wall-clock timeout.
 *
 * Like Node, each host iteration runs the timers due now, then the immediates queued
 * before that; the runtime's own microtasks (native promise jobs, `queueMicrotask`, which
 * stay real) run after every host callback. Unlike Node, host timer delays are exact (no
 * 1 ms minimum), so the loop's times are exactly the ones the test chose.
 *
 * Only this copy of the package runs on the fake host: take the error classes from
 * `zigloop` too (`instanceof` against the statically imported ones is false).
 */
import { vi } from "vitest";

type Zigloop = typeof import("../src-ts/node.ts");

interface HostTask {
  /** Host time (ms) it runs at; immediates run at the time they were queued. */
  at: number;
  seq: number;
  fn: () => void;
  refed: boolean;
  cancelled: boolean;
}

/** What the fake setTimeout and setImmediate return: Node's ref/unref shape. */
class FakeHandle {
  readonly #task: HostTask;
  constructor(task: HostTask) {
    this.#task = task;
  }
  ref(): this {
    this.#task.refed = true;
    return this;
  }
  unref(): this {
    this.#task.refed = false;
    return this;
  }
  hasRef(): boolean {
    return this.#task.refed;
  }
  cancel(): void {
    this.#task.cancelled = true;
  }
}

/** The real setImmediate, captured like zigloop captures its host (a test may install a loop's globals). */
const realSetImmediate = globalThis.setImmediate;

/** Resolves on a real host macrotask: every native microtask queued before it has run. */
const realMacrotask = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

/** Host tasks one drive may run before it gives up (a loop that re-arms at one time forever). */
const STEPS_MAX = 100_000;

export class FakeHost {
  /** Host time in ms: what `performance.now()` returns. */
  now = 0;
  #seq = 0;
  #timers: HostTask[] = [];
  #immediates: HostTask[] = [];

  /** The callback running now takes `ms` more: time passes, no host task runs meanwhile. */
  block(ms: number): void {
    this.now += ms;
  }

  /** Runs the host's event loop for `ms` of host time; ends at exactly `now + ms`. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (let steps = 0; ; steps++) {
      if (steps > STEPS_MAX)
        throw new Error(`FakeHost.advance: more than ${STEPS_MAX} host iterations`);
      if (await this.#iterate()) continue;
      const next = this.#nextTimerAt();
      if (next > end) break;
      this.now = Math.max(this.now, next);
    }
    this.now = Math.max(this.now, end);
  }

  /**
   * Runs the host's event loop until `promise` settles and returns its value (or throws
   * its reason). Throws if the host would exit first: nothing ref'd is left to run.
   */
  async until<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const done = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (error: unknown) => {
        settled = true;
        throw error;
      },
    );
    done.catch(() => {}); // observed below
    await realMacrotask(); // a promise that is already settled needs no host task
    for (let steps = 0; !settled; steps++) {
      if (steps > STEPS_MAX)
        throw new Error(`FakeHost.until: more than ${STEPS_MAX} host iterations`);
      if (await this.#iterate()) continue;
      if (!this.keepsAlive()) {
        throw new Error(
          `FakeHost.until: the promise has not settled and nothing ref'd is pending at ${this.now} ms (a Node process would exit here)`,
        );
      }
      this.now = Math.max(this.now, this.#nextTimerAt());
    }
    return done;
  }

  /** Whether a ref'd host timer or immediate is pending: what keeps a Node process alive. */
  keepsAlive(): boolean {
    return [...this.#timers, ...this.#immediates].some((task) => task.refed && !task.cancelled);
  }

  /** Host timers pending (ref'd or not). */
  get pendingTimers(): number {
    return this.#timers.filter((task) => !task.cancelled).length;
  }

  /** One host iteration at `now`: the due timers, then the immediates queued before. Whether anything ran. */
  async #iterate(): Promise<boolean> {
    let ran = false;
    const due = this.#timers
      .filter((task) => task.at <= this.now)
      .sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const task of due) {
      this.#timers.splice(this.#timers.indexOf(task), 1);
      if (task.cancelled) continue;
      ran = true;
      await this.#call(task);
    }
    const immediates = this.#immediates;
    this.#immediates = [];
    for (const task of immediates) {
      if (task.cancelled) continue;
      ran = true;
      await this.#call(task);
    }
    return ran;
  }

  async #call(task: HostTask): Promise<void> {
    task.fn();
    await realMacrotask();
  }

  #nextTimerAt(): number {
    let next = Infinity;
    for (const task of this.#timers) if (!task.cancelled) next = Math.min(next, task.at);
    return next;
  }

  /** The globals zigloop captures at load, bound to this host. */
  globals(): Record<string, unknown> {
    const task = (fn: () => void, at: number): HostTask => ({
      at,
      seq: this.#seq++,
      fn,
      refed: true,
      cancelled: false,
    });
    return {
      performance: { now: () => this.now },
      setTimeout: (fn: () => void, ms = 0) => {
        const timer = task(fn, this.now + Math.max(0, ms));
        this.#timers.push(timer);
        return new FakeHandle(timer);
      },
      clearTimeout: (handle: unknown) => {
        if (handle instanceof FakeHandle) handle.cancel();
      },
      setImmediate: (fn: () => void) => {
        const immediate = task(fn, this.now);
        this.#immediates.push(immediate);
        return new FakeHandle(immediate);
      },
      clearImmediate: (handle: unknown) => {
        if (handle instanceof FakeHandle) handle.cancel();
      },
    };
  }
}

/**
 * A fresh copy of the package whose real-clock loops run on a new {@linkcode FakeHost}
 * (see the module comment). Its time starts at 0, so a loop created before the first
 * `advance` has `loop.now() === host.now`.
 */
export async function onFakeHost(): Promise<{ host: FakeHost; zigloop: Zigloop }> {
  const host = new FakeHost();
  const fakes = host.globals();
  const saved = new Map<string, PropertyDescriptor | undefined>();
  for (const [name, value] of Object.entries(fakes)) {
    saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  try {
    vi.resetModules();
    const zigloop: Zigloop = await import("../src-ts/node.ts");
    return { host, zigloop };
  } finally {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  }
}
