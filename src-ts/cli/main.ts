/// <reference types="node" />
/**
 * `zigloop run <file.js> [--profile html|node] [--virtual-time] [--max-steps N] [--metrics]`
 *
 * Runs a classic script in a `node:vm` context (a guest realm) whose timers, immediates
 * and microtasks come from a zigloop loop, and exits when nothing ref'd is left.
 *
 * - The guest's `setTimeout` & co. are made in its own realm (loop/guest.ts), and so are
 *   its `console` and `performance` (cli/guest_host.ts): no host object reaches it.
 * - One job queue: the context is created with `microtaskMode: "afterEvaluate"`; the
 *   guest's `await`s, `.then`s and `queueMicrotask`s share the realm's queue, which the
 *   loop drains at every checkpoint, so a guest sees the order a real runtime gives.
 * - Uncaught errors print with their stack (file:line of the script). node profile: the
 *   first one ends the run with exit code 1, as Node ends the process; html profile: it
 *   is reported and the loop goes on (repeats of the same error are counted, not
 *   reprinted), and the exit code is 1.
 * - `--virtual-time`: a manual clock driven to completion; `--max-steps` (default
 *   1,000,000 moves of the clock) stops a script that never ends, with a message that
 *   names the flag.
 *
 * - Budgets (`--max-timers`, `--max-tasks`, `--max-microtasks`): reaching one throws a
 *   CapacityError in the guest and stops it (the loop's onCapacity hook); `--timeout` runs
 *   the guest in a worker that the main thread stops when one task never ends
 *   (cli/watchdog.ts).
 *
 * Exit code: 0; 1 if the script or a callback threw or a rejection went unhandled, or the
 * step limit was hit; 2 for usage errors; 3 when a budget stopped the guest; 124 when
 * `--timeout` did.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { promiseHooks } from "node:v8";
import vm from "node:vm";
import { formatMetrics as formatLoopMetrics, type LoopMetrics } from "../loop/metrics.ts";
import { errorText } from "../loop/report.ts";
import { type CapacityError, createEventLoop, type EventLoop, LoopLimitError } from "../node.ts";
import { ErrorPrinter } from "./errors_out.ts";
import { installHostGlobals } from "./guest_host.ts";
import { runWatched } from "./watchdog.ts";

const DEFAULT_MAX_STEPS = 1_000_000;
/** Per-guest budgets: generous for real scripts, far below what exhausts the host. */
const BUDGETS = { timers: 100_000, tasks: 100_000, microtasks: 1_000_000 } as const;
/** Exit code of a guest stopped because it reached a budget. */
const BUDGET_EXIT_CODE = 3;

const USAGE = `Usage: zigloop run <file.js> [options]

Runs a script with timers, immediates and microtasks from a zigloop event loop,
and exits when the loop is idle.

Options:
  --profile html|node   timer semantics (default: html)
  --virtual-time        use a manual clock: timers fire as soon as nothing else
                        is runnable, so a script full of long timers ends instantly
  --max-steps N         with --virtual-time: most moves of the clock before the
                        run stops with an error (default ${DEFAULT_MAX_STEPS})
  --uncaught exit|report
                        after an uncaught error: end the run (the node profile's
                        default, as Node does) or report it and go on (html's,
                        as a browser does, and Node with an uncaughtException
                        listener)
  --timeout MS          stop the guest when one task (the script, a callback, its
                        microtasks) keeps the event loop for MS ms; it then runs
                        in a worker thread (default: no limit)
  --max-timers N        most live timers, intervals and immediates (default ${BUDGETS.timers})
  --max-tasks N         most queued tasks (default ${BUDGETS.tasks})
  --max-microtasks N    most queueMicrotask calls in one checkpoint (default ${BUDGETS.microtasks})
                        (a budget reached stops the guest: exit code ${BUDGET_EXIT_CODE})
  --metrics             print the loop's metrics when the script ends
  -h, --help            show this help
  -v, --version         show the version`;

const CLI_OPTIONS = {
  profile: { type: "string", default: "html" },
  "virtual-time": { type: "boolean", default: false },
  "max-steps": { type: "string" },
  uncaught: { type: "string" },
  timeout: { type: "string" },
  "max-timers": { type: "string" },
  "max-tasks": { type: "string" },
  "max-microtasks": { type: "string" },
  metrics: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} as const;

export interface CliResult {
  exitCode: number;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface RunOptions {
  profile: "html" | "node";
  /** After an uncaught error: end the run, or report it and go on. */
  uncaught: "exit" | "report";
  virtualTime: boolean;
  maxSteps: number;
  /** Stop the guest when one host task runs this long (ms); 0: no limit. */
  timeout: number;
  budgets: { timers: number; tasks: number; microtasks: number };
  metrics: boolean;
}

/** Runs the CLI with `argv` (without node and the script path). Never calls process.exit. */
export async function main(
  argv: string[],
  io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<CliResult> {
  const parsed = parse(argv, io);
  if ("exitCode" in parsed) return parsed;
  const { path, options } = parsed;
  if (options.timeout > 0) {
    // The same command without --timeout, in a worker the main thread can stop.
    const inner = argv.filter((arg, i) => arg !== "--timeout" && argv[i - 1] !== "--timeout");
    return {
      exitCode: await runWatched(
        inner.filter((a) => !a.startsWith("--timeout=")),
        options.timeout,
        io,
      ),
    };
  }
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    io.err(`zigloop: cannot read ${path}: ${(error as Error).message}\n`);
    return { exitCode: 2 };
  }
  return runScript(source, path, options, io);
}

/** The command line: what to run and how, or an exit code (usage, help, version). */
function parse(argv: string[], io: Io): CliResult | { path: string; options: RunOptions } {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof CLI_OPTIONS }>
  >;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: CLI_OPTIONS });
  } catch (error) {
    return usageError(io, (error as Error).message);
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
    const got = positionals.length ? positionals.join(" ") : "nothing";
    return usageError(io, `expected \`run <file.js>\`, got ${got}`);
  }
  const profile: RunOptions["profile"] | undefined =
    values.profile === "html" ? "html" : values.profile === "node" ? "node" : undefined;
  if (profile === undefined) {
    return usageError(io, `--profile must be "html" or "node", got "${values.profile}"`);
  }
  const counts: Record<string, number> = {};
  const defaults = { "max-steps": DEFAULT_MAX_STEPS, timeout: 0, ...prefixed(BUDGETS) };
  for (const [flag, fallback] of Object.entries(defaults)) {
    const text = values[flag as keyof typeof defaults];
    const value = text === undefined ? fallback : Number(text);
    const min = flag === "timeout" ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      return usageError(io, `--${flag} must be a whole number >= ${min}, got "${text}"`);
    }
    counts[flag] = value;
  }
  const uncaught = values.uncaught ?? (profile === "node" ? "exit" : "report");
  if (uncaught !== "exit" && uncaught !== "report") {
    return usageError(io, `--uncaught must be "exit" or "report", got "${uncaught}"`);
  }
  const options: RunOptions = {
    profile,
    uncaught,
    virtualTime: values["virtual-time"],
    maxSteps: counts["max-steps"]!,
    timeout: counts.timeout!,
    budgets: {
      timers: counts["max-timers"]!,
      tasks: counts["max-tasks"]!,
      microtasks: counts["max-microtasks"]!,
    },
    metrics: values.metrics,
  };
  return { path: resolve(file), options };
}

/** `{ timers: 1 }` → `{ "max-timers": 1 }`: the budgets by flag name. */
function prefixed<T extends Record<string, number>>(
  budgets: T,
): Record<`max-${string & keyof T}`, number> {
  return Object.fromEntries(Object.entries(budgets).map(([k, v]) => [`max-${k}`, v])) as never;
}

function usageError(io: Io, message: string): CliResult {
  io.err(`zigloop: ${message}\n\n${USAGE}\n`);
  return { exitCode: 2 };
}

async function runScript(
  source: string,
  filename: string,
  options: RunOptions,
  io: Io,
): Promise<CliResult> {
  // The text of what the guest leaves uncaught is read by the guest's realm (guest_host.ts).
  let textOf: (error: unknown) => string = errorText;
  const printer = new ErrorPrinter(io.err, (error) => textOf(error));
  let failed = false;
  let loop: EventLoop | undefined;
  let metrics: LoopMetrics | undefined;
  let budget: CapacityError | undefined;
  const uncaught = (label: string, error: unknown) => {
    if (failed && options.uncaught === "exit") return; // the run already ended
    failed = true;
    if (options.uncaught === "report") {
      printer.report(label, error);
      return;
    }
    // Node: an uncaught exception ends the process with exit code 1.
    io.err(`${label}: ${textOf(error)}\n`);
    loop?.close();
  };

  // A null-prototype sandbox: the context's global looks names up on it first, and one
  // made by `{}` would answer `globalThis.constructor` with the host's Object.
  const context = vm.createContext(Object.create(null), {
    name: filename,
    microtaskMode: "afterEvaluate",
  });
  ({ loop, textOf } = await guestLoop(context, filename, options, io, {
    uncaught,
    // A budget reached ends the guest, whether or not it catches the CapacityError.
    onCapacity: (error) => {
      if (budget !== undefined) return;
      budget = error;
      queueMicrotask(() => loop?.close());
    },
  }));

  const promiseJobs = options.metrics ? countGuestPromiseJobs(context) : undefined;
  // Native promises of the guest that reject unhandled reach Node's process-level
  // tracking (one per isolate); report them as the runtime would, without crashing the host.
  const onRejection = (reason: unknown) => uncaught("Uncaught (in promise)", reason);
  process.on("unhandledRejection", onRejection);
  try {
    try {
      new vm.Script(source, { filename }).runInContext(context);
    } catch (error) {
      uncaught("Uncaught", error);
    }
    if (loop.state !== "closed")
      await drive(loop, options, io).catch((error) => uncaught("zigloop", error));
    // Nothing ref'd is left: where Node's process would exit, unref'd timers and
    // immediates never run, so they are dropped before the CLI takes one more host task.
    metrics = options.metrics && loop.state !== "broken" ? loop.metrics() : undefined;
    loop.close();
    // Let Node deliver unhandledRejection for the guest's last native promises.
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  printer.summary();
  promiseJobs?.stop();
  if (metrics !== undefined) {
    metrics.microtasksExecuted += promiseJobs?.count ?? 0;
    io.err(`\n${formatLoopMetrics(metrics)}`);
  }
  if (budget !== undefined) return budgetReached(budget, io);
  return { exitCode: failed || loop.exitCode !== 0 ? 1 : 0 };
}

/** The guest's loop, installed into `context` with the CLI's console and performance. */
async function guestLoop(
  context: vm.Context,
  filename: string,
  options: RunOptions,
  io: Io,
  hooks: {
    uncaught: (label: string, error: unknown) => void;
    onCapacity: (error: CapacityError) => void;
  },
): Promise<{ loop: EventLoop; textOf: (error: unknown) => string }> {
  const loop = await createEventLoop({
    profile: options.profile,
    clock: options.virtualTime ? "manual" : "real",
    metrics: options.metrics,
    onError: (error) => hooks.uncaught("Uncaught", error),
    capacity: options.budgets,
    onCapacity: hooks.onCapacity,
    // html: setTimeout("code") runs the string as global code of the guest, as a browser
    // does. The guest can eval already, so compiling in its own realm grants nothing new;
    // its own eval compiles it (guest_host.ts), so nothing about it is made by the host.
    stringHandler: options.profile === "html" ? (code) => guest.compile(code) : undefined,
  });
  loop.installGlobals(context);
  const guest = installHostGlobals(
    context,
    (stream, text) => (stream === 2 ? io.err(text) : io.out(text)),
    () => loop.now(),
    filename,
  );
  return { loop, textOf: guest.textOf };
}

function budgetReached(budget: CapacityError, io: Io): CliResult {
  const flag = budget.capacity === "memory" ? "" : ` (--max-${budget.capacity} ${budget.limit})`;
  io.err(
    `zigloop: the guest reached its ${budget.capacity} budget${flag} and was stopped: ${budget.message}\n`,
  );
  return { exitCode: BUDGET_EXIT_CODE };
}

/**
 * --metrics: the guest's own promise jobs (`await` continuations, `.then` reactions) run
 * on its realm's queue, which the loop drains without seeing each job; V8's promise hooks
 * count the ones whose promise belongs to the guest's realm (only with --metrics: the
 * hooks slow every promise in the process).
 */
function countGuestPromiseJobs(context: vm.Context): { count: number; stop: () => void } {
  const proto = vm.runInContext("Promise.prototype", context) as object;
  const counter = { count: 0, stop: () => {} };
  const stop = promiseHooks.onBefore((promise) => {
    if (Object.getPrototypeOf(promise) === proto) counter.count++;
  }) as () => void;
  counter.stop = stop;
  return counter;
}

/** Runs the loop until nothing ref'd is left (virtual time: at most `maxSteps` moves of the clock). */
async function drive(loop: EventLoop, options: RunOptions, io: Io): Promise<void> {
  try {
    await loop.run(options.virtualTime ? { limit: options.maxSteps } : undefined);
  } catch (error) {
    if (!(error instanceof LoopLimitError) || !options.virtualTime) throw error;
    const p = loop.pending;
    io.err(
      error.limit === options.maxSteps
        ? `zigloop: --virtual-time stopped after ${options.maxSteps} moves of the clock, at ${loop.now()} ms ` +
            `of virtual time, with ${p.timers} timers still pending (a timer that never stops?). ` +
            "Raise --max-steps to go further.\n"
        : `zigloop: --virtual-time stopped: ${error.message}\n`,
    );
    loop.exitCode = 1;
  }
}
