// Running one fixture in one place (a native runtime or a zigloop mode) and turning
// what it printed into a trace: the list of lines, with errors in the normalized
// form "uncaught <message>" / "unhandled <reason>".
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const HARNESS = fileURLToPath(new URL("../harness/", import.meta.url));
/** A fixture that has not finished after this long is killed and its trace ends in "<timeout>". */
export const PROCESS_TIMEOUT_MS = 20_000;

/** The zigloop modes, each run with the profile of the native runtime it is compared with. */
/**
 * zigloop's modes: in-process on a real clock with the default `nativeJobs: "after-turn"`
 * (`inproc-turn`) and with `"after-callback"` (`inproc-real`), on a manual clock driven
 * with run() (`inproc-manual`), and as a vm guest of the CLI (`cli-real`, `cli-virtual`).
 */
export const MODES = ["inproc-turn", "inproc-real", "inproc-manual", "cli-real", "cli-virtual"];

/**
 * Runs a command, killing it (and reporting `timedOut`) after `timeoutMs`.
 * `merged`: stdout and stderr go to one file, so their lines keep their order (Node
 * writes both synchronously to files and pipes on Linux).
 *
 * @returns {Promise<{ stdout: string, stderr: string, code: number | null, signal: string | null, timedOut: boolean }>}
 */
export function runProcess(
  command,
  args,
  { timeoutMs = PROCESS_TIMEOUT_MS, merged = false, cwd = ROOT } = {},
) {
  let dir;
  let fd;
  if (merged) {
    dir = mkdtempSync(join(tmpdir(), "zigloop-diff-"));
    fd = openSync(join(dir, "out"), "w");
  }
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      stdio: merged ? ["ignore", fd, fd] : ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const finish = (code, signal, error) => {
      clearTimeout(timer);
      if (merged) {
        closeSync(fd);
        stdout = readFileSync(join(dir, "out"), "utf8");
        rmSync(dir, { recursive: true, force: true });
      }
      if (error) stderr += `\nspawn failed: ${error.message}`;
      resolve({ stdout, stderr, code, signal, timedOut });
    };
    child.once("error", (error) => finish(null, null, error));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

function lines(text) {
  const out = text.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

/** What every process runner appends when the process did not end normally. */
function ending(result, okCodes) {
  if (result.timedOut) return ["<timeout>"];
  if (result.signal !== null || !okCodes.includes(result.code))
    return [`<exit ${result.code ?? result.signal}>`];
  return [];
}

/**
 * The CLI prints `Uncaught: <error.stack>` and `Uncaught (in promise): <stack>` on
 * stderr (merged into stdout here): keep the message of the stack's "Name: message"
 * line and drop its "    at ..." lines. An error thrown synchronously by the script
 * can carry Node's source decoration first ("file:...:613", the source line, a caret,
 * a blank line): skip it up to the "Name: message" line.
 */
export function normalizeCliOutput(text) {
  const out = [];
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const match = /^Uncaught( \(in promise\))?: (.*)$/.exec(all[i]);
    if (match === null) {
      out.push(all[i]);
      continue;
    }
    let payload = match[2];
    if (/^(file:|node:|\/).*:\d+$/.test(payload)) {
      let j = i + 1;
      while (
        j < all.length &&
        !/^[\w$]*(Error|Exception)\b[^:]*: /.test(all[j]) &&
        !/^\s+at /.test(all[j])
      )
        j++;
      if (j < all.length && !/^\s+at /.test(all[j])) {
        payload = all[j];
        i = j;
      }
    }
    out.push(
      `${match[1] ? "unhandled" : "uncaught"} ${payload.replace(/^[\w$]*(Error|Exception)\b( \[[^\]]*\])?: /, "")}`,
    );
    while (i + 1 < all.length && /^\s+at /.test(all[i + 1])) i++;
  }
  return out;
}

/**
 * @param {string} fixturePath
 * @param {string} nodeBinary the Node to run (the system Node 20, or the pinned LTS)
 */
export async function runNativeNode(fixturePath, nodeBinary) {
  const result = await runProcess(nodeBinary, [
    "--no-warnings",
    "--require",
    join(HARNESS, "node_preload.js"),
    fixturePath,
  ]);
  return { trace: [...lines(result.stdout), ...ending(result, [0])], stderr: result.stderr };
}

/**
 * @param {string} fixturePath
 * @param {"node" | "html"} profile
 * @param {string} mode one of MODES
 */
export async function runZigloop(fixturePath, profile, mode) {
  if (mode.startsWith("inproc-")) {
    const clock = mode === "inproc-manual" ? "manual" : "real";
    const nativeJobs = mode === "inproc-turn" ? "after-turn" : "after-callback";
    const result = await runProcess(process.execPath, [
      join(HARNESS, "zigloop_inproc.mjs"),
      fixturePath,
      profile,
      clock,
      nativeJobs,
    ]);
    return { trace: [...lines(result.stdout), ...ending(result, [0])], stderr: result.stderr };
  }
  if (mode === "cli-real" || mode === "cli-virtual") {
    // `--uncaught report`: the native Node runner has an uncaughtException listener, so a
    // throwing callback does not end the process there either.
    const args = [
      "--no-warnings",
      join(ROOT, "bin/zigloop.mjs"),
      "run",
      "--profile",
      profile,
      "--uncaught",
      "report",
    ];
    if (mode === "cli-virtual") args.push("--virtual-time");
    args.push(fixturePath);
    // Exit code 1 is the CLI reporting an uncaught error, which the trace shows.
    const result = await runProcess(process.execPath, args, { merged: true });
    return { trace: [...normalizeCliOutput(result.stdout), ...ending(result, [0, 1])], stderr: "" };
  }
  throw new Error(`unknown zigloop mode ${mode}`);
}
