// workerd runner for the cross-runtime smoke (run it with Node). It generates a
// workerd config whose modules are named by their path in the repository, so the
// relative imports resolve as they do on disk: test/runtimes/workerd/worker.mjs
// -> ../smoke.mjs, -> ../../../dist/workerd.js -> ../wasm/zigloop.wasm, the last
// one a `wasm` module (workerd compiles it at load; it refuses to compile Wasm
// from bytes at run time). It starts workerd on 127.0.0.1:<free port>, waits for
// /ready, fetches /smoke, prints the result as one JSON line, and always stops
// workerd (on success, failure, timeout and SIGINT/SIGTERM).
//
// Usage: node test/runtimes/workerd_runner.mjs [count] [seed]
// Env: ZIGLOOP_WORKERD_TIMEOUT_MS (default 100000), ZIGLOOP_WORKERD_FLAGS
//   (comma-separated compatibility flags, e.g. "nodejs_compat"),
//   ZIGLOOP_WORKERD_KEEP=1 keeps the generated config directory.
import { startWorkerd } from "./workerd_server.mjs";

const MAIN_MODULE = "test/runtimes/workerd/worker.mjs";
// Pinned so results do not drift with workerd upgrades; must not be newer than
// the installed workerd's own date (see `workerd --version`).
const COMPATIBILITY_DATE = process.env.ZIGLOOP_WORKERD_COMPAT_DATE ?? "2026-11-01";

const [count = 10_000, seed = 1] = process.argv.slice(2).map(Number);
const timeoutMs = Number(process.env.ZIGLOOP_WORKERD_TIMEOUT_MS ?? 100_000);
const flags = (process.env.ZIGLOOP_WORKERD_FLAGS ?? "").split(",").filter(Boolean);

function failure(version, reason) {
  return {
    entry: "dist/workerd.js",
    ok: false,
    fired: 0,
    cancelled: 0,
    elapsedMs: 0,
    runtime: "workerd",
    version,
    errors: [reason],
  };
}

async function main() {
  const timings = {};
  let server;
  try {
    server = await startWorkerd({
      main: MAIN_MODULE,
      compatibilityDate: COMPATIBILITY_DATE,
      flags,
    });
  } catch (error) {
    return { result: failure("unknown", String(error?.message ?? error)), log: "", timings };
  }
  for (const required of ["dist/workerd.js", "wasm/zigloop.wasm"]) {
    if (!server.modules.includes(required)) {
      await server.stop();
      return {
        result: failure(server.version, `${required} is not reachable from ${MAIN_MODULE}`),
        log: "",
        timings,
      };
    }
  }
  timings.readyMs = server.readyMs;
  const onSignal = (signal) => {
    void server.stop();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const asked = Date.now();
    const response = await fetch(`${server.url}/smoke?count=${count}&seed=${seed}`, {
      signal: timeout,
    });
    const text = await response.text();
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      throw new Error(
        `workerd answered HTTP ${response.status} with non-JSON: ${text.slice(0, 500)}`,
      );
    }
    timings.smokeMs = Date.now() - asked;
    result.version = server.version;
    result.compatibilityDate = COMPATIBILITY_DATE;
    result.compatibilityFlags = flags;
    return { result, log: server.log(), timings };
  } catch (error) {
    const reason = timeout.aborted
      ? `timed out after ${timeoutMs} ms`
      : String(error?.message ?? error);
    return { result: failure(server.version, reason), log: server.log(), timings };
  } finally {
    const stopping = Date.now();
    timings.exit = await server.stop();
    timings.stopMs = Date.now() - stopping;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const { result, log, timings } = await main().catch((error) => ({
  result: failure("unknown", String(error?.stack ?? error)),
  log: "",
  timings: {},
}));
result.workerd = timings;
// workerd's own output (uncaught errors, warnings) is kept for diagnosis.
if (!result.ok && log.trim()) process.stderr.write(`workerd output:\n${log}\n`);
else if (log.trim()) result.workerdLog = log.trim().split("\n").slice(0, 20);
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
