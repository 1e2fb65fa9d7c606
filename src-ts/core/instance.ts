/**
 * Instantiating the core and checking it is the module this host was generated
 * against: every export present, and the ABI checksum (a hash of every status
 * code, enum value and layout constant, computed by Zig at build time) equal to
 * the one in the generated bindings. A mismatch is a clear error at load time
 * instead of silent misbehaviour later.
 *
 * @module
 */

import { CoreMismatchError } from "../errors.ts";
import type { CompiledCore } from "../web.ts";
import { ABI_CHECKSUM, ABI_VERSION, type CoreExports, EXPORT_NAMES } from "./abi.generated.ts";
import { adopt, takeCore } from "./instance_pool.ts";

export { CoreMismatchError };

/** Modules already checked: listing a module's exports costs more than instantiating a small loop's bookkeeping. */
const checked = new WeakSet<object>();

/** Checks that `module` exports everything the host needs (before instantiating). */
export function checkModule(module: CompiledCore): void {
  if (checked.has(module as object)) return;
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(
      `Expected a WebAssembly.Module compiled from zigloop.wasm, got ${
        module === null ? "null" : typeof module
      }.`,
    );
  }
  const names = new Set(
    WebAssembly.Module.exports(module as WebAssembly.Module).map((e) => e.name),
  );
  const missing = [...EXPORT_NAMES, "memory"].filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new CoreMismatchError(
      `The WebAssembly module is not the zigloop core this host expects: missing exports ${missing.join(", ")}. ` +
        "Rebuild it with `npm run build:wasm` or use the zigloop.wasm shipped with this package.",
    );
  }
  checked.add(module);
}

/** Checks the ABI version and checksum of an instance. */
export function checkInstance(exports: CoreExports): CoreExports {
  const version = exports.zl_abi_version();
  const checksum = exports.zl_abi_checksum() >>> 0;
  if (version !== ABI_VERSION || checksum !== ABI_CHECKSUM) {
    throw new CoreMismatchError(
      `zigloop.wasm has ABI version ${version} (checksum 0x${checksum.toString(16)}) but this host was generated ` +
        `for version ${ABI_VERSION} (checksum 0x${ABI_CHECKSUM.toString(16)}). Rebuild with \`npm run build:wasm\`.`,
    );
  }
  return exports;
}

/**
 * A core for a new loop, synchronously (embedders with a precompiled module, workers,
 * tests): a closed loop's core made like new if one is pooled (instance_pool.ts), else a
 * new instance.
 */
export function instantiateSync(module: CompiledCore): CoreExports {
  checkModule(module);
  const pooled = takeCore(module as object);
  if (pooled !== undefined) return pooled;
  const instance = new WebAssembly.Instance(module as WebAssembly.Module, {});
  return adopt(checkInstance(instance.exports as unknown as CoreExports), module as object);
}

/** Like {@link instantiateSync}, asynchronously (required for large modules on browser main threads). */
export async function instantiate(module: CompiledCore): Promise<CoreExports> {
  checkModule(module);
  const pooled = takeCore(module as object);
  if (pooled !== undefined) return pooled;
  const instance = await WebAssembly.instantiate(module as WebAssembly.Module, {});
  return adopt(checkInstance(instance.exports as unknown as CoreExports), module as object);
}
