/**
 * Shared helpers of the semantics suite (test/semantics). Every test file imports
 * the TypeScript sources directly, like a user of the Node entry would.
 *
 * `makeLoop` creates a loop whose `onError` and `onWarning` collect into arrays, so
 * a test can assert on what was reported instead of letting it reach the console.
 * `makeFakeHostLoop` does the same for a real-clock loop on a fake host, where host
 * times are exact: what a test of the real clock asserts about time belongs there, since
 * on the host's own clock a loaded machine can make any wait longer.
 */
import { createEventLoop, type EventLoopOptions } from "../../src-ts/node.ts";
import { type FakeHost, onFakeHost } from "../fake_host.ts";
import { type LooseLoop, loose } from "../loose_loop.ts";

export type Profile = "html" | "node";

export interface TestLoop {
  loop: LooseLoop;
  /** Everything passed to `loop.onError`, in order. */
  errors: unknown[];
  /** Everything passed to `loop.onWarning`, in order. */
  warnings: Error[];
  /** A log the test's callbacks push to. */
  log: string[];
}

/** A loop with collecting error/warning hooks. Manual clock unless told otherwise. */
export async function makeLoop(options: EventLoopOptions = {}): Promise<TestLoop> {
  const errors: unknown[] = [];
  const warnings: Error[] = [];
  const loop = await createEventLoop({
    clock: "manual",
    ...options,
    onError: options.onError ?? ((error) => errors.push(error)),
    onWarning: options.onWarning ?? ((warning) => warnings.push(warning)),
  });
  return { loop: loose(loop), errors, warnings, log: [] };
}

/**
 * A real-clock loop on a new fake host (test/fake_host.ts), with collecting hooks. Its
 * host time starts at 0; `zigloop` is the copy of the package the loop comes from (take
 * error classes from it).
 */
export async function makeFakeHostLoop(
  options: EventLoopOptions = {},
): Promise<
  TestLoop & { host: FakeHost; zigloop: Awaited<ReturnType<typeof onFakeHost>>["zigloop"] }
> {
  const { host, zigloop } = await onFakeHost();
  const errors: unknown[] = [];
  const warnings: Error[] = [];
  const loop = await zigloop.createEventLoop({
    clock: "real",
    ...options,
    onError: options.onError ?? ((error) => errors.push(error)),
    onWarning: options.onWarning ?? ((warning) => warnings.push(warning)),
  });
  return { loop: loose(loop), errors, warnings, log: [], host, zigloop };
}

/** Both profiles, for rules the two share. */
export const profiles: Profile[] = ["html", "node"];

/** The numeric id of a timer handle in either profile (node: via Symbol.toPrimitive). */
export function idOf(handle: unknown): number {
  return typeof handle === "number" ? handle : Number(handle);
}

/** Resolves after `ms` host milliseconds (Node's own timers, not a loop's). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Blocks the thread for `ms` milliseconds, so several real-clock deadlines pass before the host runs the loop. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/**
 * Resolves once `predicate()` holds, polling every host millisecond. No deadline of its
 * own: how long the host takes depends on the machine's load, so a condition that never
 * holds fails by the test's timeout (vitest's, a minute), never by a guess at a fast machine.
 */
export async function waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(1);
}
