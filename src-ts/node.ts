/// <reference types="node" />
/**
 * zigloop for Node.js and Bun: reads `zigloop.wasm` from the package with
 * `node:fs`, and reports warnings through `process.emitWarning`. Same API as the
 * portable entry.
 *
 * @module
 */

import vm from "node:vm";
import { loadCoreModule } from "./core/load_node.ts";
import { type LoopFactories, makeFactories } from "./create.ts";
import type { RuntimeHooks } from "./runtime.ts";

export * from "./api.ts";

/** An empty script: running it in an "afterEvaluate" context drains that context's microtasks. */
let drainScript: vm.Script | undefined;

const runtime: RuntimeHooks = {
  // Node's and Bun's warning channel (it prints `(node:pid) Name: message` once per warning).
  emitWarning:
    typeof process === "object" && typeof process.emitWarning === "function"
      ? (warning) => process.emitWarning(warning)
      : undefined,
  // node:vm contexts are guest realms (installGlobals(context)).
  realm: {
    isContext: (target) => vm.isContext(target),
    evaluate: (target, source, filename) =>
      vm.runInContext(source, target as vm.Context, { filename }),
    drain: (target) => {
      drainScript ??= new vm.Script("", { filename: "zigloop:checkpoint" });
      drainScript.runInContext(target as vm.Context);
    },
  },
};

const factories = makeFactories(loadCoreModule, runtime);

/**
 * Creates a loop with its own core.
 *
 * @param options Profile, clock, capacities, metrics and error hooks.
 * @returns A new, idle loop.
 * @throws {TypeError | RangeError} for invalid options.
 * @example
 * ```ts
 * import { createEventLoop } from "zigloop";
 * const loop = await createEventLoop({ profile: "node" });
 * loop.setTimeout(() => console.log("later"), 10);
 * await loop.run();
 * ```
 */
export const createEventLoop: LoopFactories["createEventLoop"] = factories.createEventLoop;

/**
 * Creates a loop synchronously from a `WebAssembly.Module` the embedder compiled.
 *
 * @param options The loop options and `module`.
 * @returns A new, idle loop with its own core instance.
 * @throws {TypeError} when `module` is not a compiled zigloop core.
 * @example
 * ```ts
 * import { createEventLoopSync } from "zigloop";
 * const loop = createEventLoopSync({ module: new WebAssembly.Module(bytes), clock: "manual" });
 * ```
 */
export const createEventLoopSync: LoopFactories["createEventLoopSync"] =
  factories.createEventLoopSync;
