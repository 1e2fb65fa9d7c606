/// <reference types="node" />
/**
 * Node's `worker_threads` for the offload pool (Node has no web `Worker`). The runtime
 * adapter: only this file imports `node:worker_threads`.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { Thread } from "./threads.ts";

export function startNodeThread(url: URL, init: unknown, name: string): Thread {
  const worker = new Worker(url, { name });
  let exited = false;
  const listeners: Array<(error: unknown) => void> = [];
  let failure: unknown;
  worker.on("error", (error) => {
    failure = error;
  });
  worker.on("exit", () => {
    exited = true;
    for (const listener of listeners) listener(failure);
  });
  worker.postMessage(init);
  return {
    async terminate() {
      if (!exited) await worker.terminate();
    },
    onExit(listener) {
      if (exited) listener(failure);
      else listeners.push(listener);
    },
    unref() {
      worker.unref();
      return true;
    },
  };
}
