/**
 * The published types follow a loop's options (`setTimeout` returns a number in the
 * html profile and a `Timeout` in the node profile; manual-clock methods take `never`
 * on a real-clock loop) and reject wrong arguments. Tests run both profiles through one
 * body and pass wrong arguments on purpose to check the run-time errors, so they use
 * this loose view of a loop. `test/types/` checks the precise types.
 */
import type { EventLoop } from "../src-ts/node.ts";

export interface LooseMethods {
  setTimeout(...args: any[]): any;
  setInterval(...args: any[]): any;
  clearTimeout(id?: any): void;
  clearInterval(id?: any): void;
  setImmediate(...args: any[]): any;
  clearImmediate(id?: any): void;
  advance(ms: any, options?: any): number;
  next(): number;
  runAll(options?: any): number;
  runToLast(options?: any): number;
}

/** A loop whose timer methods accept and return anything. */
export type LooseLoop = LooseMethods & EventLoop;

/** The loose view of `loop` (the same object). */
export function loose(loop: EventLoop<any, any>): LooseLoop {
  return loop as unknown as LooseLoop;
}
