#!/usr/bin/env node
// `npm run test:runtimes`: runs the shared smoke test (test/runtimes/smoke.mjs) and
// the ingress case (test/runtimes/ingress_case.mjs: producers in worker threads, and
// offload) in every runtime through its thin runner, one after another (timing
// matters), and prints a table. Exits 1 if any runtime failed, 2 on a usage error.
//
// Usage: node scripts/test_runtimes.mjs [options] [runtime ...]
//   runtime    a name from RUNNERS below, or its family ("bun" = bun and
//              bun:src, "workerd" = every workerd variant); default: all but
//              the opt-in ones, which run only when named exactly
//   --build    rebuild dist/ first; by default it is built when missing or older
//              than src-ts/ or wasm/ (--no-build: never, test whatever is there)
//   --timeout=SECONDS  per runner (default 120)
//   --count=N --seed=S  passed to the smoke (defaults 10000 and 1)
//   --verbose  print each runner's JSON result
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const EXIT_GRACE_MS = 10_000;

const localBin = (path, fallback) => (existsSync(join(root, path)) ? join(root, path) : fallback);
const deno = localBin("node_modules/deno/deno", localBin("node_modules/.bin/deno", "deno"));
const bun = localBin("node_modules/.bin/bun", "bun");
// Deno reads the wasm, and the worker modules of the ingress case (its producers, the
// producer entry and the offload pool's worker): Deno checks read access for the
// modules a Worker loads.
const denoReads = `--allow-read=${[
  "wasm/zigloop.wasm",
  "src-ts/",
  "test/runtimes/ingress_producer.mjs",
]
  .map((path) => join(root, path))
  .join(",")}`;
const workerdRunner = (compatibilityDate) => ({
  command: [process.execPath, "test/runtimes/workerd_runner.mjs"],
  env: { ZIGLOOP_WORKERD_COMPAT_DATE: compatibilityDate },
  dist: true,
});

/**
 * Every runner. `wake`, when set, is the wake-up mechanism the driver must have
 * found (driver.ts: setImmediate, else MessageChannel, else setTimeout(0)): the
 * workerd variants exist to exercise each branch, chosen by compatibility date.
 */
const RUNNERS = [
  { name: "node", command: [process.execPath, "test/runtimes/node_runner.mjs"], dist: true },
  // The newest Node LTS, pinned in scripts/node_lts.mjs and installed from the npm
  // registry into .tools/ on first use (the toolchain itself stays on the system Node).
  {
    name: "node:lts",
    command: [process.execPath, "scripts/node_lts.mjs", "test/runtimes/node_runner.mjs"],
    dist: true,
  },
  {
    name: "deno",
    // The TS sources with the fetch loader; the only permission is reading the wasm and worker modules.
    command: [deno, "run", "--no-lock", denoReads, "test/runtimes/deno_runner.ts"],
  },
  {
    name: "deno:message-channel",
    command: [
      deno,
      "run",
      "--no-lock",
      denoReads,
      "test/runtimes/deno_runner.ts",
      "--message-channel",
    ],
    // Without setImmediate the driver wakes through a MessageChannel; a port with a
    // listener keeps Deno alive, so this also checks the loop releases it when idle.
    wake: "MessageChannel",
  },
  { name: "bun", command: [bun, "test/runtimes/bun_runner.mjs"], dist: true },
  { name: "bun:src", command: [bun, "test/runtimes/bun_runner.mjs", "--src"] },
  // Current behaviour: a global setImmediate and Node-style Timeout objects (with
  // workerd 1.20261117.1, for compatibility dates from some day in 2026-08).
  { name: "workerd", ...workerdRunner("2026-11-01"), wake: "setImmediate" },
  // expose_global_message_channel (default from 2025-08-15), no global setImmediate.
  { name: "workerd:message-channel", ...workerdRunner("2025-09-01"), wake: "MessageChannel" },
  // Neither: the driver's last resort.
  { name: "workerd:timeout0", ...workerdRunner("2024-01-01"), wake: "setTimeout(0)" },
  // Debian's chromium driven by playwright-core (never a downloaded browser): a page
  // served from 127.0.0.1 imports dist/mod.js, which fetches the wasm. No
  // setImmediate in a page, so the driver wakes through a MessageChannel.
  {
    name: "chromium",
    command: [process.execPath, "test/runtimes/chromium_runner.mjs"],
    dist: true,
    wake: "MessageChannel",
  },
];

function parseArgs(argv) {
  const options = {
    build: "auto",
    timeoutMs: 120_000,
    count: 10_000,
    seed: 1,
    verbose: false,
    names: [],
  };
  for (const arg of argv) {
    const [key, value] = arg.split("=", 2);
    if (arg === "--build") options.build = "always";
    else if (arg === "--no-build") options.build = "never";
    else if (arg === "--verbose") options.verbose = true;
    else if (key === "--timeout" && Number(value) > 0) options.timeoutMs = Number(value) * 1000;
    else if (key === "--count" && Number.isInteger(Number(value)) && Number(value) > 0)
      options.count = Number(value);
    else if (key === "--seed" && Number.isInteger(Number(value))) options.seed = Number(value);
    else if (arg === "--help" || arg === "-h") usage(0);
    else if (arg.startsWith("-")) usage(2, `Unknown option ${arg}.`);
    else options.names.push(arg);
  }
  return options;
}

function usage(code, message) {
  if (message) console.error(message);
  const names = RUNNERS.map(
    (r) => r.name + (r.planned ? " (planned)" : r.optIn ? " (opt-in)" : ""),
  ).join(", ");
  console.error(
    "Usage: node scripts/test_runtimes.mjs [--build|--no-build] [--timeout=SECONDS] [--count=N] [--seed=S] [--verbose] " +
      `[runtime ...]\nRuntimes: ${names}`,
  );
  process.exit(code);
}

function select(names) {
  if (names.length === 0) return RUNNERS.filter((runner) => !runner.planned && !runner.optIn);
  const chosen = [];
  for (const name of names) {
    const matches = RUNNERS.filter(
      (runner) => runner.name === name || (runner.name.split(":")[0] === name && !runner.optIn),
    );
    if (matches.length === 0) usage(2, `Unknown runtime "${name}".`);
    for (const runner of matches) {
      if (runner.planned) usage(2, `${runner.name}: ${runner.planned}.`);
      if (!chosen.includes(runner)) chosen.push(runner);
    }
  }
  return chosen;
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when asked, missing, or older than its inputs (src-ts/, the wasm). */
function ensureDist(mode) {
  const missing = ["dist/node.js", "dist/mod.js", "dist/workerd.js"].filter(
    (path) => !existsSync(join(root, path)),
  );
  const stale =
    missing.length === 0 &&
    Math.max(newestMtime(join(root, "src-ts")), newestMtime(join(root, "wasm"))) >
      newestMtime(join(root, "dist"));
  let reason;
  if (mode === "always") reason = "--build";
  else if (missing.length > 0) reason = `missing ${missing.join(", ")}`;
  else if (stale && mode !== "never") reason = "src-ts/ or wasm/ changed since the last build";
  if (reason === undefined) {
    if (stale)
      console.log(
        "Note: dist/ is older than src-ts/ or wasm/ (--no-build): testing the old build.",
      );
    return;
  }
  console.log(`Building dist/ (${reason})...`);
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("npm run build failed; not running the runtimes.");
    process.exit(1);
  }
}

/** Runs one runner in its own process group; resolves with what happened. */
function runOne(runner, { timeoutMs, count, seed }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      runner.command[0],
      [...runner.command.slice(1), String(count), String(seed)],
      {
        cwd: root,
        env: { ...process.env, ...runner.env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own process group: a timeout kills the runner and anything it started
      },
    );
    let stdout = "";
    let stderr = "";
    let outcome = null; // "timeout" | "hang" when this script stopped the runner
    let graceTimer;
    let killTimer;
    const signalGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    // SIGTERM first (the workerd runner then stops workerd and removes its
    // config), SIGKILL if the group is still there 3 s later.
    const killGroup = () => {
      signalGroup("SIGTERM");
      killTimer ??= setTimeout(() => signalGroup("SIGKILL"), 3_000);
    };
    const timer = setTimeout(() => {
      outcome = "timeout";
      killGroup();
    }, timeoutMs);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      // The result is printed: the runtime should now exit by itself.
      if (graceTimer === undefined && parseResult(stdout)) {
        graceTimer = setTimeout(() => {
          outcome = "hang";
          killGroup();
        }, EXIT_GRACE_MS);
      }
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", (error) => {
      stderr += `could not start ${runner.command[0]}: ${error.message}\n`;
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(killTimer);
      resolve({
        code,
        signal,
        outcome,
        stdout,
        stderr,
        totalMs: Date.now() - started,
        result: parseResult(stdout),
      });
    });
  });
}

function parseResult(stdout) {
  const line = stdout.split("\n").findLast((l) => l.trim().startsWith("{"));
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Judges one run: [status, problems]. */
function judge(runner, run, options) {
  const problems = [];
  const result = run.result;
  if (run.outcome === "timeout")
    problems.push(`no exit within ${options.timeoutMs / 1000} s (killed)`);
  if (run.outcome === "hang") {
    problems.push(
      `printed its result but did not exit within ${EXIT_GRACE_MS / 1000} s: a loop keeps the runtime alive ` +
        "(the runner leaves one idle loop unclosed, as a user who forgets close() would; the others are closed)",
    );
  }
  if (!result) problems.push(`printed no JSON result (exit ${run.code ?? run.signal})`);
  else {
    problems.push(...(result.errors ?? []));
    if (!result.ok && (result.errors ?? []).length === 0) problems.push("ok is false");
    if (runner.wake && result.env && result.env.wake !== runner.wake) {
      problems.push(
        `expected the driver to wake with ${runner.wake}, the runtime offers ${result.env.wake}: ` +
          "this variant no longer tests its branch",
      );
    }
    if (result.ok && run.code !== 0 && run.outcome === null) {
      problems.push(`exited with ${run.code ?? run.signal} despite ok`);
    }
  }
  const status =
    run.outcome === "timeout"
      ? "TIMEOUT"
      : run.outcome === "hang"
        ? "HANG"
        : problems.length === 0
          ? "pass"
          : "FAIL";
  return [status, problems];
}

/** The ingress case (test/runtimes/ingress_case.mjs): messages from producer threads, or why there are none. */
function ingressCell(ingress) {
  if (ingress === undefined) return "-";
  if (ingress.unsupported) return ingress.ok ? "no threads (throws)" : "FAIL";
  return ingress.ok ? `${ingress.delivered} msgs, offload ok` : "FAIL";
}

function table(rows) {
  const header = [
    "runtime",
    "version",
    "result",
    "semantics",
    "fired",
    "cancelled",
    "ms",
    "wake",
    "host timers",
    "late p50/max ms",
    "ingress",
    "total ms",
  ];
  const cells = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...cells.map((row) => String(row[column]).length)),
  );
  const line = (row) => row.map((cell, column) => String(cell).padEnd(widths[column])).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const runners = select(options.names);
  if (runners.some((runner) => runner.dist)) ensureDist(options.build);

  const rows = [];
  const failures = [];
  for (const runner of runners) {
    process.stdout.write(`${runner.name} ... `);
    const run = await runOne(runner, options);
    const [status, problems] = judge(runner, run, options);
    console.log(`${status} (${run.totalMs} ms)`);
    if (options.verbose && run.result) console.log(JSON.stringify(run.result));
    const r = run.result ?? {};
    const real = r.real ?? {};
    rows.push([
      runner.name,
      r.version ?? "?",
      status,
      r.subset ? `${r.subset.passed}/${r.subset.total}` : "-",
      r.fired ?? "-",
      r.cancelled ?? "-",
      r.elapsedMs ?? "-",
      r.env?.wake ?? "-",
      real.host?.setTimeout ?? "-",
      real.p50LateMs === undefined ? "-" : `${real.p50LateMs}/${real.maxLateMs}`,
      ingressCell(r.ingress),
      run.totalMs,
    ]);
    if (status !== "pass") failures.push({ runner, problems, run });
  }

  console.log(`\n${table(rows)}\n`);
  for (const { runner, problems, run } of failures) {
    console.log(`${runner.name}: ${runner.command.join(" ")}`);
    for (const problem of problems) console.log(`  - ${problem}`);
    if (run.stderr.trim()) console.log(`  stderr:\n${run.stderr.trim().replace(/^/gm, "    ")}`);
  }
  if (failures.length > 0) {
    console.log(`${failures.length} of ${runners.length} runtimes failed.`);
    process.exitCode = 1;
  } else {
    console.log(
      `All ${runners.length} runtimes passed (count ${options.count}, seed ${options.seed}).`,
    );
  }
}

await main();
