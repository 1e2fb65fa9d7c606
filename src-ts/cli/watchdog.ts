/// <reference types="node" />
/**
 * `zigloop run --timeout <ms>`: the guest runs in a worker thread, and the main thread
 * stops it when its event loop has not come back for `ms` milliseconds.
 *
 * Why a worker: a guest callback that never returns (`while (true) {}`), or a flood of
 * promise jobs, holds the thread that runs it. Node's `vm` timeout covers only code run
 * by `runInContext` (the script itself, not the callbacks the loop calls later), and
 * arming it around every callback would start a watchdog thread per callback. A worker
 * can be terminated from outside whatever it is doing (`worker.terminate()` stops
 * running JavaScript), and a heartbeat costs the guest nothing per callback: the worker
 * posts one from its own timer, which can only run when its event loop is free. No
 * heartbeat for `ms` means one host task (the script, a turn, a checkpoint) has run for
 * that long.
 *
 * The worker's output comes back as messages and is written in order by the main thread.
 *
 * @module
 */

import { Worker } from "node:worker_threads";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What the worker posts to the main thread. */
export type WorkerMessage =
  | { type: "out" | "err"; text: string }
  | { type: "beat" }
  | { type: "exit"; code: number };

/** Exit code of a run stopped by --timeout (GNU timeout's). */
export const TIMEOUT_EXIT_CODE = 124;

/** How often the worker beats, for a given timeout: often enough to notice within 25%. */
export function beatInterval(timeoutMs: number): number {
  return Math.max(5, Math.floor(timeoutMs / 4));
}

/**
 * Runs the CLI (`argv` without --timeout) in a worker; resolves with its exit code, or
 * TIMEOUT_EXIT_CODE after stopping a worker whose event loop stayed busy for `timeoutMs`.
 */
export function runWatched(argv: string[], timeoutMs: number, io: Io): Promise<number> {
  const entry = new URL("./worker_entry.js", import.meta.url);
  const worker = new Worker(entry, { workerData: { argv, timeoutMs } });
  return new Promise<number>((resolve) => {
    // The clock starts at the worker's first message: its start-up (a Node environment,
    // the modules, a loaded machine) is not the guest's time.
    let last: number | undefined;
    let exitCode: number | undefined;
    let stopped = false;
    const check = setInterval(() => {
      if (last === undefined || Date.now() - last <= timeoutMs) return;
      stopped = true;
      clearInterval(check);
      io.err(
        `zigloop: the guest did not return to the event loop for ${timeoutMs} ms ` +
          `(--timeout ${timeoutMs}): a callback, the script or its microtasks never ended; stopped.\n`,
      );
      void worker.terminate();
    }, beatInterval(timeoutMs));
    worker.on("message", (message: WorkerMessage) => {
      last = Date.now();
      if (message.type === "out") io.out(message.text);
      else if (message.type === "err") io.err(message.text);
      else if (message.type === "exit") exitCode = message.code;
    });
    worker.on("error", (error) => {
      io.err(`zigloop: the guest's worker failed: ${error.stack ?? error}\n`);
      exitCode ??= 1;
    });
    worker.on("exit", () => {
      clearInterval(check);
      resolve(stopped ? TIMEOUT_EXIT_CODE : (exitCode ?? 1));
    });
  });
}
