// Chromium runner, Node side: one Debian `chromium` driven by playwright-core (never a
// downloaded browser), a static server on 127.0.0.1 for test/differential/, and a
// fresh browser context (fresh storage, fresh page) per fixture.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium } from "playwright-core";
import { startStaticServer } from "../../runtimes/static_server.mjs";
import { ROOT } from "./runners.mjs";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Two pages may run at once: neither may be treated as a background page whose
  // timers Chromium throttles.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];
const LAUNCH_TIMEOUT_MS = 30_000;
/** A page that has not settled after this long is abandoned and its trace ends in "<timeout>". */
export const PAGE_TIMEOUT_MS = 20_000;
/** How long the page must be quiet (no live timer, no new line) before its trace is complete. */
export const QUIET_MS = 200;

/** The browser to drive: ZIGLOOP_CHROMIUM, else `chromium` or `chromium-browser` on PATH. */
export function findChromium() {
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

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts the server and the browser.
 *
 * @returns {Promise<{ version: string, run(name: string): Promise<{ trace: string[], stderr: string }>, close(): Promise<void> }>}
 * @throws {Error} when no Chromium is installed.
 */
export async function startChromium() {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    throw new Error("Chromium not found: apt-get install -y chromium, or set ZIGLOOP_CHROMIUM");
  }
  const server = await startStaticServer({ root: ROOT, allow: ["/test/differential/"] });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: FLAGS,
      timeout: LAUNCH_TIMEOUT_MS,
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    version: browser.version(),
    async run(name) {
      const context = await browser.newContext();
      const problems = [];
      try {
        const page = await context.newPage();
        page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
        const url = `${server.url}/test/differential/harness/chromium_page.html?fixture=${encodeURIComponent(name)}&quiet=${QUIET_MS}`;
        const response = await page.goto(url, { waitUntil: "load", timeout: PAGE_TIMEOUT_MS });
        if (!response?.ok()) throw new Error(`${url} answered HTTP ${response?.status()}`);
        const trace = await within(
          page.evaluate(() => globalThis.__diffDone),
          PAGE_TIMEOUT_MS,
          `fixture ${name}`,
        );
        return { trace, stderr: problems.join("\n") };
      } catch (error) {
        const timedOut = /timed out|Timeout/.test(String(error?.message));
        return {
          trace: [timedOut ? "<timeout>" : `<error ${error?.message}>`],
          stderr: problems.join("\n"),
        };
      } finally {
        await context.close().catch(() => {});
      }
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}
