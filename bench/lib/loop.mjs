// The built zigloop package (dist/node.js) for the host-level suites (host, promise,
// scaling): they measure the real API (`loop.setTimeout`, `loop.submit`,
// `loop.Promise`, ...), not the raw core.
//
// - ZIGLOOP_BENCH_WASM=/path/to/zigloop.wasm: loops use that build of the core (through
//   createEventLoopSync({ module })), like the core suite; the ABI check still applies.
// - ZIGLOOP_BENCH_DIST=/path/to/dist/node.js: another build of the host (for profiling
//   with an unstripped core, see docs/BENCHMARKS.md "Profiling").
//
// Run `npm run build` first.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const defaultDist = new URL("../../dist/node.js", import.meta.url);
const distUrl = process.env.ZIGLOOP_BENCH_DIST
  ? pathToFileURL(resolve(process.env.ZIGLOOP_BENCH_DIST))
  : defaultDist;
if (!existsSync(fileURLToPath(distUrl))) {
  throw new Error(
    `Cannot load ${fileURLToPath(distUrl)}: run \`npm run build\` before \`npm run bench\`.`,
  );
}

/** Where the measured build of the package is (its dist/node.js). */
export { distUrl };

/** The package's exports (createEventLoop, createEventLoopSync, EventLoop, ...). */
export const zigloop = await import(distUrl.href);

let overrideModule;
if (process.env.ZIGLOOP_BENCH_WASM) {
  const { wasmModule } = await import("./core.mjs");
  overrideModule = wasmModule;
}

/** A new loop (its own core instance), as an application creates it. */
export async function createLoop(options = {}) {
  if (overrideModule) return zigloop.createEventLoopSync({ ...options, module: overrideModule });
  return zigloop.createEventLoop(options);
}

/**
 * A loop together with its raw core exports, for reading the core's latency histogram
 * at arbitrary percentiles (the public `metrics()` gives p50/p90/p95/p99/p99.9 only).
 * Uses the EventLoop constructor the entry points use internally; the loop is the same.
 */
export async function createLoopWithCore(options = {}) {
  const { instantiateSync } = await import(new URL("core/instance.js", distUrl).href);
  const module = overrideModule ?? (await import("./core.mjs")).wasmModule;
  const core = instantiateSync(module);
  return { loop: new zigloop.EventLoop(core, options), core };
}

/** Resolves on a later host macrotask (setImmediate): a fresh host task, like an I/O callback. */
export function hostTask() {
  return new Promise((resolve) => setImmediate(resolve));
}
