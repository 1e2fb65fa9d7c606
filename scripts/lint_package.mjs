#!/usr/bin/env node
// `npm run lint:package`: packs the package the way `npm publish` would (`npm pack`,
// which runs the `prepare` build first) into a temporary directory, then lints the
// tarball with publint (--strict: warnings fail too) and @arethetypeswrong/cli
// (every entry point, under node10, node16 from CJS and ESM, and bundler
// resolution). Exits 1 if either reports a problem.
//
// Usage: node scripts/lint_package.mjs [--keep]   (--keep leaves the tarball)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const keep = process.argv.includes("--keep");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const bin = (name) => join(root, "node_modules/.bin", name);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

const dir = mkdtempSync(join(tmpdir(), "zigloop-lint-"));
let failed = 0;
try {
  const pack = spawnSync(npm, ["pack", "--json", "--pack-destination", dir], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (pack.status !== 0) throw new Error(`npm pack failed (exit ${pack.status})`);
  // `prepare` output may precede the JSON on stdout.
  const [{ filename, entryCount, size }] = JSON.parse(
    pack.stdout.slice(pack.stdout.indexOf("\n[") + 1),
  );
  const tarball = join(dir, filename);
  console.log(`\n== ${filename}: ${entryCount} files, ${size} bytes packed`);

  console.log("\n== publint --strict");
  if (run(bin("publint"), ["run", "--strict", tarball]) !== 0) failed++;

  console.log("\n== attw (are the types wrong)");
  if (run(bin("attw"), ["--format", "table", tarball]) !== 0) failed++;
  if (keep) console.log(`\nKept ${tarball}`);
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
if (failed > 0) {
  console.error(`\nlint:package: ${failed} of 2 linters reported problems.`);
  process.exit(1);
}
console.log("\nlint:package: publint and attw are clean.");
