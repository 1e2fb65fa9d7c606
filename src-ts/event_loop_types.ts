/**
 * The public types that go with `EventLoop` (event_loop.ts): what its methods return
 * and accept, by profile and clock, and the loop type `createEventLoop(options)` returns.
 *
 * @module
 */

import type { ClockKind, Profile } from "./loop/config.ts";
import type { Immediate, Timeout } from "./profile/handles.ts";

/** Options of the synchronous driving calls. */
export interface DriveOptions {
  /** Rounds before a LoopLimitError (a round = one turn, or one time step for runAll). */
  limit?: number;
}

/** What `setTimeout`/`setInterval` return: a number (html), a {@linkcode Timeout} (node). */
export type TimerHandle<P extends Profile> = P extends "node" ? Timeout : number;
/** What `setImmediate` returns: a number (html), an {@linkcode Immediate} (node). */
export type ImmediateHandle<P extends Profile> = P extends "node" ? Immediate : number;
/** What `clearTimeout`/`clearInterval` accept: an id (html); a Timeout or its number (node). */
export type TimerId<P extends Profile> = P extends "node" ? Timeout | number | string : number;
/** What `clearImmediate` accepts. */
export type ImmediateId<P extends Profile> = P extends "node" ? Immediate : number;
/** `this` inside a timer callback: the global (html), the Timeout (node). */
export type TimerThis<P extends Profile> = P extends "node" ? Timeout : unknown;
/** `this` inside an immediate's callback. */
export type ImmediateThis<P extends Profile> = P extends "node" ? Immediate : unknown;
/** A manual-clock method's argument type: `never` on a loop whose type says it has a real clock. */
export type ManualOnly<C extends ClockKind, T> = [C] extends ["real"] ? never : T;

/** The profile options select (html when absent). */
export type ProfileOf<O> = "profile" extends keyof O
  ? O extends { readonly profile?: infer P }
    ? [Exclude<P, undefined>] extends [never]
      ? "html"
      : Exclude<P, undefined> & Profile
    : "html"
  : "html";
/** The clock options select (real when absent). */
export type ClockOf<O> = "clock" extends keyof O
  ? O extends { readonly clock?: infer C }
    ? [Exclude<C, undefined>] extends [never]
      ? "real"
      : Exclude<C, undefined> & ClockKind
    : "real"
  : "real";
