#!/usr/bin/env node
// Runs a script with the newest Node.js LTS, pinned here, so the runtime smoke also
// covers the Node most users run (the project's own toolchain stays on the system
// Node): `node scripts/node_lts.mjs <script> [args...]`.
//
// Node's official binaries are on the npm registry as node-<platform>-<arch> (what
// the `node` package's preinstall script fetches). On first use this installs the
// pinned one into .tools/node-<version>/ with plain `npm install` (no install
// scripts), checks that it is the version pinned and an LTS release
// (`process.release.lts`), then runs it. Not a devDependency on purpose: the `node`
// package's bin would shadow the system node in every npm script, and it only works
// through an install script.
//
// Usage: node scripts/node_lts.mjs [--version | <script> [args...]]
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The newest LTS line on the npm registry ("Krypton"); bump deliberately.
export const NODE_LTS_VERSION = "24.21.0";

const root = fileURLToPath(new URL("..", import.meta.url));
const platform = process.platform === "win32" ? "win" : process.platform;
const pkg = `node-${platform}-${process.arch}`;
const target = join(root, ".tools", `node-${NODE_LTS_VERSION}`);
const binary = join(
  target,
  "node_modules",
  pkg,
  "bin",
  process.platform === "win32" ? "node.exe" : "node",
);

/** Installs the pinned Node into .tools/ unless it is there; returns its path. */
export function ensureNodeLts() {
  if (!existsSync(binary)) {
    console.error(
      `Installing Node ${NODE_LTS_VERSION} from the npm registry (${pkg}) into .tools/ ...`,
    );
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(
      npm,
      [
        "install",
        "--prefix",
        target,
        "--no-save",
        "--no-package-lock",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        `${pkg}@${NODE_LTS_VERSION}`,
      ],
      { cwd: root, stdio: ["ignore", 2, 2] }, // keep stdout for the runner's JSON line
    );
  }
  const [version, lts] = execFileSync(
    binary,
    ["-p", "process.version + ' ' + process.release.lts"],
    {
      encoding: "utf8",
    },
  )
    .trim()
    .split(" ");
  if (version !== `v${NODE_LTS_VERSION}` || lts === "undefined") {
    throw new Error(
      `${binary} is ${version} (lts: ${lts}), expected the LTS release v${NODE_LTS_VERSION}`,
    );
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let node;
  try {
    node = ensureNodeLts();
  } catch (error) {
    console.error(`scripts/node_lts.mjs: ${error.message}`);
    process.exit(2);
  }
  const child = spawn(node, args.length > 0 ? args : ["--version"], {
    cwd: process.cwd(),
    stdio: "inherit",
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.once("exit", (code, signal) => {
    process.exitCode = code ?? (signal === "SIGINT" ? 130 : 143);
  });
}
