/**
 * What every entry point exports besides `createEventLoop` and `createEventLoopSync`
 * (which each entry builds around its runtime's way of loading the core).
 *
 * @module
 */

export type { KnownOptions, LoopFactories, SyncEventLoopOptions } from "./create.ts";
export {
  CapacityError,
  ClockModeError,
  CoreMismatchError,
  CoreTrapError,
  DriveInProgressError,
  LoopClosedError,
  LoopLimitError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
  TerminationError,
} from "./errors.ts";
export {
  type CapacityOptions,
  type ClockKind,
  type ClockOf,
  type CloseReport,
  type DriveOptions,
  EventLoop,
  type EventLoopFor,
  type EventLoopOptions,
  type GlobalsDisposer,
  type ImmediateHandle,
  type ImmediateId,
  type ImmediateThis,
  type InstallGlobalsOptions,
  type LoopState,
  type ManualOnly,
  type Profile,
  type ProfileOf,
  type ShutdownReport,
  type TimerHandle,
  type TimerId,
  type TimerThis,
} from "./event_loop.ts";
export {
  formatMetrics,
  type LatencySummary,
  type LoopMetrics,
  type QueueDepth,
  type Rate,
} from "./loop/metrics.ts";
export type { Watch, WatchEvent, WatchOptions } from "./loop/watch.ts";
export { Immediate, Timeout } from "./profile/handles.ts";
export type { StringHandlerCompiler } from "./profile/html.ts";
export {
  type LoopPromiseConstructor,
  PromiseRejectionEvent,
  UnhandledPromiseRejection,
  type UnhandledRejectionsMode,
} from "./promise/promise.ts";
export type {
  CompiledCore,
  LoopEvent,
  LoopEventListener,
  LoopEventTarget,
  LoopListenerOptions,
} from "./web.ts";
