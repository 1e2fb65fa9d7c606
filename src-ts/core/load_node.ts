/// <reference types="node" />
/**
 * Loads the core with `node:fs` (Node, Bun): `zigloop.wasm` sits at
 * `wasm/zigloop.wasm` in the package, two levels above this file in the sources
 * (`src-ts/core/`), the ESM build (`dist/core/`) and the CommonJS bundle
 * (`dist/cjs/`).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import type { CompiledCore } from "../web.ts";

export async function loadCoreModule(): Promise<CompiledCore> {
  const url = new URL("../../wasm/zigloop.wasm", import.meta.url);
  // The cast: Deno's bundled Node types do not accept Buffer<ArrayBufferLike> as a BufferSource.
  return WebAssembly.compile((await readFile(url)) as Uint8Array<ArrayBuffer>);
}
