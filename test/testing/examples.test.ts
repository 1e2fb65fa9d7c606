/// <reference types="node" />
/**
 * The runner examples in examples/testing/ run as their users would run them:
 * `node --test` on the node:test one and `deno test` on the Deno one (the Vitest one
 * is part of this suite). Deno is the npm package's binary, as in scripts/test_runtimes.mjs.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = ["node_modules/deno/deno", "node_modules/.bin/deno"]
  .map((path) => join(root, path))
  .find((path) => existsSync(path));

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

test("examples/testing/node_test.mjs passes under node --test", () => {
  const { status, output } = run(process.execPath, ["--test", "examples/testing/node_test.mjs"]);
  expect(output).toMatch(/# pass 2/);
  expect(status, output).toBe(0);
});

test.skipIf(deno === undefined)("examples/testing/deno_test.ts passes under deno test", () => {
  const { status, output } = run(deno!, [
    "test",
    // Type-checking costs ~8 s (Deno's check of the sources); `deno check` covers it.
    "--no-check",
    "--no-lock",
    `--allow-read=${join(root, "wasm/zigloop.wasm")}`,
    "examples/testing/deno_test.ts",
  ]);
  expect(output).toMatch(/2 passed/);
  expect(status, output).toBe(0);
});
