/**
 * The host's scheduling functions as the ingress and the offload pool use them, captured
 * when this module loads (so installed loop globals never stand in for them), and the
 * host's `Atomics.waitAsync`.
 *
 * @module
 */

type HostTimer = (fn: () => void, ms: number) => unknown;

export const hostSetInterval = globalThis.setInterval.bind(globalThis) as HostTimer;
export const hostClearInterval = globalThis.clearInterval.bind(globalThis) as (
  timer: unknown,
) => void;
export const hostSetTimeout = globalThis.setTimeout.bind(globalThis) as HostTimer;
export const hostClearTimeout = globalThis.clearTimeout.bind(globalThis) as (
  timer: unknown,
) => void;
export const hostQueueMicrotask = globalThis.queueMicrotask.bind(globalThis);

/** `Atomics.waitAsync` (ES2024): Node 16+, Deno, Bun, Chromium 87+; missing in older Firefox and Safari. */
export type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<string> | string };
export const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
export const hasWaitAsync = typeof waitAsync === "function";

const denoTimers = (
  globalThis as { Deno?: { unrefTimer?(id: number): void; refTimer?(id: number): void } }
).Deno;

/** Refs or unrefs a host timer: a Node/Bun timer object, or a Deno timer id. */
export function setTimerRef(timer: unknown, ref: boolean): void {
  if (typeof timer === "object" && timer !== null) {
    const handle = timer as { ref?(): void; unref?(): void };
    if (ref) handle.ref?.();
    else handle.unref?.();
  } else if (typeof timer === "number" && denoTimers?.unrefTimer) {
    if (ref) denoTimers.refTimer?.(timer);
    else denoTimers.unrefTimer(timer);
  }
}
