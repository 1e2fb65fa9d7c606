/**
 * The few web-platform shapes zigloop's public types mention, declared here so the
 * published declarations compile with only `lib: ["es2022"]` (no DOM, no Node types):
 * a program that never loaded the DOM library can still type-check against zigloop.
 *
 * At run time these are the host's own `EventTarget` and `Event` (every runtime
 * zigloop supports has them); only their static types are narrowed to what zigloop uses.
 *
 * @module
 */

declare global {
  // Explicit resource management (ES2026 `using`): declared as TypeScript's esnext
  // library and @types/node do, so `[Symbol.dispose]` type-checks on es2022 too.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
    readonly asyncDispose: unique symbol;
  }
}

/** What zigloop's events carry (a subset of the DOM `Event`). */
export interface LoopEvent {
  readonly type: string;
  readonly cancelable: boolean;
  readonly defaultPrevented: boolean;
  preventDefault(): void;
  stopImmediatePropagation(): void;
}

/** A listener: a function or an object with `handleEvent`. */
export type LoopEventListener<E = LoopEvent> =
  | ((event: E) => void)
  | { handleEvent(event: E): void };

/** `addEventListener` options (a subset of the DOM's). */
export interface LoopListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
}

/** The EventTarget methods a loop has. */
export interface LoopEventTarget {
  addEventListener(
    type: string,
    listener: LoopEventListener<any> | null,
    options?: LoopListenerOptions | boolean,
  ): void;
  removeEventListener(
    type: string,
    listener: LoopEventListener<any> | null,
    options?: { capture?: boolean } | boolean,
  ): void;
  dispatchEvent(event: LoopEvent): boolean;
}

/** `EventInit` (a subset of the DOM's). */
export interface LoopEventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** The host's `EventTarget` constructor. */
export const HostEventTarget: new () => LoopEventTarget = (
  globalThis as unknown as { EventTarget: new () => LoopEventTarget }
).EventTarget;

/** The host's `Event` constructor. */
export const HostEvent: new (type: string, init?: LoopEventInit) => LoopEvent = (
  globalThis as unknown as { Event: new (type: string, init?: LoopEventInit) => LoopEvent }
).Event;

/**
 * An `AbortSignal` as zigloop uses it (a subset of the DOM's): `offload`'s cancellation.
 * Any host AbortSignal fits.
 */
export interface LoopAbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A URL as zigloop accepts it: a string, or anything with an `href` (a host `URL`). */
export type LoopUrl = string | { readonly href: string };

/**
 * A compiled `WebAssembly.Module` (of zigloop.wasm). Declared opaquely: the DOM's own
 * `WebAssembly.Module` type is an empty interface too, so any module is accepted here.
 */
// deno-lint-ignore no-empty-interface
export type CompiledCore = {};
