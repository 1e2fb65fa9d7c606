/**
 * The host's side of the boundary with one core instance: the exports the hot paths
 * call (held in fields, so a call is one load), the batch views into linear memory
 * (re-created when memory grows and detaches the old buffer), the mapping from a
 * negative core status to the error the user sees, and trap isolation: a
 * `WebAssembly.RuntimeError` from the core breaks this loop only.
 *
 * @module
 */

import {
  CapacityError,
  CoreTrapError,
  LoopClosedError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
} from "../errors.ts";
import {
  BATCH_CAPACITY,
  Batch,
  type CoreExports,
  type CoreMemory,
  Stat,
  Status,
} from "./abi.generated.ts";

/** Whether `error` is a trap of a WebAssembly instance. */
export function isTrap(error: unknown): boolean {
  return typeof WebAssembly === "object" && error instanceof WebAssembly.RuntimeError;
}

/** The batch views of a detached bridge: shared, empty. */
const NO_BATCH = new Uint32Array(0);

export class CoreBridge {
  // Not readonly: `detach` moves them onto a frozen stand-in when the core is reused.
  exports: CoreExports;
  memory: CoreMemory;
  timerSchedule: (delay: number, repeating: number) => number;
  timerCancel: (id: number) => number;
  taskPush: (slot: number, force: number) => number;
  /** The batch buffers of the current turn (they never move; the views do when memory grows). */
  timerBatch: Uint32Array;
  taskBatch: Uint32Array;
  immediateBatch: Uint32Array;
  #buffer: ArrayBufferLike;
  /** Set once the core trapped; every later use of this loop throws it. */
  broken: CoreTrapError | undefined = undefined;
  /** Called once, when the core first traps (the lifecycle marks the loop broken). */
  onTrap: (error: CoreTrapError) => void = () => {};
  /**
   * Called with every CapacityError before it is thrown (the loop's `onCapacity`
   * option): a host that runs a guest stops it there, whether or not the guest catches.
   */
  onCapacity: (error: CapacityError) => void = () => {};

  constructor(core: CoreExports) {
    this.exports = core;
    this.memory = core.memory;
    this.timerSchedule = core.zl_timer_schedule;
    this.timerCancel = core.zl_timer_cancel;
    this.taskPush = core.zl_task_push;
    this.#buffer = this.memory.buffer;
    this.timerBatch = this.#batchView(Batch.timers);
    this.taskBatch = this.#batchView(Batch.tasks);
    this.immediateBatch = this.#batchView(Batch.immediates);
  }

  #batchView(batch: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, this.exports.zl_batch_ptr(batch), BATCH_CAPACITY);
  }

  /** Re-creates the batch views when linear memory grew (the old buffer is detached). */
  refreshViews(): void {
    if (this.memory.buffer === this.#buffer) return;
    this.#buffer = this.memory.buffer;
    this.timerBatch = this.#batchView(Batch.timers);
    this.taskBatch = this.#batchView(Batch.tasks);
    this.immediateBatch = this.#batchView(Batch.immediates);
  }

  /**
   * From now on, answers come from `frozen` (a closed core's stand-in, see
   * instance_pool.ts) and nothing reaches the old core, which another loop may own.
   */
  detach(frozen: CoreExports): void {
    this.exports = frozen;
    this.memory = frozen.memory;
    this.timerSchedule = frozen.zl_timer_schedule;
    this.timerCancel = frozen.zl_timer_cancel;
    this.taskPush = frozen.zl_task_push;
    this.#buffer = frozen.memory.buffer; // no view is re-made on it
    // A frozen core collects nothing (Status.closed), so no batch is read any more.
    this.timerBatch = NO_BATCH;
    this.taskBatch = NO_BATCH;
    this.immediateBatch = NO_BATCH;
  }

  /** Runs a step that calls into the core; a trap there breaks this loop only. */
  guard<T>(action: string, step: () => T): T {
    try {
      return step();
    } catch (error) {
      throw this.trapped(error, action);
    }
  }

  /** The error to throw for `error` caught around a core call: a trap becomes this loop's CoreTrapError. */
  trapped(error: unknown, action: string): unknown {
    if (!isTrap(error)) return error;
    if (this.broken === undefined) {
      this.broken = new CoreTrapError(action, error);
      this.onTrap(this.broken);
    }
    return this.broken;
  }

  /** A CapacityError, after `onCapacity` saw it (a hook that throws changes nothing). */
  capacityError(
    capacity: CapacityError["capacity"],
    limit: number | undefined,
    action: string,
  ): CapacityError {
    const error = new CapacityError(capacity, limit, action);
    try {
      this.onCapacity(error);
    } catch {
      // The refusal stands either way; a failing hook must not turn it into another error.
    }
    return error;
  }

  /** Throws the error for a negative core status. */
  fail(status: number, action: string): never {
    const core = this.exports;
    switch (status) {
      case Status.timers_full:
        throw this.capacityError("timers", core.zl_stat(Stat.handles_live), action);
      case Status.tasks_full:
        throw this.capacityError("tasks", core.zl_stat(Stat.tasks_queued), action);
      case Status.microtasks_full:
        throw this.capacityError("microtasks", core.zl_stat(Stat.microtasks_queued), action);
      case Status.out_of_memory:
        throw this.capacityError("memory", undefined, action);
      case Status.closed:
        throw new LoopClosedError(action);
      case Status.stopping:
        throw new LoopShuttingDownError(action);
      case Status.reentrant:
        throw new ReentrancyError(action);
      default:
        throw new LoopStateError(
          "ERR_LOOP_INTERNAL",
          `Cannot ${action}: the core answered status ${status}.`,
        );
    }
  }

  /** A core statistic (see `Stat`). */
  stat(stat: number): number {
    return this.exports.zl_stat(stat);
  }
}
