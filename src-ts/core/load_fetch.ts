/**
 * Loads the core with `fetch` (Deno, browsers): `zigloop.wasm` sits at
 * `wasm/zigloop.wasm` in the package, two levels above this file in both the
 * sources (`src-ts/core/`) and the build (`dist/core/`).
 *
 * @module
 */

import type { CompiledCore } from "../web.ts";

export async function loadCoreModule(): Promise<CompiledCore> {
  const url = new URL("../../wasm/zigloop.wasm", import.meta.url);
  const response = await fetch(url);
  if (!response.ok) {
    throw new TypeError(
      `Could not load the zigloop core from ${url.href}: HTTP ${response.status}.`,
    );
  }
  return WebAssembly.compile(await response.arrayBuffer());
}
