/// <reference types="node" />
/**
 * `node:timers` and `node:timers/promises` on the fake clock (Node and Bun): when
 * `install` fakes the timers of the real global, the same names on those modules are
 * replaced too, and `syncBuiltinESMExports()` makes ES-module imports of them
 * (`import { setTimeout } from "node:timers/promises"`) see the change. `restore`
 * puts back each original property and syncs again.
 *
 * `node:timers/promises` gets `setTimeout(delay, value, { signal })`,
 * `setImmediate(value, { signal })`, `setInterval(delay, value, { signal })` (an async
 * iterator) and `scheduler.wait(delay, { signal })`, all on the clock; an aborted signal
 * rejects with its reason, as Node's do.
 *
 * @module
 */

import { syncBuiltinESMExports } from "node:module";
import timers from "node:timers";
import timersPromises from "node:timers/promises";
import type { FakeClock } from "./clock.ts";

type Schedule = (fn: (...args: unknown[]) => unknown, ...rest: unknown[]) => unknown;
type Clear = (handle: unknown) => void;
interface AbortOptions {
  signal?: AbortSignal;
}

/**
 * Replaces the faked names on `node:timers` and `node:timers/promises`.
 * @param clock The installed clock.
 * @param methods The names `install` faked.
 * @returns A function that restores both modules.
 */
export function patchNodeTimers(clock: FakeClock, methods: readonly string[]): () => void {
  const saved: [object, string, PropertyDescriptor | undefined][] = [];
  const set = (target: object, name: string, value: unknown) => {
    saved.push([target, name, Object.getOwnPropertyDescriptor(target, name)]);
    Object.defineProperty(target, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  };
  const t = timers as unknown as Record<string, unknown>;
  for (const name of methods)
    if (name in t && name !== "promises") set(t, name, clock[name as keyof FakeClock]);
  const p = timersPromises as unknown as Record<string, unknown>;
  if (methods.includes("setTimeout")) {
    const wait = (delay?: number, value?: unknown, options?: AbortOptions) =>
      later(clock.setTimeout, clock.clearTimeout, [delay], value, options);
    set(p, "setTimeout", wait);
    set(p, "setInterval", (delay?: number, value?: unknown, options?: AbortOptions) =>
      interval(clock, delay, value, options),
    );
    const scheduler = p.scheduler as { yield(): Promise<void> };
    set(p, "scheduler", {
      wait: (delay: number, options?: AbortOptions) => wait(delay, undefined, options),
      yield: () => scheduler.yield(),
    });
  }
  if (methods.includes("setImmediate")) {
    set(p, "setImmediate", (value?: unknown, options?: AbortOptions) =>
      later(clock.setImmediate, clock.clearImmediate, [], value, options),
    );
  }
  if (saved.length === 0) return () => {};
  syncBuiltinESMExports();
  return () => {
    for (const [target, name, descriptor] of saved.reverse()) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete (target as Record<string, unknown>)[name];
    }
    syncBuiltinESMExports();
  };
}

/** A promise for `value` after the clock's `schedule(...args)`; an abort clears it and rejects. */
function later(
  schedule: Schedule,
  clear: Clear,
  args: unknown[],
  value: unknown,
  options: AbortOptions | undefined,
): Promise<unknown> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clear(handle);
      reject(signal!.reason);
    };
    const handle = schedule(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      },
      ...args,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `node:timers/promises` `setInterval`: yields `value` at every beat of a fake interval. */
async function* interval(
  clock: FakeClock,
  delay: number | undefined,
  value: unknown,
  options: AbortOptions | undefined,
): AsyncGenerator<unknown> {
  const signal = options?.signal;
  if (signal?.aborted) throw signal.reason;
  let beats = 0;
  let wake: (() => void) | undefined;
  const id = clock.setInterval(() => {
    beats++;
    wake?.();
  }, delay);
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (beats === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (signal?.aborted) throw signal.reason;
      beats--;
      yield value;
    }
  } finally {
    clock.clearInterval(id);
    signal?.removeEventListener("abort", onAbort);
  }
}
