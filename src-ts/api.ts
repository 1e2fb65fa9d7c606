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
  type CloseReport,
  EventLoop,
  type EventLoopFor,
  type EventLoopOptions,
  type GlobalsDisposer,
  type IngressCounts,
  type InstallGlobalsOptions,
  type LoopState,
  type Profile,
  type ShutdownReport,
} from "./event_loop.ts";
export type {
  ClockOf,
  DriveOptions,
  ImmediateHandle,
  ImmediateId,
  ImmediateThis,
  ManualOnly,
  ProfileOf,
  TimerHandle,
  TimerId,
  TimerThis,
} from "./event_loop_types.ts";
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
