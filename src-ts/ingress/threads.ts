/**
 * Starting a thread for the offload pool, on whatever the runtime offers: a web
 * `Worker` (Deno, Bun, browsers; module workers) or Node's `worker_threads`
 * (threads_node.ts, imported only where there is no web Worker). workerd has neither.
 *
 * @module
 */

import { ThreadsUnavailableError } from "./errors.ts";

/** A started thread, as the pool sees it. */
export interface Thread {
  /** Stops the thread; resolves once it can no longer run (Node: its exit; web: at once, then a grace period in the ingress). */
  terminate(): Promise<void>;
  /** Calls `listener(error)` once when the thread ends or fails by itself. */
  onExit(listener: (error: unknown) => void): void;
  /** Lets the host process exit while this thread is alive (Node, Bun); false where impossible (Deno). */
  unref(): boolean;
}

type WebWorker = {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(
    type: string,
    listener: (event: { message?: string; error?: unknown; preventDefault(): void }) => void,
  ): void;
  unref?(): void;
};
type WorkerConstructor = new (
  url: URL | string,
  options?: { type?: "module"; name?: string },
) => WebWorker;

const WebWorkerCtor = (globalThis as { Worker?: WorkerConstructor }).Worker;

/** Whether this runtime can start threads at all. */
export function threadsAvailable(): boolean {
  return !isWorkerd() && (typeof WebWorkerCtor === "function" || isNode());
}

/** workerd (Cloudflare Workers): one thread per isolate; with newer compatibility dates it has a Node-like `process`. */
function isWorkerd(): boolean {
  return (
    (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ===
    "Cloudflare-Workers"
  );
}

function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === "string";
}

/**
 * Starts `url` (an ES module) in a new thread and sends it `init` as its first message.
 * @throws {ThreadsUnavailableError} where there are no threads (workerd).
 */
export async function startThread(url: URL, init: unknown, name: string): Promise<Thread> {
  if (typeof WebWorkerCtor === "function") return startWebWorker(WebWorkerCtor, url, init, name);
  if (isNode() && !isWorkerd()) {
    const { startNodeThread } = await import("./threads_node.ts");
    return startNodeThread(url, init, name);
  }
  throw new ThreadsUnavailableError(
    "start a worker thread",
    "this runtime has no threads (no Worker, no worker_threads): workerd runs one thread per isolate",
  );
}

function startWebWorker(Ctor: WorkerConstructor, url: URL, init: unknown, name: string): Thread {
  const worker = new Ctor(url, { type: "module", name });
  let exited = false;
  const listeners: Array<(error: unknown) => void> = [];
  const exit = (error: unknown) => {
    if (exited) return;
    exited = true;
    for (const listener of listeners) listener(error);
  };
  worker.addEventListener("error", (event) => {
    event.preventDefault(); // handled here: Deno would otherwise rethrow it in this thread
    exit(event.error ?? new Error(`worker ${name} failed: ${event.message ?? "error"}`));
    worker.terminate();
  });
  worker.addEventListener("messageerror", () => {
    exit(new Error(`worker ${name} could not read its start message`));
    worker.terminate();
  });
  worker.postMessage(init);
  return {
    terminate() {
      worker.terminate();
      exit(undefined);
      return Promise.resolve();
    },
    onExit(listener) {
      listeners.push(listener);
    },
    unref() {
      if (typeof worker.unref !== "function") return false;
      worker.unref();
      return true;
    },
  };
}
