/**
 * Errors of the ingress and the offload pool.
 *
 * @module
 */

import { LoopStateError } from "../errors.ts";

/** The ingress (or this producer's port) is closed: the message was not accepted. */
export class IngressClosedError extends LoopStateError {
  override name = "IngressClosedError";
  constructor(action: string, why: string) {
    super("ERR_INGRESS_CLOSED", `Cannot ${action}: ${why}.`);
  }
}

/** The runtime has no threads (workerd) or no shared memory (a page that is not cross-origin isolated). */
export class ThreadsUnavailableError extends TypeError {
  override name = "ThreadsUnavailableError";
  readonly code = "ERR_THREADS_UNAVAILABLE";
  constructor(action: string, why: string) {
    super(`Cannot ${action}: ${why}.`);
  }
}

/** An offloaded call could not run: its worker died, or the pool closed first. */
export class OffloadError extends LoopStateError {
  override name = "OffloadError";
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
