/**
 * Constants shared by the offload pool (pool.ts, on the loop) and its workers
 * (pool_worker.ts): request kinds, result statuses and the control words.
 *
 * @module
 */

/** Request record kinds (the `kind` field of a request lane's records). */
export const REQUEST_DEFINE = 1;
export const REQUEST_CALL = 2;
export const REQUEST_STOP = 3;

/** Result statuses (second element of a result record). */
export const STATUS_FULFILLED = 0;
export const STATUS_REJECTED = 1;
/** The call was cancelled before it started; the worker skipped it. */
export const STATUS_CANCELLED = 2;

/** Control words (Int32Array over a small SharedArrayBuffer per worker). */
/** The sequence number of the last call the worker started (it stores it, then reads the call's cancel mark). */
export const CONTROL_STARTED = 0;
/** Set by the pool before it terminates the worker: the worker writes nothing more, and stops. */
export const CONTROL_STOP = 1;
/** 1 while the worker is between checking CONTROL_STOP and finishing a result write. */
export const CONTROL_WRITING = 2;
/** CONTROL_CANCEL + (seq % pipeline) holds `seq` when that call is cancelled. */
export const CONTROL_CANCEL = 3;

export function controlBytes(pipeline: number): number {
  return (CONTROL_CANCEL + pipeline) * 4;
}
