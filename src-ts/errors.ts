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
    const what = capacity === "memory"
      ? "the WebAssembly engine refused to grow the loop's linear memory"
      : `the loop already holds ${limit} ${capacity} (capacity.${capacity})`;
    super(`Cannot ${action}: ${what}. The loop is unchanged and keeps working.`);
    this.capacity = capacity;
    this.limit = limit;
  }
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
    super("ERR_LOOP_SHUTTING_DOWN", `Cannot ${action}: the loop is shutting down and accepts no new work.`);
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
    super(`${method}() needs a manual clock; create the loop with createEventLoop({ clock: "manual" }).`);
  }
}

/**
 * A short "type value" description that reads nothing from an object (no getters, no Proxy
 * traps run), for the Promise code, where touching a user's value would be observable.
 * Functions show their `name`.
 */
export function describeInert(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
    case "number":
    case "boolean":
    case "bigint":
    case "symbol":
      return `${typeof value} ${String(value)}`;
    case "undefined":
      return "undefined";
    case "function":
      return `function ${(value as { name?: unknown }).name || "(anonymous)"}`;
    default:
      return Array.isArray(value) ? "array" : "object";
  }
}

/** Describes a value for an error message: its type, and the value when short. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "function":
      return `function ${value.name || "(anonymous)"}`;
    case "object": {
      const name = (value as object).constructor?.name;
      return name ? `an instance of ${name}` : "an object";
    }
    case "string": {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${JSON.stringify(shown)})`;
    }
    case "symbol":
      return `type symbol (${String(value.description ?? "")})`;
    default:
      return `type ${typeof value} (${String(value)})`;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

/** A TypeError with Node's `code` property, for argument type errors. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${describeValue(actual)}.`);
  Object.defineProperty(error, "code", { value: "ERR_INVALID_ARG_TYPE", enumerable: true });
  return error;
}
