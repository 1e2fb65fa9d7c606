/// <reference types="node" />
/** Helpers of the ingress tests: producer threads (test/ingress/fixtures/producer.mjs). */
import { Worker } from "node:worker_threads";

export const PRODUCER = new URL("./fixtures/producer.mjs", import.meta.url);

export interface ProducerThread {
  worker: Worker;
  /** Resolves with the producer's last message (its result), rejects if it failed. */
  result: Promise<any>;
  opened: Promise<number>;
}

/** Starts a producer thread with `workerData`. */
export function startProducer(workerData: Record<string, unknown>): ProducerThread {
  const worker = new Worker(PRODUCER, { workerData });
  let last: unknown;
  let opened!: (id: number) => void;
  const openedPromise = new Promise<number>((resolve) => (opened = resolve));
  worker.on("message", (message: { opened?: number }) => {
    if (message.opened !== undefined) opened(message.opened);
    else last = message;
  });
  const result = new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", () => resolve(last));
  });
  return { worker, result, opened: openedPromise };
}

/** Resolves once `condition()` holds, checking every `ms`; rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
  ms = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
