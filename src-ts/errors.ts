/**
 * Errors zigloop throws. Wrong types are `TypeError`, out-of-range values and
 * exhausted capacity are `RangeError`; the named subclasses below exist so a
 * caller can catch exactly the condition it cares about. Every one carries a
 * stable `code` and a message that says what failed and why.
 *
 * @module
 */

/** A capacity configured in {@linkcode EventLoopOptions.capacity} is exhausted. */
export class CapacityError extends RangeError {
  override readonly name = "CapacityError";
  readonly code = "ERR_LOOP_CAPACITY";
  /** Which capacity: `"timers"`, `"tasks"`, `"microtasks"` or `"memory"`. */
  readonly capacity: "timers" | "tasks" | "microtasks" | "memory";
  /** The configured limit, when there is one. */
  readonly limit: number | undefined;

  constructor(capacity: CapacityError["capacity"], limit: number | undefined, action: string) {
    const what =
      capacity === "memory"
        ? "the WebAssembly engine refused to grow the loop's linear memory"
        : `the loop already holds ${limit} ${capacity} (capacity.${capacity})`;
    super(`Cannot ${action}: ${what}. The loop is unchanged and keeps working.`);
    this.capacity = capacity;
    this.limit = limit;
  }
}

/** The compiled core module does not match this version of the host. */
export class CoreMismatchError extends TypeError {
  override readonly name = "CoreMismatchError";
  readonly code = "ERR_LOOP_CORE_MISMATCH";
}

/** Base class of the errors about the loop's lifecycle state. */
export class LoopStateError extends Error {
  override name = "LoopStateError";
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The loop is closed; it accepts no new work and cannot run. */
export class LoopClosedError extends LoopStateError {
  override name = "LoopClosedError";
  constructor(action: string) {
    super("ERR_LOOP_CLOSED", `Cannot ${action}: the loop is closed.`);
  }
}

/** The loop is shutting down gracefully and refuses new work. */
export class LoopShuttingDownError extends LoopStateError {
  override name = "LoopShuttingDownError";
  constructor(action: string) {
    super(
      "ERR_LOOP_SHUTTING_DOWN",
      `Cannot ${action}: the loop is shutting down and accepts no new work.`,
    );
  }
}

/** `run()` (or another driving call) was made from inside one of the loop's own callbacks. */
export class ReentrancyError extends LoopStateError {
  override name = "ReentrancyError";
  constructor(action: string) {
    super(
      "ERR_LOOP_REENTRANT",
      `Cannot ${action} from inside a callback of the same loop: it would wait for itself. ` +
        "Schedule the work instead, or drive the loop from outside its callbacks.",
    );
  }
}

/** A drive was asked for while an async drive of the same loop waits for the host. */
export class DriveInProgressError extends LoopStateError {
  override name = "DriveInProgressError";
  constructor(action: string, inProgress: string) {
    super(
      "ERR_LOOP_DRIVE_IN_PROGRESS",
      `Cannot ${action}: ${inProgress} is still driving this loop (it waits for the host between callbacks). ` +
        "Await it first; one drive at a time.",
    );
  }
}

/** The WebAssembly core trapped. That loop is unusable; other loops are unaffected. */
export class CoreTrapError extends LoopStateError {
  override name = "CoreTrapError";
  constructor(action: string, cause: unknown) {
    super(
      "ERR_LOOP_CORE_TRAP",
      `The loop's WebAssembly core trapped during ${action} (${describeCause(cause)}). ` +
        "This loop is now unusable; create a new one. Other loops are unaffected.",
      { cause },
    );
  }
}

/** The reason pending loop promises and refused work get when the loop shuts down. */
export class TerminationError extends LoopStateError {
  override name = "TerminationError";
  constructor(message = "The loop shut down before this settled.") {
    super("ERR_LOOP_TERMINATED", message);
  }
}

/** A driving call (`runAll`, `runUntilIdle`) hit its round limit: something keeps scheduling work. */
export class LoopLimitError extends RangeError {
  override readonly name = "LoopLimitError";
  readonly code = "ERR_LOOP_LIMIT";
  readonly limit: number;
  constructor(action: string, limit: number, detail: string) {
    super(
      `${action} stopped after ${limit} rounds and the loop still has work (${detail}). ` +
        "Something keeps scheduling new work; raise { limit } if that is expected.",
    );
    this.limit = limit;
  }
}

/** A manual-clock method was called on a real-clock loop, or the reverse. */
export class ClockModeError extends TypeError {
  override readonly name = "ClockModeError";
  readonly code = "ERR_LOOP_CLOCK_MODE";
  constructor(method: string) {
    super(
      `${method}() needs a manual clock; create the loop with createEventLoop({ clock: "manual" }).`,
    );
  }
}

/**
 * Describes a value for an error message, in Node's style: `null`, `undefined`,
 * `type number (42)`, `type string ("x")`, `function f`, `an instance of Map`.
 *
 * It runs no code of the value's: no getters, no `toString`, no `Symbol.toPrimitive`
 * (the Promise code uses it where touching a user's value would be observable, and a
 * hostile value must not be able to make an error message throw). The constructor name
 * is read only from data properties of the prototype chain.
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "function":
      return `function ${dataProperty(value, "name") || "(anonymous)"}`;
    case "object":
      return describeObject(value as object);
    case "string": {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${JSON.stringify(shown)})`;
    }
    case "symbol":
      return `type symbol (${value.description ?? ""})`;
    case "bigint":
      return `type bigint (${value}n)`;
    default:
      return `type ${typeof value} (${String(value)})`;
  }
}

function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return "an instance of Array";
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null) return "an object with a null prototype";
    const ctor = dataProperty(proto, "constructor");
    const name = typeof ctor === "function" ? dataProperty(ctor, "name") : undefined;
    return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object";
  } catch {
    return "an object"; // a revoked Proxy, or a getPrototypeOf trap that threw
  }
}

/** An own data property's value, without running a getter; undefined otherwise. */
function dataProperty(target: object, key: string): unknown {
  try {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    return descriptor !== undefined && "value" in descriptor ? descriptor.value : undefined;
  } catch {
    return undefined;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

/**
 * The one builder of argument type errors: a TypeError with Node's `code`
 * `ERR_INVALID_ARG_TYPE` and the message `The "name" argument must be <expected>.
 * Received <value>.`, prefixed with the call that failed when given.
 */
export function invalidArgType(
  name: string,
  expected: string,
  actual: unknown,
  context?: string,
): TypeError {
  const prefix = context === undefined ? "" : `${context}: `;
  const error = new TypeError(
    `${prefix}The "${name}" argument must be ${expected}. Received ${describeValue(actual)}.`,
  );
  Object.defineProperty(error, "code", {
    value: "ERR_INVALID_ARG_TYPE",
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return error;
}
