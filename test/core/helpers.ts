/// <reference types="node" />
import { readFileSync } from "node:fs";
import type { CoreExports } from "../../src-ts/core/abi.generated.ts";

/** The committed core, compiled once per test file. */
export const coreModule = new WebAssembly.Module(
  readFileSync(new URL("../../wasm/zigloop.wasm", import.meta.url)),
);

/** A raw core instance, initialized with small capacities unless given. */
export function rawCore(
  timers = 1 << 16,
  tasks = 1 << 16,
  microtasks = 1 << 16,
  ring = 64,
): CoreExports {
  const exports = new WebAssembly.Instance(coreModule, {}).exports as unknown as CoreExports;
  const status = exports.zl_init(timers, tasks, microtasks, ring);
  if (status !== 0) throw new Error(`zl_init failed: ${status}`);
  return exports;
}
