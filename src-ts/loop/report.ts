/**
 * Where a loop's uncaught errors and warnings go, and the default printer.
 *
 * Every hook the loop calls is user code, and so is every error it reports: an
 * `onError` that throws, an error whose `stack` getter throws, an object whose
 * `String()` throws (`Object.create(null)`), a Proxy. None of them may escape into the
 * turn, or the loop would stay "running" forever. {@linkcode reportSafely} and
 * {@linkcode errorText} never throw.
 *
 * @module
 */

/** The loop's error and warning hooks (the facade exposes them as `onError`, `onWarning`, `exitCode`). */
export interface ErrorHooks {
  onError: (error: unknown) => void;
  onWarning: (warning: Error) => void;
  /** 1 once the default onError reported something (what a CLI should exit with). */
  exitCode: number;
}

/** The runtime's channels, found by the entry point (portable code probes nothing). */
export interface HostChannels {
  /** Prints an uncaught error (default: console.error). */
  printError?: (text: string) => void;
  /** Emits a warning (Node and Bun: process.emitWarning; elsewhere console.warn). */
  emitWarning?: (warning: Error) => void;
}

const hostConsole = (
  globalThis as { console?: { error(...data: unknown[]): void; warn(...data: unknown[]): void } }
).console;

/** Hooks with the defaults filled in. */
export function makeHooks(
  onError: ((error: unknown) => void) | undefined,
  onWarning: ((warning: Error) => void) | undefined,
  channels: HostChannels,
): ErrorHooks {
  const printError = channels.printError ?? ((text: string) => hostConsole?.error(text));
  const hooks: ErrorHooks = {
    onError:
      onError ??
      ((error) => {
        hooks.exitCode = 1;
        printError(`Uncaught (in a zigloop callback) ${errorText(error)}`);
      }),
    onWarning:
      onWarning ?? channels.emitWarning ?? ((warning) => hostConsole?.warn(warningText(warning))),
    exitCode: 0,
  };
  return hooks;
}

/**
 * Reports `error` to `onError`. If onError throws, both errors are printed the
 * default way (the second error must not take the loop down); if even printing
 * throws (a console replaced by the guest), the report is dropped. Never throws.
 */
export function reportSafely(hooks: ErrorHooks, error: unknown): void {
  try {
    hooks.onError(error);
  } catch (secondary) {
    hooks.exitCode = 1;
    try {
      hostConsole?.error(`Uncaught (in a zigloop onError hook) ${errorText(secondary)}`);
      hostConsole?.error(`Uncaught (in a zigloop callback) ${errorText(error)}`);
    } catch {
      // Nothing left to report to.
    }
  }
}

/** `name: message` of a warning, like Node's default warning printer. Never throws. */
function warningText(warning: Error): string {
  try {
    return `${String(warning.name)}: ${String(warning.message)}`;
  } catch {
    return errorText(warning);
  }
}

/**
 * Texts of values a guest threw, read by the guest realm's own code when they were thrown
 * (loop/guest.ts): reading a guest value's properties from the host would call its getters
 * and traps from this realm, and a Proxy's `apply` trap would receive an array of this
 * realm. A WeakMap lookup runs no code of the value's.
 */
const guestTexts = new WeakMap<object, string>();

/** Remembers the text the guest realm made for `error`, for {@linkcode errorText}. */
export function rememberErrorText(error: object, text: string): void {
  guestTexts.set(error, text);
}

/** The text a guest realm made for `error` when it was thrown, if any. Runs none of its code. */
export function rememberedErrorText(error: unknown): string | undefined {
  if (error === null || (typeof error !== "object" && typeof error !== "function"))
    return undefined;
  return guestTexts.get(error);
}

/**
 * Text for an error as a runtime prints an uncaught one: its stack, else `name:
 * message`, else `String(value)`, falling back step by step when a getter or a
 * conversion throws. Never throws.
 */
export function errorText(error: unknown): string {
  const text = rememberedErrorText(error);
  if (text !== undefined) return text;
  if (error !== null && typeof error === "object") {
    // Any realm's error (a guest's is not an instance of this realm's Error): its stack.
    try {
      const stack = (error as { stack?: unknown }).stack;
      if (typeof stack === "string" && stack !== "") return stack;
      if (error instanceof Error) return `${String(error.name)}: ${String(error.message)}`;
    } catch {
      // fall through to the plainer forms
    }
  }
  try {
    return String(error);
  } catch {
    try {
      return Object.prototype.toString.call(error);
    } catch {
      return "<an error that cannot be printed>";
    }
  }
}
