/**
 * The node profile's handle objects, like Node's `Timeout` and `Immediate`
 * (lib/internal/timers.js, lib/timers.js): `ref`/`unref`/`hasRef`, `refresh`,
 * `close`, `[Symbol.toPrimitive]`, `[Symbol.dispose]`. Their state lives in
 * symbol-keyed slots; every operation is a call into the loop that owns them
 * ({@link HandleOwner}), which keeps the core, the mirror and the ref count in step.
 *
 * @module
 */

// ---- Node profile handle objects ------------------------------------------------

/** Internal slots of Timeout/Immediate objects (not part of the public API). */
export const kOwner: unique symbol = Symbol("zigloop.owner");
export const kId: unique symbol = Symbol("zigloop.id");
export const kPrimitive: unique symbol = Symbol("zigloop.primitive");
export const kRefed: unique symbol = Symbol("zigloop.refed");
export const kCallback: unique symbol = Symbol("zigloop.callback");
export const kArgs: unique symbol = Symbol("zigloop.args");
export const kDelay: unique symbol = Symbol("zigloop.delay");
export const kRepeat: unique symbol = Symbol("zigloop.repeat");
/** What guest code sees for this handle: a guest-realm facade (loop/guest.ts), or the handle itself. */
export const kThis: unique symbol = Symbol("zigloop.this");

/** What a Timeout or Immediate asks of the loop that created it (internal, not public API). */
export interface HandleOwner {
  timeoutRefresh(timeout: Timeout): void;
  /** Sets the ref flag of a Timeout or Immediate and keeps the loop's ref count in step. */
  handleSetRef(handle: Timeout | Immediate, ref: boolean): void;
  timeoutClear(timeout: Timeout): void;
  timeoutPrimitive(timeout: Timeout): number;
  immediateClear(immediate: Immediate): void;
}

/** `Symbol.dispose` (Node ≥ 20.4, Deno, Bun, browsers), or the registered symbol where it is missing. */
const dispose: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ??
  (Symbol.for("Symbol.dispose") as typeof Symbol.dispose);

/**
 * The node profile's timer handle, like Node's `Timeout`: `ref`/`unref`/`hasRef`,
 * `refresh`, `close`, `[Symbol.toPrimitive]` (a stable numeric id that
 * `clearTimeout` also accepts once it has been taken), `[Symbol.dispose]`.
 */
export class Timeout {
  [kOwner]: HandleOwner;
  /** The core id while armed or due; 0 once it has fired for good or was cleared. */
  [kId]: number;
  [kPrimitive]: number;
  [kRefed]: boolean;
  /** null once cleared (Node sets `_onTimeout = null`): refresh is then a no-op. */
  [kCallback]: Function | null;
  [kArgs]: unknown[] | undefined;
  [kDelay]: number;
  [kRepeat]: boolean;
  /** The callback's `this` and what setTimeout returned: itself, or a guest's facade. */
  [kThis]: object;

  /** @internal Created by the loop's setTimeout/setInterval. */
  constructor(
    owner: HandleOwner,
    id: number,
    callback: Function,
    args: unknown[] | undefined,
    delay: number,
    repeat: boolean,
  ) {
    this[kOwner] = owner;
    this[kId] = id;
    this[kPrimitive] = 0;
    this[kRefed] = true;
    this[kCallback] = callback;
    this[kArgs] = args;
    this[kDelay] = delay;
    this[kRepeat] = repeat;
    this[kThis] = this;
  }

  /** Makes the timer keep the loop (and a Node process) alive again. */
  ref(): this {
    this[kOwner].handleSetRef(this, true);
    return this;
  }

  /** Lets the loop finish (and a Node process exit) while this timer is pending. */
  unref(): this {
    this[kOwner].handleSetRef(this, false);
    return this;
  }

  /** Whether the timer keeps the loop alive. */
  hasRef(): boolean {
    return this[kRefed];
  }

  /** Restarts the timer with its delay counted from now; revives a fired one-shot. */
  refresh(): this {
    this[kOwner].timeoutRefresh(this);
    return this;
  }

  /** Cancels the timer (same as clearTimeout). */
  close(): this {
    this[kOwner].timeoutClear(this);
    return this;
  }

  /** A numeric id for this timer; `clearTimeout(id)` works once it has been taken. */
  [Symbol.toPrimitive](): number {
    return this[kOwner].timeoutPrimitive(this);
  }

  /** Cancels the timer (`using t = setTimeout(...)`). */
  [dispose](): void {
    this[kOwner].timeoutClear(this);
  }

  get [Symbol.toStringTag](): string {
    return "Timeout";
  }
}

/** The node profile's immediate handle, like Node's `Immediate`. */
export class Immediate {
  [kOwner]: HandleOwner;
  /** The core id while queued; 0 once it ran or was cleared. */
  [kId]: number;
  [kRefed]: boolean;
  /** The callback's `this` and what setImmediate returned: itself, or a guest's facade. */
  [kThis]: object;

  /** @internal Created by the loop's setImmediate. */
  constructor(owner: HandleOwner, id: number) {
    this[kOwner] = owner;
    this[kId] = id;
    this[kRefed] = true;
    this[kThis] = this;
  }

  ref(): this {
    this[kOwner].handleSetRef(this, true);
    return this;
  }

  unref(): this {
    this[kOwner].handleSetRef(this, false);
    return this;
  }

  hasRef(): boolean {
    return this[kRefed];
  }

  [dispose](): void {
    this[kOwner].immediateClear(this);
  }

  get [Symbol.toStringTag](): string {
    return "Immediate";
  }
}

export { dispose as disposeSymbol };
