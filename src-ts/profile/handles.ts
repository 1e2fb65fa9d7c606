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
export const kFlags: unique symbol = Symbol("zigloop.flags");
export const kCallback: unique symbol = Symbol("zigloop.callback");
export const kArgs: unique symbol = Symbol("zigloop.args");
export const kDelay: unique symbol = Symbol("zigloop.delay");

/**
 * The bits of `[kFlags]`. One small integer instead of a field each: a pending node-profile
 * timer is a `Timeout`, so every field is paid per timer (8 bytes each on a 64-bit V8
 * without pointer compression). What is rare (a numeric id taken, a guest's facade) lives
 * in side tables and costs nothing until used.
 */
export const HandleFlag = {
  /** Keeps the loop alive (`ref()`). */
  refed: 1,
  /** An interval. */
  repeat: 2,
  /** `[Symbol.toPrimitive]()` was taken: its number is in `primitiveOf`. */
  primitive: 4,
  /** Guest code sees a guest-realm facade (`thisOf`), not the handle. */
  guest: 8,
} as const;

/** The numbers handed out by `[Symbol.toPrimitive]()` (stable across `refresh()`, as Node's). */
const primitives = new WeakMap<Timeout, number>();
/**
 * The guest-realm facade of a handle made for a guest (loop/guest.ts): a property added
 * only to those handles (one more hidden class, shared by all of them), cheaper per
 * guest timer than a WeakMap entry and nothing on a host's own handles.
 */
const kFacade: unique symbol = Symbol("zigloop.facade");
type WithFacade = { [kFacade]: object };

/** The number `[Symbol.toPrimitive]()` returned for `timeout`, or 0 if it was never taken. */
export function primitiveOf(timeout: Timeout): number {
  return (timeout[kFlags] & HandleFlag.primitive) === 0 ? 0 : primitives.get(timeout)!;
}

/** Records the number `[Symbol.toPrimitive]()` hands out for `timeout`. */
export function setPrimitive(timeout: Timeout, primitive: number): void {
  primitives.set(timeout, primitive);
  timeout[kFlags] |= HandleFlag.primitive;
}

/** What a callback's `this` is and guest code holds: the guest's facade, or the handle itself. */
export function thisOf(handle: Timeout | Immediate): object {
  return (handle[kFlags] & HandleFlag.guest) === 0
    ? handle
    : (handle as unknown as WithFacade)[kFacade];
}

/** Makes `facade` what guest code sees for `handle`. */
export function setFacade(handle: Timeout | Immediate, facade: object): void {
  (handle as unknown as WithFacade)[kFacade] = facade;
  handle[kFlags] |= HandleFlag.guest;
}

/** Whether the handle keeps the loop alive. */
export function isRefed(handle: Timeout | Immediate): boolean {
  return (handle[kFlags] & HandleFlag.refed) !== 0;
}

/** Sets or clears the handle's ref bit (the loop's ref count is the caller's). */
export function setRefed(handle: Timeout | Immediate, ref: boolean): void {
  handle[kFlags] = ref ? handle[kFlags] | HandleFlag.refed : handle[kFlags] & ~HandleFlag.refed;
}

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
  /** {@link HandleFlag} bits. */
  [kFlags]: number;
  /** null once cleared (Node sets `_onTimeout = null`): refresh is then a no-op. */
  [kCallback]: Function | null;
  [kArgs]: unknown[] | undefined;
  [kDelay]: number;

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
    this[kFlags] = repeat ? HandleFlag.refed | HandleFlag.repeat : HandleFlag.refed;
    this[kCallback] = callback;
    this[kArgs] = args;
    this[kDelay] = delay;
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
    return (this[kFlags] & HandleFlag.refed) !== 0;
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
  /** {@link HandleFlag} bits. */
  [kFlags]: number;

  /** @internal Created by the loop's setImmediate. */
  constructor(owner: HandleOwner, id: number) {
    this[kOwner] = owner;
    this[kId] = id;
    this[kFlags] = HandleFlag.refed;
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
    return (this[kFlags] & HandleFlag.refed) !== 0;
  }

  [dispose](): void {
    this[kOwner].immediateClear(this);
  }

  get [Symbol.toStringTag](): string {
    return "Immediate";
  }
}

export { dispose as disposeSymbol };
