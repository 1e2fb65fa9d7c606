/**
 * What every entry point exports besides `createEventLoop` (which each entry
 * builds around its runtime's way of loading the core).
 *
 * @module
 */

export { createEventLoopSync, type SyncEventLoopOptions } from "./create.ts";
export {
  type CapacityOptions,
  type CloseReport,
  type DriveOptions,
  EventLoop,
  type EventLoopOptions,
  type LoopState,
  type ShutdownReport,
} from "./event_loop.ts";
export {
  CapacityError,
  ClockModeError,
  CoreTrapError,
  LoopClosedError,
  LoopLimitError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
  TerminationError,
} from "./errors.ts";
export { CoreMismatchError } from "./core/instance.ts";
export { formatMetrics, type LatencySummary, type LoopMetrics, type QueueDepth, type Rate } from "./loop/metrics.ts";
export { Immediate, type Profile, type StringHandlerCompiler, Timeout } from "./timers.ts";
export type { Watch, WatchEvent, WatchOptions } from "./loop/watch.ts";
export {
  type LoopPromiseConstructor,
  PromiseRejectionEvent,
  UnhandledPromiseRejection,
  type UnhandledRejectionsMode,
} from "./promise/promise.ts";
