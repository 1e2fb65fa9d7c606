/// <reference types="node" />
/**
 * Shared helpers of the reliability suite (test/reliability): one compiled core for
 * the whole file, loops created synchronously from it, and collecting hooks.
 */
import { readFileSync } from "node:fs";
import { createEventLoopSync, type EventLoop, type EventLoopOptions } from "../../src-ts/node.ts";

/** The committed core's bytes. */
export const coreBytes = readFileSync(new URL("../../wasm/zigloop.wasm", import.meta.url));

/** The committed core, compiled once per test file. */
export const coreModule = new WebAssembly.Module(coreBytes);

/** A loop on the committed core (manual clock unless told otherwise). */
export function makeLoop(options: EventLoopOptions = {}): EventLoop {
  return createEventLoopSync({ module: coreModule, clock: "manual", ...options });
}

/** A loop whose errors and warnings are collected instead of printed. */
export function collectingLoop(options: EventLoopOptions = {}): {
  loop: EventLoop;
  errors: unknown[];
  warnings: Error[];
} {
  const errors: unknown[] = [];
  const warnings: Error[] = [];
  const loop = makeLoop({
    onError: (error) => errors.push(error),
    onWarning: (warning) => warnings.push(warning),
    ...options,
  });
  return { loop, errors, warnings };
}

/** Resolves on a later host macrotask. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
