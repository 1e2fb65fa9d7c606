/// <reference types="node" />
/**
 * vitest global setup: a few tests run the built package (workerd, child processes).
 * Rebuild dist/ when it is missing or older than its sources, so `npm test` never runs
 * them against a stale build.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

export default function setup(): void {
  const sources = Math.max(newest(join(root, "src-ts")), newest(join(root, "wasm/zigloop.wasm")));
  const outputs = ["dist/node.js", "dist/cjs/zigloop.cjs", "dist/cjs/testing.cjs"].map((path) =>
    join(root, path),
  );
  const stale = outputs.some((built) => !existsSync(built) || statSync(built).mtimeMs < sources);
  if (stale)
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], {
      cwd: root,
      stdio: "inherit",
    });
}
