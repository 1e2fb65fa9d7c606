/**
 * `zigloop/worker`: the producer side of an ingress, for any thread (a Node
 * `worker_threads` worker, a Deno, Bun or browser Worker). It imports no loop and no
 * WebAssembly: a port is a view of the ingress's SharedArrayBuffer.
 *
 * @example
 * ```js
 * import { openIngress } from "zigloop/worker";
 * const port = openIngress(description); // ingress.description, sent by the loop's thread
 * port.post(1, 42);                      // false when full: retry, or postWait(1, 42, 100)
 * ```
 * @module
 */

export { IngressClosedError } from "./errors.ts";
export {
  type IngressDescription,
  type IngressPayload,
  IngressPort,
  openIngress,
} from "./producer.ts";
