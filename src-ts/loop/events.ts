/**
 * The loop is an EventTarget: it dispatches `unhandledrejection` and
 * `rejectionhandled` from its own tasks. A listener that throws must not reach the host
 * (in Node an EventTarget listener's exception becomes an uncaughtException), so every
 * listener is wrapped: what it throws goes to `onError`, like any other callback's error.
 * The wrapper is remembered per (listener, type, capture), so `removeEventListener`
 * with the original listener removes it.
 *
 * @module
 */

import type { LoopEvent, LoopEventListener } from "../web.ts";

type Listener = LoopEventListener<any>;

export class ListenerWrappers {
  readonly #wrappers = new WeakMap<object, Map<string, (event: LoopEvent) => void>>();
  readonly #report: (error: unknown) => void;

  constructor(report: (error: unknown) => void) {
    this.#report = report;
  }

  /** The wrapper to register for `listener` (the same one each time for the same key). */
  wrap(
    target: object,
    type: string,
    listener: Listener,
    options: unknown,
  ): (event: LoopEvent) => void {
    let byKey = this.#wrappers.get(listener);
    if (byKey === undefined) this.#wrappers.set(listener, (byKey = new Map()));
    const key = listenerKey(type, options);
    let wrapper = byKey.get(key);
    if (wrapper === undefined) {
      const report = this.#report;
      wrapper = (event: LoopEvent): void => {
        try {
          if (typeof listener === "function") listener.call(target, event);
          else listener.handleEvent(event);
        } catch (error) {
          report(error);
        }
      };
      byKey.set(key, wrapper);
    }
    return wrapper;
  }

  /** The wrapper registered for `listener`, if any. */
  find(
    type: string,
    listener: Listener,
    options: unknown,
  ): ((event: LoopEvent) => void) | undefined {
    return this.#wrappers.get(listener)?.get(listenerKey(type, options));
  }
}

function listenerKey(type: string, options: unknown): string {
  const capture =
    typeof options === "boolean"
      ? options
      : (options as { capture?: unknown } | undefined)?.capture === true;
  return `${type}\u0000${capture}`;
}
