#!/usr/bin/env node
// `npm run check:wasm`: rebuilds the committed artifacts with the pinned Zig and
// fails if a single byte differs from what is committed.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const artifacts = ["wasm/zigloop.wasm", "src-ts/core/abi.generated.ts"];
const digest = (path) =>
  createHash("sha256")
    .update(readFileSync(root + path))
    .digest("hex");
const committed = Object.fromEntries(
  artifacts.map((path) => [
    path,
    createHash("sha256")
      .update(execFileSync("git", ["show", `HEAD:${path}`], { cwd: root }))
      .digest("hex"),
  ]),
);
const build = spawnSync(
  process.execPath,
  [fileURLToPath(new URL("./build_wasm.mjs", import.meta.url))],
  { stdio: "inherit" },
);
if (build.status !== 0) process.exit(build.status ?? 1);
let drift = false;
for (const path of artifacts) {
  const rebuilt = digest(path);
  const same = rebuilt === committed[path];
  console.log(
    `${same ? "same" : "DIFFERS"}  ${path}  committed ${committed[path].slice(0, 16)}  rebuilt ${rebuilt.slice(0, 16)}`,
  );
  drift ||= !same;
}
if (drift) {
  console.error(
    "The committed build differs from a rebuild with the pinned Zig: run `npm run build:wasm` and commit.",
  );
  process.exit(1);
}
console.log("wasm/zigloop.wasm and the generated bindings match a rebuild with the pinned Zig.");
