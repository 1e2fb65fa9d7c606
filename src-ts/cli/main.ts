/// <reference types="node" />
/**
 * `zigloop run <file.js> [--profile html|node] [--virtual-time] [--metrics]`
 *
 * Runs a classic script in a `node:vm` context whose timers, immediates and
 * microtasks come from a zigloop loop, and exits when the loop is idle.
 *
 * Microtask ordering for guest code: the context is created with
 * `microtaskMode: "afterEvaluate"`, so native promise jobs (every `await`) queue
 * in the context's own queue instead of Node's. The loop drains that queue at
 * every checkpoint, right after its own microtasks, so a guest's `await`
 * continuations run after the task that queued them and before the next task,
 * exactly as in a browser. Within one checkpoint, loop microtasks
 * (`queueMicrotask`) run before native jobs queued in the same round; see
 * docs/CLI.md for the measured orderings of each embedding mode.
 *
 * Exit code: 0, or 1 if the script threw, a callback threw, or a rejection went
 * unhandled; 2 for usage errors.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import vm from "node:vm";
import { formatMetrics as formatLoopMetrics } from "../loop/metrics.ts";
import { createEventLoop, type EventLoop } from "../node.ts";

const USAGE = `Usage: zigloop run <file.js> [options]

Runs a script with timers, immediates and microtasks from a zigloop event loop,
and exits when the loop is idle.

Options:
  --profile html|node   timer semantics (default: html)
  --virtual-time        use a manual clock: timers fire as soon as nothing else
                        is runnable, so a script full of long timers ends instantly
  --metrics             print the loop's metrics when the script ends
  -h, --help            show this help
  -v, --version         show the version`;

const CLI_OPTIONS = {
  profile: { type: "string", default: "html" },
  "virtual-time": { type: "boolean", default: false },
  metrics: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} as const;

export interface CliResult {
  exitCode: number;
}

/** Runs the CLI with `argv` (without node and the script path). Never calls process.exit. */
export async function main(
  argv: string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<CliResult> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof CLI_OPTIONS }>
  >;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: CLI_OPTIONS });
  } catch (error) {
    io.err(`zigloop: ${(error as Error).message}\n\n${USAGE}\n`);
    return { exitCode: 2 };
  }
  const { values, positionals } = parsed;
  if (values.version) {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    io.out(`zigloop ${pkg.version}\n`);
    return { exitCode: 0 };
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return { exitCode: 0 };
  }
  const [command, file, ...rest] = positionals;
  if (command !== "run" || file === undefined || rest.length > 0) {
    io.err(
      `zigloop: expected \`run <file.js>\`, got ${positionals.length ? positionals.join(" ") : "nothing"}\n\n${USAGE}\n`,
    );
    return { exitCode: 2 };
  }
  const profile = values.profile;
  if (profile !== "html" && profile !== "node") {
    io.err(`zigloop: --profile must be "html" or "node", got "${profile}"\n`);
    return { exitCode: 2 };
  }
  const path = resolve(file);
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    io.err(`zigloop: cannot read ${path}: ${(error as Error).message}\n`);
    return { exitCode: 2 };
  }
  return runScript(
    source,
    path,
    { profile, virtualTime: values["virtual-time"], metrics: values.metrics },
    io,
  );
}

interface RunOptions {
  profile: "html" | "node";
  virtualTime: boolean;
  metrics: boolean;
}

async function runScript(
  source: string,
  filename: string,
  options: RunOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<CliResult> {
  let failed = false;
  const report = (label: string, error: unknown) => {
    failed = true;
    const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    io.err(`${label}: ${text}\n`);
  };

  const sandbox: Record<string, unknown> = {};
  const context = vm.createContext(sandbox, { name: filename, microtaskMode: "afterEvaluate" });
  const drain = new vm.Script("", { filename: "zigloop:checkpoint" });
  const loop: EventLoop = await createEventLoop({
    profile: options.profile,
    clock: options.virtualTime ? "manual" : "real",
    metrics: options.metrics,
    drainHostMicrotasks: () => drain.runInContext(context),
    onError: (error) => report("Uncaught", error),
  });
  loop.installGlobals(sandbox);
  Object.assign(sandbox, guestGlobals(loop));

  // Native promises of the guest that reject unhandled reach Node's process-level
  // tracking (one per isolate); report them instead of crashing the host.
  const onRejection = (reason: unknown) => report("Uncaught (in promise)", reason);
  process.on("unhandledRejection", onRejection);
  try {
    try {
      new vm.Script(source, { filename }).runInContext(context);
    } catch (error) {
      report("Uncaught", error);
    }
    if (!failed || loop.state !== "closed") await loop.run();
    // Let Node deliver unhandledRejection for the guest's last native promises.
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (options.metrics) io.err(`\n${formatLoopMetrics(loop.metrics())}`);
  loop.close();
  return { exitCode: failed || loop.exitCode !== 0 ? 1 : 0 };
}

/** Web-standard globals the guest gets besides the loop's (its realm has the JS intrinsics). */
function guestGlobals(loop: EventLoop): Record<string, unknown> {
  return {
    console,
    // Under --virtual-time, performance.now() follows the virtual clock (Date does not).
    performance: { now: () => loop.now(), timeOrigin: performance.timeOrigin },
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    AbortController,
    AbortSignal,
    Event,
    EventTarget,
    structuredClone,
  };
}
