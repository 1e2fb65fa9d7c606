/// <reference types="node" />
/**
 * The worker side of `zigloop run --timeout` (see watchdog.ts): beats from its own timer
 * while its event loop is free, runs the CLI with its output sent to the main thread,
 * and reports the exit code.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { main } from "./main.ts";
import { beatInterval, type WorkerMessage } from "./watchdog.ts";

const { argv, timeoutMs } = workerData as { argv: string[]; timeoutMs: number };
const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);

// Unref'd: the beat only reports a free event loop, it must not keep the worker alive.
setInterval(() => post({ type: "beat" }), beatInterval(timeoutMs)).unref();
post({ type: "beat" }); // started: the main thread's clock runs from here
const { exitCode } = await main(argv, {
  out: (text) => post({ type: "out", text }),
  err: (text) => post({ type: "err", text }),
});
post({ type: "exit", code: exitCode });
