// Chromium runner for the cross-runtime smoke (run it with Node). Serves the
// repository's dist/, wasm/ and test/runtimes/ from a static server on
// 127.0.0.1:<free port>, opens test/runtimes/chromium/index.html in the system's
// Chromium (Debian's `chromium` package: `apt-get install -y chromium`) driven by
// playwright-core, waits for the page's smoke result, prints it as one JSON line,
// and always closes the browser, the server and the fresh profile directory (on
// success, failure, timeout and SIGINT/SIGTERM).
//
// No browser is ever downloaded: playwright-core only drives the executable found
// here (ZIGLOOP_CHROMIUM, else `chromium` or `chromium-browser` on PATH).
//
// Usage: node test/runtimes/chromium_runner.mjs [count] [seed]
// Env: ZIGLOOP_CHROMIUM (path of the browser), ZIGLOOP_CHROMIUM_TIMEOUT_MS
//   (default 100000).
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startStaticServer } from "./static_server.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const PAGE = "/test/runtimes/chromium/index.html";
const LAUNCH_TIMEOUT_MS = 30_000;
// --headless etc. as given; playwright adds its own automation switches, and the
// profile is a fresh --user-data-dir (launchPersistentContext), removed afterwards.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const [count = 10_000, seed = 1] = process.argv.slice(2).map(Number);
const timeoutMs = Number(process.env.ZIGLOOP_CHROMIUM_TIMEOUT_MS ?? 100_000);

function failure(reason, version = "unknown") {
  return {
    entry: "dist/mod.js",
    ok: false,
    fired: 0,
    cancelled: 0,
    elapsedMs: 0,
    runtime: "chromium",
    version,
    errors: [reason],
  };
}

/** The browser to drive: ZIGLOOP_CHROMIUM, else the first of these names on PATH. */
function findChromium() {
  if (process.env.ZIGLOOP_CHROMIUM) return process.env.ZIGLOOP_CHROMIUM;
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Resolves `promise`, or rejects after `ms` with `what` timed out. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    return {
      result: failure(
        "Chromium not found: install Debian's chromium (apt-get install -y chromium) or set ZIGLOOP_CHROMIUM",
      ),
      log: [],
    };
  }
  const timings = {};
  const log = [];
  const profile = mkdtempSync(join(tmpdir(), "zigloop-chromium-"));
  let server;
  let context;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await context?.close().catch((error) => log.push(`closing the browser: ${error.message}`));
    await server?.close();
    rmSync(profile, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    void stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // Cross-origin isolated (COOP/COEP), so the page has SharedArrayBuffer for the ingress case.
    server = await startStaticServer({
      root,
      allow: ["/dist/", "/wasm/", "/test/runtimes/"],
      isolated: true,
    });
    const started = Date.now();
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: FLAGS,
      timeout: LAUNCH_TIMEOUT_MS,
      // This runner cleans up on signals itself (browser, server, profile).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    timings.launchMs = Date.now() - started;
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => log.push(`page error: ${error.stack ?? error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning")
        log.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on("requestfailed", (request) =>
      log.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
    );

    const asked = Date.now();
    const url = `${server.url}${PAGE}?count=${count}&seed=${seed}`;
    const response = await page.goto(url, { waitUntil: "load", timeout: LAUNCH_TIMEOUT_MS });
    if (!response?.ok()) throw new Error(`${url} answered HTTP ${response?.status()}`);
    const result = await within(
      (async () => {
        await page.waitForFunction(() => globalThis.zigloopSmoke !== undefined, null, {
          timeout: timeoutMs,
        });
        return page.evaluate(() => globalThis.zigloopSmoke);
      })(),
      timeoutMs,
      "the page's smoke",
    );
    timings.smokeMs = Date.now() - asked;
    // The user agent is frozen at "156.0.0.0"; the browser process knows its build.
    const cdp = await context.newCDPSession(page);
    const { product } = await cdp.send("Browser.getVersion");
    result.version = /\/([\d.]+)/.exec(product)?.[1] ?? result.version;
    result.userAgent = await page.evaluate(() => navigator.userAgent);
    result.executable = executablePath;
    result.flags = FLAGS;
    return { result, log, timings, requests: server.requests };
  } catch (error) {
    return {
      result: failure(String(error?.message ?? error)),
      log,
      timings,
      requests: server?.requests ?? [],
    };
  } finally {
    const stopping = Date.now();
    await stop();
    timings.stopMs = Date.now() - stopping;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const {
  result,
  log,
  timings = {},
  requests = [],
} = await main().catch((error) => ({
  result: failure(String(error?.stack ?? error)),
  log: [],
}));
result.chromium = timings;
// The page's errors and the server's log are kept for diagnosis.
if (!result.ok) {
  if (log.length > 0) process.stderr.write(`browser log:\n${log.join("\n")}\n`);
  if (requests.length > 0) process.stderr.write(`requests:\n${requests.join("\n")}\n`);
} else if (log.length > 0) {
  result.browserLog = log.slice(0, 20);
}
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
