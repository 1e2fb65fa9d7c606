/**
 * A tiny pure-JS loop used only by the promise tests: a microtask FIFO (standing in for the Zig ring),
 * a task FIFO, virtual-time timers and an EventTarget. It implements PromiseHost.
 *
 * Two ways to drive it:
 * - manual (default): the test calls `runMicrotasks()` / `runTask()` / `run()` and everything is
 *   deterministic; `run()` is "task, checkpoint, task, checkpoint, ..." then timers in virtual time.
 * - auto (`{ auto: true }`): any queued work schedules a native `setImmediate` wake-up that runs the loop
 *   until idle; used by the Promises/A+ suite, which waits with native timers.
 */
import {
  createPromiseClass,
  type LoopPromiseKit,
  type PromiseHost,
  type PromiseOptions,
} from "../../src-ts/promise/promise.ts";

type Job = (arg: any) => void;

function callMicrotask(fn: () => void): void {
  fn();
}

export interface StubHostOptions {
  auto?: boolean;
}

export class StubHost implements PromiseHost {
  /** Microtask FIFO as two parallel arrays plus a head index (reset when drained). */
  #jobs: Job[] = [];
  #args: unknown[] = [];
  #head = 0;
  #tasks: (() => void)[] = [];
  #timers: { at: number; seq: number; fn: () => void }[] = [];
  #seq = 0;
  #auto: boolean;
  #wakeScheduled = false;
  #inCheckpoint = false;
  /** Virtual time in ms. */
  now = 0;
  readonly target = new EventTarget();
  readonly errors: unknown[] = [];
  readonly warnings: { message: string; detail: unknown }[] = [];
  exitCode: number | undefined = undefined;
  /** Called at the end of every microtask checkpoint (set to the kit's checkpointEnd). */
  onCheckpointEnd: (() => void) | undefined = undefined;
  checkpoints = 0;

  constructor(options: StubHostOptions = {}) {
    this.#auto = options.auto === true;
  }

  // ---- PromiseHost --------------------------------------------------------------------------------
  enqueueJob(job: Job, arg: unknown): void {
    this.#jobs.push(job);
    this.#args.push(arg);
    if (this.#auto && !this.#wakeScheduled) this.#scheduleWake();
  }

  reportError(error: unknown): void {
    this.errors.push(error);
  }

  queueTask(task: () => void): void {
    this.#tasks.push(task);
    if (this.#auto && !this.#wakeScheduled) this.#scheduleWake();
  }

  dispatchEvent(event: Event): boolean {
    return this.target.dispatchEvent(event);
  }

  warn(message: string, detail?: unknown): void {
    this.warnings.push({ message, detail });
  }

  setExitCode(code: number): void {
    this.exitCode = code;
  }

  // ---- loop API used by tests -------------------------------------------------------------------
  /** queueMicrotask on the same FIFO as promise jobs. */
  queueMicrotask(fn: () => void): void {
    this.enqueueJob(callMicrotask, fn);
  }

  setTimeout(fn: () => void, ms = 0): void {
    this.#timers.push({ at: this.now + Math.max(0, ms), seq: this.#seq++, fn });
  }

  get pendingJobs(): number {
    return this.#jobs.length - this.#head;
  }

  get pendingTasks(): number {
    return this.#tasks.length;
  }

  /** Perform a microtask checkpoint: drain the FIFO (including jobs queued meanwhile), then notify. */
  runMicrotasks(): void {
    if (this.#inCheckpoint) return;
    this.#inCheckpoint = true;
    try {
      const jobs = this.#jobs;
      const args = this.#args;
      while (this.#head < jobs.length) {
        const i = this.#head++;
        const job = jobs[i]!;
        const arg = args[i];
        jobs[i] = undefined as unknown as Job;
        args[i] = undefined;
        try {
          job(arg);
        } catch (error) {
          this.reportError(error);
        }
      }
      jobs.length = 0;
      args.length = 0;
      this.#head = 0;
    } finally {
      this.#inCheckpoint = false;
    }
    this.checkpoints++;
    this.onCheckpointEnd?.();
  }

  /** Run one task (if any) followed by a checkpoint. Returns whether a task ran. */
  runTask(): boolean {
    const task = this.#tasks.shift();
    if (task === undefined) return false;
    try {
      task();
    } catch (error) {
      this.reportError(error);
    }
    this.runMicrotasks();
    return true;
  }

  /** Run everything until idle: microtasks, tasks, then due timers in virtual time. */
  run(limit = 100_000): void {
    this.runMicrotasks();
    for (let n = 0; n < limit; n++) {
      if (this.runTask()) continue;
      if (!this.#runNextTimer()) return;
    }
    throw new Error("StubHost.run: too many iterations (runaway loop?)");
  }

  /** Run tasks and microtasks until idle without firing timers. */
  runTasks(): void {
    this.runMicrotasks();
    while (this.runTask()) {
      // keep going
    }
  }

  #runNextTimer(): boolean {
    if (this.#timers.length === 0) return false;
    let best = 0;
    for (let i = 1; i < this.#timers.length; i++) {
      const t = this.#timers[i]!;
      const b = this.#timers[best]!;
      if (t.at < b.at || (t.at === b.at && t.seq < b.seq)) best = i;
    }
    const [timer] = this.#timers.splice(best, 1);
    this.now = Math.max(this.now, timer!.at);
    this.#tasks.push(timer!.fn);
    return this.runTask();
  }

  #scheduleWake(): void {
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.runTasks();
    });
  }
}

/** A stub host plus a Promise class bound to it, with checkpoints wired to the tracker. */
export function makeLoop(
  options: PromiseOptions & StubHostOptions = {},
): LoopPromiseKit & { host: StubHost } {
  const host = new StubHost(options);
  const kit = createPromiseClass(host, options);
  host.onCheckpointEnd = () => kit.checkpointEnd();
  return Object.assign(kit, { host });
}
