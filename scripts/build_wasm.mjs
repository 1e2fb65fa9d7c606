#!/usr/bin/env node
// `npm run build:wasm`: rebuilds wasm/zigloop.wasm and src-ts/core/abi.generated.ts
// with the pinned Zig. Both outputs are committed; CI rebuilds them and fails on any
// difference (`npm run check:wasm`).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const zig = fileURLToPath(new URL("./zig.mjs", import.meta.url));
const result = spawnSync(
  process.execPath,
  [zig, "build", "--summary", "none", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
