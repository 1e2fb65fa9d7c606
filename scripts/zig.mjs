#!/usr/bin/env node
// Runs the pinned Zig: `node scripts/zig.mjs <zig args...>`.
//
// The version is pinned in one place, build.zig.zon (`minimum_zig_version`). This
// script installs exactly that version from PyPI (the `ziglang` wheel) into
// .tools/zig-<version>/ on first use, then runs `python3 -m ziglang` from there.
// Used by `npm run build:wasm`, `npm run test:zig` and .ci/run.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const zon = readFileSync(new URL("../build.zig.zon", import.meta.url), "utf8");
const match = /\.minimum_zig_version\s*=\s*"([^"]+)"/.exec(zon);
if (!match) {
  console.error(
    "scripts/zig.mjs: build.zig.zon has no minimum_zig_version; it is where the Zig version is pinned.",
  );
  process.exit(2);
}
const version = match[1];
const target = `${root}.tools/zig-${version}`;
const python = process.env.PYTHON ?? "python3";

if (!existsSync(`${target}/ziglang/__main__.py`)) {
  console.error(`Installing Zig ${version} from PyPI (ziglang==${version}) into .tools/ ...`);
  execFileSync(
    python,
    [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      "--target",
      target,
      `ziglang==${version}`,
    ],
    {
      stdio: "inherit",
    },
  );
}

const args = process.argv.slice(2);
const result = spawnSync(python, ["-m", "ziglang", ...args], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PYTHONPATH: target },
});
if (result.error) {
  console.error(`scripts/zig.mjs: could not run ${python}: ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
