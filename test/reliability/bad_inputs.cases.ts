import {
  CapacityError,
  ClockModeError,
  CoreMismatchError,
  createEventLoop,
  createEventLoopSync,
  type EventLoopOptions,
  formatMetrics,
  type Immediate,
  LoopClosedError,
  LoopLimitError,
  LoopShuttingDownError,
  LoopStateError,
  ReentrancyError,
  Timeout,
} from "../../src-ts/node.ts";
import { coreModule } from "./_helpers.ts";

export type Pending = {
  timers: number;
  immediates: number;
  tasks: number;
  microtasks: number;
  refs: number;
};

/** How a row's call is expected to end. */
export type Expectation =
  | { kind: "throws"; name: string; base: Function; code?: string; message: RegExp }
  | { kind: "rejects"; name: string; base: Function; code?: string; message: RegExp }
  | { kind: "returns"; check?: (value: any, ctx: Ctx) => void };

/** What a row's call can use. */
export interface Ctx {
  /** Times (loop.now()) at which the row's own callbacks ran. */
  fired: number[];
  /** What the loop reported to onError / onWarning. */
  errors: unknown[];
  warnings: Error[];
  /** Handles of another loop (node profile: Timeout/Immediate; html: ids). */
  foreign: { timeout: any; immediate: any; loop: EventLoop };
  /** A loop the row may create (create rows), closed by the runner. */
  created: EventLoop[];
}

export interface Case {
  /** The call, as the table shows it. */
  call: string;
  /** The bad input. */
  input: string;
  /** A short note on the outcome (what happens / why it is fine). */
  note: string;
  /** The rule or source that decides the outcome. */
  why: string;
  expect: Expectation;
  /** Loop options (default: html profile, manual clock). */
  options?: EventLoopOptions;
  /**
   * "loop" (default): call on a loop holding the sentinels. "inside": the call runs
   * inside a timer callback while the loop is driven. "closed" / "stopping": the loop
   * is closed / shutting down first. "create": the call creates a loop (the sentinels
   * live on another loop, which must be unaffected).
   */
  mode?: "loop" | "inside" | "closed" | "stopping" | "create";
  /** The bad call. Its return value goes to `expect.check`. */
  act: (loop: EventLoop, ctx: Ctx) => unknown;
  /** Pending work the call adds on purpose (e.g. a timer with a coerced delay). */
  adds?: Partial<Pending>;
  /** Checks after the loop was driven (e.g. when the row's timer fired). */
  after?: (loop: EventLoop, ctx: Ctx) => void;
  /** Errors the loop reports to onError because of the call (default none). */
  reported?: number;
  /** The row documents an outcome zigloop does not have yet: what it does today. */
  bug?: string;
  /** The call shuts the loop down ("shutdown") or closes it ("close"): the sentinels end accordingly. */
  ends?: "shutdown" | "close";
}

/** Sentinel work that ran now because the row's call drove the loop (micro, task, immediate). */
import type { LooseLoop } from "../loose_loop.ts";

/** Rows pass wrong arguments on purpose: the loose view of a loop (see test/loose_loop.ts). */
type EventLoop = LooseLoop;

const RAN_NOW: Partial<Pending> = { tasks: -1, immediates: -1, microtasks: -1, refs: -1 };

// ---- expectation builders -----------------------------------------------------------------

const throws = (name: string, base: Function, message: RegExp, code?: string): Expectation => ({
  kind: "throws",
  name,
  base,
  message,
  code,
});
const rejects = (name: string, base: Function, message: RegExp, code?: string): Expectation => ({
  kind: "rejects",
  name,
  base,
  message,
  code,
});
const returns = (check?: (value: any, ctx: Ctx) => void): Expectation => ({
  kind: "returns",
  check,
});

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const INVALID_ARG = "ERR_INVALID_ARG_TYPE";
const typeError = (message: RegExp, code?: string) => throws("TypeError", TypeError, message, code);
const rangeError = (message: RegExp) => throws("RangeError", RangeError, message);

/** A timer whose callback records when it ran. */
function timerAt(
  loop: EventLoop,
  ctx: Ctx,
  delay: unknown,
  kind: "setTimeout" | "setInterval" = "setTimeout",
): unknown {
  const handle = (loop as any)[kind](() => {
    ctx.fired.push(loop.now());
    if (kind === "setInterval") loop.clearInterval(handle);
  }, delay);
  return handle;
}

const firedAt = (times: number[]) => (_loop: EventLoop, ctx: Ctx) =>
  eq(ctx.fired, times, "the row's timer fired at");
const warned = (names: string[]) => (_loop: EventLoop, ctx: Ctx) =>
  eq(
    ctx.warnings.map((w) => w.name),
    names,
    "warnings",
  );

const valueOfThrows = () => ({
  valueOf() {
    throw new Error("valueOf threw");
  },
});
const toStringThrows = () => ({
  toString() {
    throw new Error("toString threw");
  },
});

/** A timer row: html and node delay coercion. */
function delayRow(
  profile: "html" | "node",
  input: string,
  delay: () => unknown,
  firedAtMs: number,
  why: string,
  warnings: string[] = [],
  kind: "setTimeout" | "setInterval" = "setTimeout",
): Case {
  return {
    call: `${kind}(fn, delay) [${profile}]`,
    input: `delay = ${input}`,
    note: `runs after ${firedAtMs} ms${warnings.length > 0 ? ` + ${warnings.join(", ")}` : ""}`,
    why,
    options: { profile },
    expect: returns(),
    act: (loop, ctx) => timerAt(loop, ctx, delay(), kind),
    adds: { timers: 1, refs: 1 },
    after: (loop, ctx) => {
      firedAt([firedAtMs])(loop, ctx);
      warned(warnings)(loop, ctx);
    },
  };
}

const WEBIDL = "HTML timer initialization steps; WebIDL `long` (ToNumber, ToInt32), negative → 0";
const NODE_DELAY = "Node lib/internal/timers.js: `after *= 1`, outside [1, 2^31−1] → 1";

// ---- the rows ------------------------------------------------------------------------------

export const CASES: Case[] = [
  // ---- creating a loop ----------------------------------------------------------------------
  {
    call: "createEventLoopSync(options)",
    input: "options = null",
    note: "needs { module }",
    why: "create.ts",
    mode: "create",
    expect: typeError(/^createEventLoopSync\(options\) needs \{ module: WebAssembly\.Module \}/),
    act: () => createEventLoopSync(null as any),
  },
  {
    call: "createEventLoopSync(options)",
    input: "module = 42",
    note: "not a compiled module",
    why: "core/instance.ts checkModule",
    mode: "create",
    expect: typeError(/^Expected a WebAssembly\.Module compiled from zigloop\.wasm, got number/),
    act: () => createEventLoopSync({ module: 42 as any }),
  },
  {
    call: "createEventLoopSync(options)",
    input: "module = another WebAssembly module",
    note: "the exports do not match",
    why: "core/instance.ts checkModule (README Errors: CoreMismatchError)",
    mode: "create",
    expect: throws(
      "CoreMismatchError",
      CoreMismatchError,
      /^The WebAssembly module is not the zigloop core this host expects: missing exports zl_abi_version/,
      "ERR_LOOP_CORE_MISMATCH",
    ),
    act: () =>
      createEventLoopSync({
        module: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
      }),
  },
  {
    call: "createEventLoop(options)",
    input: "options = null",
    note: "options must be an object",
    why: "Deno style guide: errors name the failed action and the value",
    mode: "create",
    expect: typeError(
      /^createEventLoop\(options\): options must be an object, got null/,
      INVALID_ARG,
    ),
    act: async () => createEventLoop(null as any),
  } as Case,
  {
    call: "createEventLoop(options)",
    input: "options = 42",
    note: "options must be an object",
    why: "Deno style guide: errors name the failed action and the value",
    mode: "create",
    expect: typeError(
      /^createEventLoop\(options\): options must be an object, got type number \(42\)/,
      INVALID_ARG,
    ),
    act: async () => createEventLoop(42 as any),
  },
  {
    call: "createEventLoop({ profile })",
    input: 'profile = "browser"',
    note: 'expected "html" or "node"',
    why: "README Semantics (two profiles)",
    mode: "create",
    expect: typeError(/^Unknown profile type string \("browser"\): expected "html" or "node"/),
    act: () => createEventLoopSync({ module: coreModule, profile: "browser" as any }),
  },
  {
    call: "createEventLoop({ profile })",
    input: "profile = Symbol()",
    note: "described, not converted",
    why: "errors.ts describeValue",
    mode: "create",
    expect: typeError(/^Unknown profile type symbol \(p\): expected "html" or "node"/),
    act: () => createEventLoopSync({ module: coreModule, profile: Symbol("p") as any }),
  },
  {
    call: "createEventLoop({ clock })",
    input: 'clock = "virtual"',
    note: 'expected "real" or "manual"',
    why: "README Virtual time",
    mode: "create",
    expect: typeError(/^Unknown clock type string \("virtual"\): expected "real" or "manual"/),
    act: () => createEventLoopSync({ module: coreModule, clock: "virtual" as any }),
  },
  ...[
    ["-1", -1],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ['"5"', "5"],
  ].map(
    ([input, value]): Case => ({
      call: 'createEventLoop({ clock: "manual", startTime })',
      input: `startTime = ${input}`,
      note: "a finite number >= 0 (and within the core's clock)",
      why: "README Virtual time",
      mode: "create",
      expect: rangeError(
        /^startTime must be a finite number >= 0 and at most \d+ \(ms, about 285 years: the range in which every microsecond is exact\), got type/,
      ),
      act: () =>
        createEventLoopSync({ module: coreModule, clock: "manual", startTime: value as any }),
    }),
  ),
  {
    call: 'createEventLoop({ clock: "manual", startTime })',
    input: "startTime = -0",
    note: "accepted as 0",
    why: "-0 >= 0",
    mode: "create",
    expect: returns((loop: EventLoop) => eq(loop.now(), 0, "now()")),
    act: (_l, ctx) => {
      const loop = createEventLoopSync({ module: coreModule, clock: "manual", startTime: -0 });
      ctx.created.push(loop);
      return loop;
    },
  },
  {
    call: 'createEventLoop({ clock: "manual", startTime })',
    input: "startTime = 2^62 µs or later (1e300)",
    note: "beyond the core's clock (2^62 µs ≈ 146,000 years)",
    why: "src-zig/time.zig ticks_max; README: a timer never fires early",
    mode: "create",
    expect: rangeError(/startTime must be a finite number >= 0 and at most \d+/),
    act: () => createEventLoopSync({ module: coreModule, clock: "manual", startTime: 1e300 }),
  },
  ...(
    [
      ["timers", 0],
      ["timers", -1],
      ["timers", 1.5],
      ["timers", NaN],
      ["timers", "10"],
      ["tasks", 0],
      ["tasks", 2 ** 30 + 1],
      ["tasks", Infinity],
      ["microtasks", 0],
      ["microtasks", 2 ** 31],
    ] as Array<[string, unknown]>
  ).map(
    ([name, value]): Case => ({
      call: `createEventLoop({ capacity: { ${name} } })`,
      input: `${name} = ${typeof value === "string" ? JSON.stringify(value) : Number.isNaN(value) ? "NaN" : value === 2 ** 30 + 1 ? "2^30+1" : value === 2 ** 31 ? "2^31" : String(value)}`,
      note:
        name === "timers"
          ? "an integer from 1 to 2^25 (TIMERS_MAX_LIMIT)"
          : "an integer from 1 to 2^30",
      why: "README Errors (CapacityError); loop/config.ts capacityOption",
      mode: "create",
      expect: rangeError(
        new RegExp(
          `^capacity\\.${name} must be an integer from 1 to ${name === "timers" ? 2 ** 25 : 2 ** 30}, got type`,
        ),
      ),
      act: () => createEventLoopSync({ module: coreModule, capacity: { [name]: value } as any }),
    }),
  ),
  {
    call: "createEventLoop({ capacity: { timers } })",
    input: "timers = 2^26 (above the core's TIMERS_MAX_LIMIT 2^25)",
    note: "an integer from 1 to 33554432",
    why: "abi.generated.ts TIMERS_MAX_LIMIT",
    mode: "create",
    expect: rangeError(/capacity\.timers must be an integer from 1 to 33554432/),
    act: () => createEventLoopSync({ module: coreModule, capacity: { timers: 2 ** 26 } }),
  },
  ...(
    [
      [8, "8"],
      [17, "17"],
      [2 ** 21, "2^21"],
      [NaN, "NaN"],
    ] as Array<[number, string]>
  ).map(
    ([value, label]): Case => ({
      call: "createEventLoop({ capacity: { microtaskRing } })",
      input: `microtaskRing = ${label}`,
      note: "a power of two from 16 to 2^20",
      why: "loop/config.ts ringOption",
      mode: "create",
      expect: rangeError(
        /^capacity\.microtaskRing must be a power of two from 16 to 2\^20, got type number/,
      ),
      act: () => createEventLoopSync({ module: coreModule, capacity: { microtaskRing: value } }),
    }),
  ),
  {
    call: "createEventLoop({ capacity })",
    input: "capacity = 42 (not an object)",
    note: "capacity must be an object",
    why: "Deno style guide: errors name the failed action and the value",
    mode: "create",
    expect: typeError(
      /^createEventLoop\(options\): capacity must be an object, got type number \(42\)/,
      INVALID_ARG,
    ),
    act: () => createEventLoopSync({ module: coreModule, capacity: 42 as any }),
  },
  ...(
    [
      [0, "0"],
      [-1, "-1"],
      [NaN, "NaN"],
    ] as Array<[number, string]>
  ).map(
    ([value, label]): Case => ({
      call: "createEventLoop({ microtaskBudget })",
      input: `microtaskBudget = ${label}`,
      note: "at least 1",
      why: "semantics.md Microtask checkpoints (optional budget)",
      mode: "create",
      expect: rangeError(/^microtaskBudget must be a number >= 1, got type number/),
      act: () => createEventLoopSync({ module: coreModule, microtaskBudget: value }),
    }),
  ),
  ...(
    [
      ["stringHandler", "stringHandler"],
      ["drainHostMicrotasks", "drainHostMicrotasks"],
    ] as const
  ).map(
    ([option, name]): Case => ({
      call: `createEventLoop({ ${option} })`,
      input: `${option} = 42`,
      note: "a function",
      why: "README Errors (ERR_INVALID_ARG_TYPE)",
      mode: "create",
      expect: typeError(
        new RegExp(
          `^createEventLoop\\(options\\): The "${name}" argument must be a function\\. Received type number \\(42\\)`,
        ),
        INVALID_ARG,
      ),
      act: () => createEventLoopSync({ module: coreModule, [option]: 42 } as any),
    }),
  ),
  {
    call: "createEventLoop({ timerStart })",
    input: 'timerStart = "x"',
    note: 'expected "turn" or "call"',
    why: "loop/config.ts EventLoopOptions.timerStart",
    mode: "create",
    expect: typeError(/^Unknown timerStart type string \("x"\): expected "turn" or "call"/),
    act: () => createEventLoopSync({ module: coreModule, timerStart: "x" } as any),
  },
  {
    call: "createEventLoop({ unhandledRejections })",
    input: 'unhandledRejections = "bogus"',
    note: "one of html, throw, strict, warn, warn-with-error-code, none — checked when the loop is created",
    why: "README The loop's Promise (Node's --unhandled-rejections modes)",
    mode: "create",
    expect: typeError(
      /^Unknown unhandledRejections type string \("bogus"\): expected one of "html", "throw", "strict", "warn", "warn-with-error-code", "none"\./,
    ),
    act: () => createEventLoopSync({ module: coreModule, unhandledRejections: "bogus" as any }),
  },
  ...(["onError", "onWarning"] as const).map(
    (option): Case => ({
      call: `createEventLoop({ ${option} })`,
      input: `${option} = 42`,
      note: "a function",
      why: "README Errors (ERR_INVALID_ARG_TYPE for non-callables)",
      mode: "create",
      expect: typeError(new RegExp(`"${option}".*must be a function`), INVALID_ARG),
      act: () => createEventLoopSync({ module: coreModule, [option]: 42 } as any),
    }),
  ),
  ...(
    [
      [0, "0"],
      [513, "513"],
      [1.5, "1.5"],
      ["8", '"8"'],
    ] as Array<[unknown, string]>
  ).map(
    ([value, label]): Case => ({
      call: "createEventLoop({ metrics: { latencyGroup } })",
      input: `latencyGroup = ${label}`,
      note: "an integer from 1 to 512",
      why: "README / loop/config.ts metricsOption (BATCH_CAPACITY)",
      mode: "create",
      expect: rangeError(/^metrics\.latencyGroup must be an integer from 1 to 512, got type/),
      act: () =>
        createEventLoopSync({ module: coreModule, metrics: { latencyGroup: value as number } }),
    }),
  ),
  {
    call: "createEventLoop({ metrics })",
    input: "metrics = {}",
    note: "metrics on, with the default latency group",
    why: "loop/config.ts metricsOption",
    mode: "create",
    expect: returns((loop: EventLoop) =>
      eq(typeof loop.metrics().utilization.utilization, "number", "metrics().utilization"),
    ),
    act: (_l, ctx) => {
      const loop = createEventLoopSync({ module: coreModule, clock: "manual", metrics: {} });
      ctx.created.push(loop);
      return loop;
    },
  },
  ...(
    [
      ["0", 0],
      ["null", null],
      ['"yes"', "yes"],
    ] as const
  ).map(
    ([label, value]): Case => ({
      call: "createEventLoop({ metrics })",
      input: `metrics = ${label}`,
      note: "a boolean or { latencyGroup }",
      why: "loop/config.ts metricsOption (strict options)",
      mode: "create",
      expect: typeError(
        /^createEventLoop\(options\): metrics must be a boolean or \{ latencyGroup \}, got /,
        INVALID_ARG,
      ),
      act: () => createEventLoopSync({ module: coreModule, metrics: value as any }),
    }),
  ),
  ...(
    [
      [
        'clok: "manual"',
        { clok: "manual" },
        /^createEventLoop\(options\): unknown option "clok"\. Did you mean "clock"\?$/,
      ],
      [
        "metric: true",
        { metric: true },
        /^createEventLoop\(options\): unknown option "metric"\. Did you mean "metrics"\?$/,
      ],
      [
        "capacity: { timer: 5 }",
        { capacity: { timer: 5 } },
        /unknown option "capacity\.timer"\. Did you mean "capacity\.timers"\?$/,
      ],
      [
        "metrics: { latencygroup: 1 }",
        { metrics: { latencygroup: 1 } },
        /unknown option "metrics\.latencygroup"\. Did you mean "metrics\.latencyGroup"\?$/,
      ],
      [
        "zzzzzz: 1",
        { zzzzzz: 1 },
        /unknown option "zzzzzz"\. Known options: profile, clock, startTime, /,
      ],
    ] as const
  ).map(
    ([label, options, message]): Case => ({
      call: "createEventLoop(options)",
      input: label,
      note: "an unknown option name: named, with the closest known one",
      why: "loop/config.ts checkNames (strict options)",
      mode: "create",
      expect: typeError(message, INVALID_ARG),
      act: () => createEventLoopSync({ module: coreModule, ...(options as object) } as any),
    }),
  ),

  // ---- setTimeout / setInterval: handler ------------------------------------------------------
  ...(["html", "node"] as const).flatMap((profile) =>
    (
      [
        ["42", 42],
        ["undefined", undefined],
        ["null", null],
        ["{}", {}],
        ["10n", 10n],
        ["Symbol()", Symbol("s")],
      ] as Array<[string, unknown]>
    ).map(
      ([input, value]): Case => ({
        call: `setTimeout(handler) / setInterval(handler) [${profile}]`,
        input: `handler = ${input}`,
        note: "must be a function",
        why: "README Semantics: handler",
        options: { profile },
        expect: typeError(
          /^setTimeout: The "callback" argument must be a function\. Received /,
          INVALID_ARG,
        ),
        act: (loop) => loop.setTimeout(value as any, 1),
      }),
    ),
  ),
  {
    call: "setTimeout(handler) [html]",
    input: 'handler = "code" (no stringHandler)',
    note: "string handlers compile code: disabled, with the hint to pass { stringHandler }",
    why: "README Semantics: handler; semantics.md (reject unless the embedder opts in)",
    options: { profile: "html" },
    expect: typeError(
      /^setTimeout: .*Received type string \("code"\)\. String handlers compile code and are disabled; pass \{ stringHandler \}/,
      INVALID_ARG,
    ),
    act: (loop) => loop.setTimeout("code"),
  },
  {
    call: "setTimeout(handler) [node]",
    input: 'handler = "code"',
    note: "Node never takes a string handler: its own message, no hint",
    why: "Node lib/timers.js setTimeout (validateFunction)",
    options: { profile: "node" },
    expect: typeError(
      /^setTimeout: The "callback" argument must be a function\. Received type string \("code"\)\.$/,
      INVALID_ARG,
    ),
    act: (loop) => loop.setTimeout("code"),
  },
  {
    call: "setInterval(handler) [html]",
    input: "handler = 42",
    note: "must be a function (the message names setInterval)",
    why: "README Semantics: handler",
    expect: typeError(
      /^setInterval: The "callback" argument must be a function\. Received type number \(42\)/,
      INVALID_ARG,
    ),
    act: (loop) => loop.setInterval(42 as any, 1),
  },
  {
    call: "setTimeout(handler) [html, stringHandler]",
    input: "stringHandler returns 42",
    note: "the compiler must return a function",
    why: "profile/html.ts compileHandler",
    options: { stringHandler: () => 42 as any },
    expect: typeError(
      /^setTimeout: stringHandler returned type number \(42\) instead of a function/,
    ),
    act: (loop) => loop.setTimeout("x"),
  },
  {
    call: "setTimeout(handler) [html, stringHandler]",
    input: "handler = object whose toString throws",
    note: "ToString's error propagates; nothing scheduled",
    why: "WebIDL TimerHandler (Function or DOMString)",
    options: { stringHandler: (source) => () => source },
    expect: throws("Error", Error, /^toString threw$/),
    act: (loop) => loop.setTimeout(toStringThrows() as any),
  },
  {
    call: "setTimeout(handler) [html, stringHandler]",
    input: "handler = Symbol()",
    note: "ToString of a Symbol",
    why: "WebIDL DOMString conversion",
    options: { stringHandler: (source) => () => source },
    expect: typeError(/Cannot convert a Symbol value to a string/),
    act: (loop) => loop.setTimeout(Symbol("s") as any),
  },
  {
    call: "setTimeout(handler) [html, stringHandler]",
    input: 'handler = "code"',
    note: "compiled by the embedder's stringHandler and run",
    why: "README Semantics: handler",
    options: { stringHandler: () => () => undefined },
    expect: returns(),
    act: (loop) => loop.setTimeout("code", 1),
    adds: { timers: 1, refs: 1 },
  },

  // ---- setTimeout / setInterval: delay ----------------------------------------------------------
  delayRow("html", "NaN", () => NaN, 0, WEBIDL),
  delayRow("html", "Infinity", () => Infinity, 0, WEBIDL),
  delayRow("html", "-Infinity", () => -Infinity, 0, WEBIDL),
  delayRow("html", "-5", () => -5, 0, WEBIDL),
  delayRow("html", "-0", () => -0, 0, WEBIDL),
  delayRow("html", "1.9", () => 1.9, 1, WEBIDL),
  delayRow("html", "2^31 − 1", () => 2 ** 31 - 1, 2 ** 31 - 1, WEBIDL),
  delayRow("html", "2^31", () => 2 ** 31, 0, `${WEBIDL} (wraps to −2^31)`),
  delayRow("html", "2^32 + 5", () => 2 ** 32 + 5, 5, `${WEBIDL} (modulo 2^32)`),
  delayRow("html", "2^53", () => 2 ** 53, 0, WEBIDL),
  delayRow("html", '"7"', () => "7", 7, WEBIDL),
  delayRow("html", '"abc"', () => "abc", 0, WEBIDL),
  delayRow("html", "null / [] / undefined", () => null, 0, WEBIDL),
  delayRow("html", "{ valueOf: () => 3 }", () => ({ valueOf: () => 3 }), 3, WEBIDL),
  delayRow("html", "NaN", () => NaN, 0, WEBIDL, [], "setInterval"),
  {
    call: "setTimeout(fn, delay) [html]",
    input: "delay = object whose valueOf throws",
    note: "ToNumber's error propagates; nothing scheduled",
    why: "WebIDL long conversion (the binding throws)",
    expect: throws("Error", Error, /^valueOf threw$/),
    act: (loop, ctx) => timerAt(loop, ctx, valueOfThrows()),
  },
  {
    call: "setTimeout(fn, delay) [html]",
    input: "delay = Symbol()",
    note: "ToNumber of a Symbol",
    why: "WebIDL long conversion",
    expect: typeError(/Cannot convert a Symbol value to a number/),
    act: (loop, ctx) => timerAt(loop, ctx, Symbol("s")),
  },
  {
    call: "setTimeout(fn, delay) [html]",
    input: "delay = 10n",
    note: "ToNumber of a BigInt",
    why: "WebIDL long conversion",
    expect: typeError(/^Cannot convert a BigInt value to a number \(timeout 10n\)/),
    act: (loop, ctx) => timerAt(loop, ctx, 10n),
  },
  delayRow("node", "NaN", () => NaN, 1, NODE_DELAY, ["TimeoutNaNWarning"]),
  delayRow("node", "Infinity", () => Infinity, 1, NODE_DELAY, ["TimeoutOverflowWarning"]),
  delayRow("node", "-Infinity", () => -Infinity, 1, NODE_DELAY, ["TimeoutNegativeWarning"]),
  delayRow("node", "-5", () => -5, 1, NODE_DELAY, ["TimeoutNegativeWarning"]),
  delayRow("node", "-0", () => -0, 1, `${NODE_DELAY} (no warning: -0 is not < 0)`),
  delayRow("node", "0", () => 0, 1, NODE_DELAY),
  delayRow("node", "1.9", () => 1.9, 1, `${NODE_DELAY}; truncated in insert`),
  delayRow("node", "2^31", () => 2 ** 31, 1, NODE_DELAY, ["TimeoutOverflowWarning"]),
  delayRow("node", "2^53", () => 2 ** 53, 1, NODE_DELAY, ["TimeoutOverflowWarning"]),
  delayRow("node", '"7"', () => "7", 7, NODE_DELAY),
  delayRow(
    "node",
    "undefined (omitted)",
    () => undefined,
    1,
    `${NODE_DELAY}; no warning for an omitted delay`,
  ),
  delayRow("node", "null", () => null, 1, NODE_DELAY),
  delayRow("node", "{}", () => ({}), 1, NODE_DELAY, ["TimeoutNaNWarning"]),
  delayRow(
    "node",
    "Infinity",
    () => Infinity,
    1,
    NODE_DELAY,
    ["TimeoutOverflowWarning"],
    "setInterval",
  ),
  {
    call: "setTimeout(fn, delay) [node]",
    input: "delay = NaN, three times",
    note: "TimeoutNaNWarning once per loop",
    why: "Node test-timers-nan-duration-warning.js",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      for (let i = 0; i < 3; i++) timerAt(loop, ctx, NaN);
    },
    adds: { timers: 3, refs: 3 },
    after: (loop, ctx) => {
      firedAt([1, 1, 1])(loop, ctx);
      warned(["TimeoutNaNWarning"])(loop, ctx);
    },
  },
  ...(
    [
      ["object whose valueOf throws", valueOfThrows, /^valueOf threw$/, "Error", Error],
      [
        "Symbol()",
        () => Symbol("s"),
        /Cannot convert a Symbol value to a number/,
        "TypeError",
        TypeError,
      ],
      ["10n", () => 10n, /Cannot mix BigInt and other types/, "TypeError", TypeError],
    ] as Array<[string, () => unknown, RegExp, string, Function]>
  ).map(
    ([input, value, message, name, base]): Case => ({
      call: "setTimeout(fn, delay) [node]",
      input: `delay = ${input}`,
      note: "`after *= 1` throws; nothing scheduled, no warning",
      why: "Node lib/internal/timers.js (same TypeError as Node)",
      options: { profile: "node" },
      expect: throws(name, base, message),
      act: (loop, ctx) => timerAt(loop, ctx, value()),
    }),
  ),

  // ---- clearTimeout / clearInterval ---------------------------------------------------------------
  ...(["html", "node"] as const).flatMap((profile) =>
    (
      [
        ["undefined", undefined],
        ["null", null],
        ["0", 0],
        ["-1", -1],
        ["NaN", NaN],
        ["2^31", 2 ** 31],
        ["2^53", 2 ** 53],
        ["{}", {}],
        ["a function", () => 1],
      ] as Array<[string, unknown]>
    ).map(
      ([input, value]): Case => ({
        call: `clearTimeout(id) / clearInterval(id) [${profile}]`,
        input: `id = ${input}`,
        note: "nothing happens",
        why: "README Semantics: clearing unknown, stale, fired ids",
        options: { profile },
        expect: returns(),
        act: (loop) => {
          loop.clearTimeout(value);
          loop.clearInterval(value);
        },
      }),
    ),
  ),
  ...(["html", "node"] as const).flatMap((profile) => [
    {
      call: `clearTimeout(id) [${profile}]`,
      input: "id = a fired timer's id (stale)",
      note: "nothing happens; ids are never reused",
      why: "README Semantics: ids never reused; clearing fired ids",
      options: { profile },
      expect: returns(),
      act: (loop: EventLoop, ctx: Ctx) => {
        const id = timerAt(loop, ctx, 1);
        loop.advance(1);
        loop.clearTimeout(id);
        loop.clearTimeout(id);
      },
      adds: RAN_NOW,
      after: firedAt([1]),
    } satisfies Case,
    {
      call: `clearTimeout(id) [${profile}]`,
      input: "id = a cleared timer's id, twice",
      note: "nothing happens",
      why: "README Semantics: clearing unknown, stale ids",
      options: { profile },
      expect: returns(),
      act: (loop: EventLoop, ctx: Ctx) => {
        const id = timerAt(loop, ctx, 1);
        loop.clearTimeout(id);
        loop.clearTimeout(id);
      },
      after: firedAt([]),
    } satisfies Case,
    {
      call: `clearTimeout(id) [${profile}]`,
      input: "id = an immediate's handle",
      note: "nothing happens: immediates are their own kind",
      why: "README Semantics: immediates (clearTimeout ignores them)",
      options: { profile },
      expect: returns(),
      act: (loop: EventLoop, ctx: Ctx) => {
        const immediate = loop.setImmediate(() => ctx.fired.push(-1));
        loop.clearTimeout(immediate);
        loop.clearInterval(immediate);
      },
      adds: { immediates: 1, refs: 1 },
      after: firedAt([-1]),
    } satisfies Case,
  ]),
  {
    call: "clearTimeout(id) [html]",
    input: 'id = "1" (a numeric string)',
    note: "WebIDL long conversion: clears the timer with id 1",
    why: "HTML clearTimeout(optional long id)",
    expect: returns(),
    act: (_loop, ctx) => {
      const fresh = createEventLoopSync({ module: coreModule, clock: "manual" });
      ctx.created.push(fresh);
      const id = fresh.setTimeout(() => ctx.fired.push(1), 1);
      fresh.clearTimeout(String(id) as any);
      eq(fresh.pending.timers, 0, "timers after clearTimeout(String(id))");
    },
  },
  {
    call: "clearTimeout(id) [html]",
    input: "id = Symbol()",
    note: "WebIDL long conversion throws",
    why: "HTML clearTimeout(optional long id)",
    expect: typeError(/Cannot convert a Symbol value to a number/),
    act: (loop) => loop.clearTimeout(Symbol("s")),
  },
  {
    call: "clearTimeout(id) [html]",
    input: "id = 10n",
    note: "WebIDL long conversion throws (the message names the id)",
    why: "HTML clearTimeout(optional long id)",
    expect: typeError(/Cannot convert a BigInt value to a number \(id 10n\)/),
    act: (loop) => loop.clearTimeout(10n),
  },
  {
    call: "clearTimeout(id) [html]",
    input: "id = object whose valueOf throws",
    note: "WebIDL long conversion: the error propagates",
    why: "HTML clearTimeout(optional long id)",
    expect: throws("Error", Error, /^valueOf threw$/),
    act: (loop) => loop.clearTimeout(valueOfThrows()),
  },
  ...(
    [
      ["Symbol()", () => Symbol("s")],
      ["10n", () => 10n],
      ["object whose valueOf throws", valueOfThrows],
      ['"abc"', () => "abc"],
    ] as Array<[string, () => unknown]>
  ).map(
    ([input, value]): Case => ({
      call: "clearTimeout(id) [node]",
      input: `id = ${input}`,
      note: "nothing happens (not a Timeout, not a known id)",
      why: "Node lib/timers.js clearTimeout",
      options: { profile: "node" },
      expect: returns(),
      act: (loop) => loop.clearTimeout(value()),
    }),
  ),
  {
    call: "clearTimeout(id) [node]",
    input: "id = a Timeout of another loop",
    note: "nothing happens in either loop",
    why: "README Semantics: clearing unknown ids; every loop owns its handles",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      loop.clearTimeout(ctx.foreign.timeout);
      loop.clearInterval(ctx.foreign.timeout);
      eq(ctx.foreign.loop.pending.timers, 1, "the other loop's timers");
    },
  },
  {
    call: "clearTimeout(id) [node]",
    input: "id = +timeout (numeric, after Symbol.toPrimitive)",
    note: "clears it, like Node's knownTimersById",
    why: "README Semantics: return value (node)",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      const timeout = timerAt(loop, ctx, 1) as Timeout;
      loop.clearTimeout(+timeout);
    },
    after: firedAt([]),
  },
  {
    call: "clearTimeout(id) [node]",
    input: "id = a numeric id whose Symbol.toPrimitive was never taken",
    note: "nothing happens (Node: knownTimersById only holds taken ids)",
    why: "Node lib/timers.js clearTimeout",
    options: { profile: "node" },
    expect: returns(),
    act: (_loop, ctx) => {
      const fresh = createEventLoopSync({ module: coreModule, clock: "manual", profile: "node" });
      ctx.created.push(fresh);
      fresh.setTimeout(() => {}, 1); // id 1 in `fresh`, primitive never taken
      fresh.clearTimeout(1);
      eq(fresh.pending.timers, 1, "timers after clearTimeout(1)");
    },
  },
  {
    call: "clearTimeout(id) [html]",
    input: "id = an id of another loop (a number)",
    note: "ids are plain numbers: it clears whatever this loop has under that number, if anything",
    why: "HTML: ids are integers per global; each loop is its own global",
    expect: returns(),
    act: (loop, ctx) => {
      loop.clearTimeout(ctx.foreign.timeout + 1000);
      eq(ctx.foreign.loop.pending.timers, 1, "the other loop's timers");
    },
  },

  // ---- setImmediate / clearImmediate --------------------------------------------------------------
  ...(["html", "node"] as const).flatMap((profile) =>
    (
      [
        ["42", 42],
        ["undefined", undefined],
        ['"code"', "code"],
        ["Symbol()", Symbol("s")],
      ] as Array<[string, unknown]>
    ).map(
      ([input, value]): Case => ({
        call: `setImmediate(callback) [${profile}]`,
        input: `callback = ${input}`,
        note: "must be a function (no string handlers)",
        why: "README Errors; Node lib/timers.js setImmediate",
        options: { profile },
        expect: typeError(
          /^setImmediate: The "callback" argument must be a function\. Received /,
          INVALID_ARG,
        ),
        act: (loop) => loop.setImmediate(value as any),
      }),
    ),
  ),
  ...(["html", "node"] as const).flatMap((profile) =>
    (
      [
        ["undefined", undefined],
        ["0", 0],
        ["-1", -1],
        ["NaN", NaN],
        ["Symbol()", Symbol("s")],
        ["10n", 10n],
        ["object whose valueOf throws", valueOfThrows()],
      ] as Array<[string, unknown]>
    ).map(
      ([input, value]): Case => ({
        call: `clearImmediate(id) [${profile}]`,
        input: `id = ${input}`,
        note: "nothing happens (no conversion)",
        why: "README Semantics: clearing unknown ids",
        options: { profile },
        expect: returns(),
        act: (loop) => loop.clearImmediate(value),
      }),
    ),
  ),
  ...(["html", "node"] as const).flatMap((profile) => [
    {
      call: `clearImmediate(id) [${profile}]`,
      input: "id = a timer's handle",
      note: "nothing happens: the kinds are separate",
      why: "README Semantics: immediates",
      options: { profile },
      expect: returns(),
      act: (loop: EventLoop, ctx: Ctx) => loop.clearImmediate(timerAt(loop, ctx, 1)),
      adds: { timers: 1, refs: 1 },
      after: firedAt([1]),
    } satisfies Case,
    {
      call: `clearImmediate(id) [${profile}]`,
      input: "id = an immediate that already ran",
      note: "nothing happens",
      why: "README Semantics: clearing fired ids",
      options: { profile },
      expect: returns(),
      act: (loop: EventLoop, ctx: Ctx) => {
        const immediate = loop.setImmediate(() => ctx.fired.push(-1));
        loop.runUntilIdle();
        loop.clearImmediate(immediate);
      },
      adds: RAN_NOW,
      after: firedAt([-1]),
    } satisfies Case,
  ]),
  {
    call: "clearImmediate(id) [node]",
    input: "id = an Immediate of another loop",
    note: "nothing happens in either loop",
    why: "README Semantics: clearing unknown ids",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      loop.clearImmediate(ctx.foreign.immediate);
      eq(ctx.foreign.loop.pending.immediates, 1, "the other loop's immediates");
    },
  },

  // ---- queueMicrotask / submit ------------------------------------------------------------------
  ...(
    [
      ["42", 42],
      ["undefined", undefined],
      ['"code"', "code"],
      ["a Promise", Promise.resolve()],
      ["Symbol()", Symbol("s")],
      ["10n", 10n],
    ] as Array<[string, unknown]>
  ).flatMap(([input, value]): Case[] => [
    {
      call: "queueMicrotask(callback)",
      input: `callback = ${input}`,
      note: "must be a function",
      why: "HTML queueMicrotask (TypeError); README Errors",
      expect: typeError(
        /^The "callback" argument must be of type function\. Received /,
        INVALID_ARG,
      ),
      act: (loop) => loop.queueMicrotask(value as any),
    },
    {
      call: "submit(task)",
      input: `task = ${input}`,
      note: "must be a function",
      why: "README Errors",
      expect: typeError(/^The "task" argument must be of type function\. Received /, INVALID_ARG),
      act: (loop) => loop.submit(value as any),
    },
  ]),

  // ---- capacity -------------------------------------------------------------------------------------
  {
    call: "setTimeout / setImmediate at capacity.timers",
    input: "capacity.timers = 4, 4 live (2 sentinels + 2)",
    note: "CapacityError (capacity, limit); nothing changed; works again once work drains",
    why: "README Errors: CapacityError",
    options: { capacity: { timers: 4 } },
    expect: throws(
      "CapacityError",
      CapacityError,
      /^Cannot setTimeout: the loop already holds 4 timers \(capacity\.timers\)\. The loop is unchanged and keeps working\./,
      "ERR_LOOP_CAPACITY",
    ),
    act: (loop, ctx) => {
      loop.setTimeout(() => ctx.fired.push(1), 1);
      return loop.setTimeout(() => ctx.fired.push(2), 2);
    },
    adds: { timers: 1, refs: 1 },
    after: firedAt([1]),
  },
  {
    call: "submit(task) at capacity.tasks",
    input: "capacity.tasks = 1, 1 queued (the sentinel)",
    note: "CapacityError; nothing changed",
    why: "README Errors: CapacityError",
    options: { capacity: { tasks: 1 } },
    expect: throws(
      "CapacityError",
      CapacityError,
      /^Cannot submit a task: the loop already holds 1 tasks \(capacity\.tasks\)\. The loop is unchanged/,
      "ERR_LOOP_CAPACITY",
    ),
    act: (loop) => loop.submit(() => {}),
  },
  {
    call: "queueMicrotask(callback) at capacity.microtasks",
    input: "capacity.microtasks = 1, 1 queued (the sentinel)",
    note: "CapacityError; nothing changed",
    why: "README Errors: CapacityError",
    options: { capacity: { microtasks: 1 } },
    expect: throws(
      "CapacityError",
      CapacityError,
      /^Cannot queue a microtask: the loop already holds 1 microtasks \(capacity\.microtasks\)\. The loop is unchanged/,
      "ERR_LOOP_CAPACITY",
    ),
    act: (loop) => loop.queueMicrotask(() => {}),
  },

  // ---- driving ------------------------------------------------------------------------------------
  ...(
    [
      ["-1", -1],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ['"5"', "5"],
      ["undefined", undefined],
      ["10n", 10n],
      ["Symbol()", Symbol("s")],
      ["{ valueOf: () => 5 }", { valueOf: () => 5 }],
    ] as Array<[string, unknown]>
  ).map(
    ([input, value]): Case => ({
      call: "advance(ms)",
      input: `ms = ${input}`,
      note: "a finite number >= 0; the clock does not move",
      why: "README Virtual time",
      expect: rangeError(/^advance\(ms\): ms must be a finite number >= 0, got /),
      act: (loop) => loop.advance(value as any),
      after: (loop) => eq(loop.now() >= 6, true, "the loop still ran its sentinels"),
    }),
  ),
  {
    call: "advance(ms)",
    input: "ms = -0",
    note: "same as 0",
    why: "-0 >= 0",
    expect: returns((value) => eq(value, 0, "advance(-0)")),
    act: (loop) => loop.advance(-0),
    adds: RAN_NOW,
  },
  {
    call: "advance(ms)",
    input: "ms = 2^53 (beyond the core's clock, 2^62 µs)",
    note: "RangeError: the core's clock ends at 2^62 µs",
    why: "src-zig/time.zig ticks_max; README: a timer never fires early",
    expect: rangeError(/advance/),
    act: (loop) => loop.advance(2 ** 53),
  },
  ...(
    [
      ["advance(ms, options)", (loop: EventLoop, options: any) => loop.advance(1, options)],
      ["runUntilIdle(options)", (loop: EventLoop, options: any) => loop.runUntilIdle(options)],
      ["runAll(options)", (loop: EventLoop, options: any) => loop.runAll(options)],
      ["runToLast(options)", (loop: EventLoop, options: any) => loop.runToLast(options)],
    ] as Array<[string, (loop: EventLoop, options: any) => unknown]>
  ).flatMap(([call, drive]) =>
    (
      [
        ["{ limit: 0 }", { limit: 0 }],
        ["{ limit: NaN }", { limit: NaN }],
        ['{ limit: "5" }', { limit: "5" }],
        ["{ limit: -1 }", { limit: -1 }],
        ["{ limit: 10n }", { limit: 10n }],
        ["{ limit: Symbol() }", { limit: Symbol("s") }],
      ] as Array<[string, unknown]>
    ).map(
      ([input, options]): Case => ({
        call,
        input: `options = ${input}`,
        note: "limit must be a number >= 1; nothing ran",
        why: "README Virtual time (runAll limit)",
        expect: rangeError(/^limit must be a number >= 1, got type/),
        act: (loop) => drive(loop, options),
      }),
    ),
  ),
  {
    call: "runAll(options)",
    input: "options = 42 / null (not an object)",
    note: "the default limit",
    why: "options?.limit",
    expect: returns((value) => eq(value, 6, "runAll(42) time")),
    act: (loop) => loop.runAll(42 as any),
    adds: { timers: -2, tasks: -1, immediates: -1, microtasks: -1, refs: -3 },
  },
  {
    call: "runAll(options)",
    input: "a live interval, { limit: 3 }",
    note: "LoopLimitError after 3 time steps; the loop keeps working",
    why: "README Virtual time: runAll throws LoopLimitError instead of spinning",
    expect: throws(
      "LoopLimitError",
      LoopLimitError,
      /^runAll\(\) stopped after 3 rounds and the loop still has work \(3 timers still pending at 3 ms\)\. Something keeps scheduling new work; raise \{ limit \}/,
      "ERR_LOOP_LIMIT",
    ),
    act: (loop, ctx) => {
      const interval = loop.setInterval(() => {
        ctx.fired.push(loop.now());
        if (ctx.fired.length === 10) loop.clearInterval(interval);
      }, 1);
      return loop.runAll({ limit: 3 });
    },
    adds: { timers: 1, tasks: -1, immediates: -1, microtasks: -1, refs: 0 },
    // html: the interval's nesting level passes 5 after 6 beats, then it is clamped to 4 ms
    after: firedAt([1, 2, 3, 4, 5, 6, 10, 14, 18, 22]),
  },
  {
    call: "runUntilIdle(options)",
    input: "a task that re-submits itself, { limit: 5 }",
    note: "LoopLimitError after 5 turns",
    why: "README Errors: LoopLimitError",
    expect: throws(
      "LoopLimitError",
      LoopLimitError,
      /^runUntilIdle\(\) stopped after 5 rounds and the loop still has work \(5 turns at 0 ms without time moving: 1 tasks, 0 immediates, 0 microtasks, 2 timers pending\)/,
      "ERR_LOOP_LIMIT",
    ),
    act: (loop, ctx) => {
      const again = () => {
        ctx.fired.push(loop.now());
        if (ctx.fired.length < 8) loop.submit(again);
      };
      loop.submit(again);
      return loop.runUntilIdle({ limit: 5 });
    },
    adds: { tasks: 0, immediates: -1, microtasks: -1, refs: -1 },
    after: firedAt([0, 0, 0, 0, 0, 0, 0, 0]),
  },
  ...(
    [
      ["advance(ms)", (loop: EventLoop) => loop.advance(1), /^advance\(\) needs a manual clock/],
      ["next()", (loop: EventLoop) => loop.next(), /^next\(\) needs a manual clock/],
      ["runAll()", (loop: EventLoop) => loop.runAll(), /^runAll\(\) needs a manual clock/],
      ["runToLast()", (loop: EventLoop) => loop.runToLast(), /^runToLast\(\) needs a manual clock/],
    ] as Array<[string, (loop: EventLoop) => unknown, RegExp]>
  ).map(
    ([call, act, message]): Case => ({
      call,
      input: "a real-clock loop",
      note: 'ClockModeError: create the loop with { clock: "manual" }',
      why: "README Errors: ClockModeError",
      options: { clock: "real" },
      expect: throws("ClockModeError", ClockModeError, message, "ERR_LOOP_CLOCK_MODE"),
      act,
    }),
  ),
  {
    call: "runUntilIdle()",
    input: "a real-clock loop",
    note: "allowed: runs what is runnable now",
    why: "README Virtual time: runUntilIdle",
    options: { clock: "real" },
    expect: returns(),
    act: (loop) => loop.runUntilIdle(),
    adds: { tasks: -1, immediates: -1, microtasks: -1, refs: -1 },
  },
  ...(
    [
      [
        "run()",
        (loop: EventLoop) => loop.run(),
        "rejects",
        /^Cannot await loop\.run\(\) from inside a callback of the same loop: it would wait for itself/,
      ],
      [
        "runUntilIdle()",
        (loop: EventLoop) => loop.runUntilIdle(),
        "throws",
        /^Cannot runUntilIdle\(\) from inside a callback of the same loop/,
      ],
      [
        "advance(ms)",
        (loop: EventLoop) => loop.advance(1),
        "throws",
        /^Cannot advance\(\) from inside a callback of the same loop/,
      ],
      [
        "next()",
        (loop: EventLoop) => loop.next(),
        "throws",
        /^Cannot next\(\) from inside a callback of the same loop/,
      ],
      [
        "runAll()",
        (loop: EventLoop) => loop.runAll(),
        "throws",
        /^Cannot runAll\(\) from inside a callback of the same loop/,
      ],
      [
        "runToLast()",
        (loop: EventLoop) => loop.runToLast(),
        "throws",
        /^Cannot runToLast\(\) from inside a callback of the same loop/,
      ],
    ] as Array<[string, (loop: EventLoop) => unknown, "throws" | "rejects", RegExp]>
  ).map(
    ([call, act, how, message]): Case => ({
      call,
      input: "called from inside one of the loop's callbacks",
      note: `ReentrancyError (${how === "rejects" ? "as a rejection" : "thrown"}) instead of a deadlock; the turn goes on`,
      why: "README Lifecycle; semantics.md Re-entrancy",
      mode: "inside",
      expect: (how === "rejects" ? rejects : throws)(
        "ReentrancyError",
        ReentrancyError,
        message,
        "ERR_LOOP_REENTRANT",
      ),
      act,
    }),
  ),

  // ---- lifecycle ----------------------------------------------------------------------------------
  {
    call: "shutdown()",
    input: "called from inside a callback",
    note: "allowed: resolves after the callback returns; the rest of the turn runs, timers are cancelled",
    why: "README Lifecycle (graceful shutdown)",
    mode: "inside",
    ends: "shutdown",
    expect: returns(async (promise: Promise<any>) => {
      const report = await promise;
      eq(report, { cancelledTimers: 2, ranTasks: 2, rejectedPromises: 1 }, "shutdown report");
    }),
    act: (loop) => loop.shutdown(),
  },
  {
    call: "shutdown(options)",
    input: 'options = 42 / null / { graceful: "no" }',
    note: "graceful (only graceful: false means close())",
    why: "README Lifecycle",
    ends: "shutdown",
    expect: returns(async (promise: Promise<any>) => {
      eq(
        await promise,
        { cancelledTimers: 2, ranTasks: 2, rejectedPromises: 1 },
        "shutdown report",
      );
    }),
    act: (loop) => loop.shutdown(42 as any),
    adds: { timers: -2, refs: -2 },
  },
  {
    call: "shutdown(options)",
    input: "options = { graceful: false }",
    note: "close(): timers cancelled, queued work dropped and counted",
    why: "README Lifecycle: `{ graceful: false }` is close()",
    ends: "close",
    expect: returns(async (promise: Promise<any>) => {
      eq(
        await promise,
        { cancelledTimers: 2, ranTasks: 0, rejectedPromises: 0 },
        "shutdown report",
      );
    }),
    act: (loop) => loop.shutdown({ graceful: false }),
    adds: { timers: -2, immediates: -1, tasks: -1, microtasks: -1, refs: -3 },
  },
  {
    call: "runAll(options) / advance(ms, options)",
    input: "options = { limit: Infinity }",
    note: "accepted: no limit",
    why: "README Virtual time (limit >= 1)",
    expect: returns((value) => eq(value, 6, "runAll time")),
    act: (loop) => loop.runAll({ limit: Infinity }),
    adds: { timers: -2, tasks: -1, immediates: -1, microtasks: -1, refs: -3 },
  },
  {
    call: "shutdown()",
    input: "called twice",
    note: "the same promise",
    why: "README Lifecycle",
    mode: "stopping",
    expect: returns((value, ctx) =>
      eq(value === (ctx as any).shutdownPromise, true, "the same promise"),
    ),
    act: (loop) => loop.shutdown(),
  },
  {
    call: "close()",
    input: "called from inside a callback",
    note: "stops at once; later callbacks of the turn do not run; the report counts them",
    why: "README Lifecycle: close()",
    mode: "inside",
    ends: "close",
    expect: returns((report) =>
      eq(report, { cancelledTimers: 2, droppedTasks: 2, droppedMicrotasks: 0 }, "close report"),
    ),
    act: (loop) => loop.close(),
  },
  ...(
    [
      ["setTimeout(fn, ms)", "setTimeout", (loop: EventLoop) => loop.setTimeout(() => {}, 1)],
      ["setInterval(fn, ms)", "setInterval", (loop: EventLoop) => loop.setInterval(() => {}, 1)],
      ["setImmediate(fn)", "setImmediate", (loop: EventLoop) => loop.setImmediate(() => {})],
      ["submit(fn)", "submit a task", (loop: EventLoop) => loop.submit(() => {})],
    ] as Array<[string, string, (loop: EventLoop) => unknown]>
  ).flatMap(([call, action, act]): Case[] => [
    {
      call,
      input: "after close()",
      note: "LoopClosedError",
      why: "README Lifecycle: afterwards scheduling throws LoopClosedError",
      mode: "closed",
      expect: throws(
        "LoopClosedError",
        LoopClosedError,
        new RegExp(`^Cannot ${action}: the loop is closed\\.$`),
        "ERR_LOOP_CLOSED",
      ),
      act,
    },
    {
      call,
      input: "during a graceful shutdown",
      note: "LoopShuttingDownError",
      why: "README Lifecycle: shutdown refuses new work",
      mode: "stopping",
      expect: throws(
        "LoopShuttingDownError",
        LoopShuttingDownError,
        new RegExp(`^Cannot ${action}: the loop is shutting down and accepts no new work\\.$`),
        "ERR_LOOP_SHUTTING_DOWN",
      ),
      act,
    },
  ]),
  {
    call: "queueMicrotask(fn)",
    input: "after close()",
    note: "LoopClosedError",
    why: "README Lifecycle",
    mode: "closed",
    expect: throws(
      "LoopClosedError",
      LoopClosedError,
      /^Cannot queue a microtask: the loop is closed\.$/,
      "ERR_LOOP_CLOSED",
    ),
    act: (loop) => loop.queueMicrotask(() => {}),
  },
  {
    call: "queueMicrotask(fn)",
    input: "during a graceful shutdown",
    note: "allowed: it runs before the loop closes",
    why: "README Lifecycle: shutdown runs the microtasks already queued",
    mode: "stopping",
    expect: returns(),
    act: (loop, ctx) => loop.queueMicrotask(() => ctx.fired.push(-1)),
    adds: { microtasks: 1 },
    after: firedAt([-1]),
  },
  ...(
    [
      [
        "run()",
        (loop: EventLoop) => loop.run(),
        "rejects",
        /^Cannot run the loop: the loop is closed\.$/,
      ],
      [
        "runUntilIdle()",
        (loop: EventLoop) => loop.runUntilIdle(),
        "throws",
        /^Cannot runUntilIdle\(\): the loop is closed\.$/,
      ],
      [
        "advance(ms)",
        (loop: EventLoop) => loop.advance(1),
        "throws",
        /^Cannot advance\(\): the loop is closed\.$/,
      ],
      [
        "next()",
        (loop: EventLoop) => loop.next(),
        "throws",
        /^Cannot next\(\): the loop is closed\.$/,
      ],
      [
        "runAll()",
        (loop: EventLoop) => loop.runAll(),
        "throws",
        /^Cannot runAll\(\): the loop is closed\.$/,
      ],
      [
        "runToLast()",
        (loop: EventLoop) => loop.runToLast(),
        "throws",
        /^Cannot runToLast\(\): the loop is closed\.$/,
      ],
    ] as Array<[string, (loop: EventLoop) => unknown, "throws" | "rejects", RegExp]>
  ).map(
    ([call, act, how, message]): Case => ({
      call,
      input: "after close()",
      note: how === "rejects" ? "rejects with LoopClosedError" : "LoopClosedError",
      why: "README Lifecycle",
      mode: "closed",
      expect: (how === "rejects" ? rejects : throws)(
        "LoopClosedError",
        LoopClosedError,
        message,
        "ERR_LOOP_CLOSED",
      ),
      act,
    }),
  ),
  {
    call: "clearTimeout / clearInterval / clearImmediate",
    input: "after close()",
    note: "silent no-op",
    why: "README Lifecycle: clearing is a silent no-op",
    mode: "closed",
    expect: returns(),
    act: (loop) => {
      loop.clearTimeout(1);
      loop.clearInterval(2);
      loop.clearImmediate(3);
    },
  },
  {
    call: "close() / shutdown()",
    input: "after close(), again",
    note: "idempotent: the same close report; shutdown resolves with zeros",
    why: "README Lifecycle",
    mode: "closed",
    expect: returns(async (value: any) => {
      eq(
        value.close,
        { cancelledTimers: 2, droppedTasks: 2, droppedMicrotasks: 1 },
        "close() again",
      );
      eq(
        await value.shutdown,
        { cancelledTimers: 0, ranTasks: 0, rejectedPromises: 0 },
        "shutdown() after close",
      );
    }),
    act: (loop) => ({ close: loop.close(), shutdown: loop.shutdown() }),
  },
  {
    call: "loop.Promise",
    input: "resolve / then after close()",
    note: "still settles; reactions run on the host's microtask queue",
    why: "README Lifecycle: loop promises still settle",
    mode: "closed",
    expect: returns(async (promise: Promise<unknown>) => eq(await promise, 2, "value")),
    act: (loop) => loop.Promise.resolve(1).then((v: number) => v + 1),
  },
  {
    call: "metrics() / resetMetrics() / verifyCore() / now()",
    input: "after close()",
    note: "still answer (resetMetrics is a no-op)",
    why: "event_loop.ts",
    mode: "closed",
    expect: returns((value) => eq(value, 0, "verifyCore()")),
    act: (loop) => {
      loop.metrics();
      loop.resetMetrics();
      loop.now();
      return loop.verifyCore();
    },
  },
  {
    call: "coreStat(stat)",
    input: "stat = Symbol()",
    note: "the engine's TypeError from the WebAssembly boundary (ToInt32)",
    why: "a test/diagnostic hook taking a Stat",
    expect: typeError(/Cannot convert a Symbol value to a number/),
    act: (loop) => loop.coreStat(Symbol("s") as any),
  },
  {
    call: "coreStat(stat)",
    input: "stat = 99 / -1 (not a Stat)",
    note: "NaN",
    why: "src-zig/abi.zig zl_stat",
    expect: returns((value) => eq(Number.isNaN(value), true, "coreStat(99) is NaN")),
    act: (loop) => loop.coreStat(99),
  },

  // ---- installGlobals -------------------------------------------------------------------------------
  ...(
    [
      ["null", null],
      ["42", 42],
      ['"x"', "x"],
    ] as Array<[string, unknown]>
  ).map(
    ([input, value]): Case => ({
      call: "installGlobals(target)",
      input: `target = ${input}`,
      note: "an object (a global)",
      why: "README Use it: installGlobals",
      expect: typeError(
        /^The "target" argument must be an object \(a global\)\. Received /,
        INVALID_ARG,
      ),
      act: (loop) => loop.installGlobals(value as any),
    }),
  ),
  {
    call: "installGlobals(target)",
    input: "target = a frozen object",
    note: "the engine's TypeError; nothing installed",
    why: "Object.defineProperty on a non-extensible object",
    expect: typeError(/Cannot define property setTimeout, object is not extensible/),
    act: (loop) => loop.installGlobals(Object.freeze({})),
  },
  {
    call: "installGlobals(target)",
    input: "target with a non-configurable setImmediate",
    note: "TypeError, and the target is left as it was",
    why: "README: installGlobals returns a disposer that restores the originals",
    expect: typeError(/Cannot redefine property: setImmediate/),
    act: (loop) => {
      const target: Record<string, unknown> = {};
      Object.defineProperty(target, "setImmediate", { value: 1, configurable: false });
      try {
        loop.installGlobals(target);
      } finally {
        eq(Object.getOwnPropertyNames(target), ["setImmediate"], "properties left on the target");
      }
    },
  },
  {
    call: "installGlobals(target, options)",
    input: "disposer called twice",
    note: "restores once; the second call does nothing",
    why: "README Use it: installGlobals",
    expect: returns(),
    act: (loop) => {
      const target: Record<string, unknown> = { setTimeout: "original" };
      const dispose = loop.installGlobals(target, { promise: true });
      dispose();
      target.setTimeout = "changed later";
      dispose();
      eq(target.setTimeout, "changed later", "setTimeout after the second dispose");
    },
  },

  // ---- Timeout / Immediate (node profile) --------------------------------------------------------------
  {
    call: "Timeout#refresh()",
    input: "a cleared timer",
    note: "no-op (Node: _onTimeout is null)",
    why: "Node lib/internal/timers.js refresh",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      const timeout = timerAt(loop, ctx, 1) as Timeout;
      timeout.close();
      timeout.refresh();
    },
    after: firedAt([]),
  },
  {
    call: "Timeout#refresh()",
    input: "a timer that already fired",
    note: "revives it (Node does the same)",
    why: "README Semantics: return value (node)",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      const timeout = timerAt(loop, ctx, 1) as Timeout;
      loop.advance(1);
      timeout.refresh();
    },
    adds: { timers: 1, tasks: -1, immediates: -1, microtasks: -1, refs: 0 },
    after: firedAt([1, 2]),
  },
  {
    call: "Timeout#refresh()",
    input: "a fired timer, during a graceful shutdown",
    note: "LoopShuttingDownError",
    why: "README Lifecycle: shutdown refuses new work",
    options: { profile: "node" },
    mode: "stopping",
    expect: throws(
      "LoopShuttingDownError",
      LoopShuttingDownError,
      /^Cannot refresh a timer: the loop is shutting down/,
      "ERR_LOOP_SHUTTING_DOWN",
    ),
    act: (_loop, ctx) => (ctx as any).firedTimeout.refresh(),
  },
  {
    call: "Timeout#ref/unref/hasRef/refresh/close, Symbol.toPrimitive, Symbol.dispose",
    input: "after close()",
    note: "no-ops (the flags still change; nothing is scheduled)",
    why: "README Lifecycle",
    options: { profile: "node" },
    mode: "closed",
    expect: returns(),
    act: (_loop, ctx) => {
      const timeout = (ctx as any).closedTimeout as Timeout;
      eq(timeout.unref().hasRef(), false, "hasRef after unref");
      timeout.ref().refresh().close();
      Number(timeout);
      (timeout as any)[(Symbol as any).dispose ?? Symbol.for("Symbol.dispose")]();
    },
  },
  {
    call: "Immediate#ref/unref/hasRef, Symbol.dispose",
    input: "an immediate that already ran / after close()",
    note: "no-ops",
    why: "Node lib/timers.js Immediate",
    options: { profile: "node" },
    expect: returns(),
    act: (loop, ctx) => {
      const immediate = loop.setImmediate(() => ctx.fired.push(-1)) as Immediate;
      loop.runUntilIdle();
      immediate.unref().ref();
      (immediate as any)[(Symbol as any).dispose ?? Symbol.for("Symbol.dispose")]();
    },
    adds: RAN_NOW,
    after: firedAt([-1]),
  },
  {
    call: "Timeout#ref() / refresh() …",
    input: "called on a foreign object (Timeout.prototype.ref.call({}))",
    note: "the engine's TypeError",
    why: "methods of an internal class",
    options: { profile: "node" },
    expect: typeError(/Cannot read properties of undefined \(reading 'handleSetRef'\)/),
    act: () => (Timeout.prototype.ref as any).call({}),
  },
  {
    call: "loop.setTimeout / loop.clearTimeout … (unbound)",
    input: "const { setTimeout } = loop; setTimeout(fn)",
    note: "the engine's TypeError (private members need the loop as `this`); use installGlobals for free functions",
    why: "methods of EventLoop (#private fields)",
    expect: typeError(/./),
    act: (loop) => {
      const { setTimeout } = loop;
      return (setTimeout as any)(() => {}, 1);
    },
  },

  // ---- loop.Promise -------------------------------------------------------------------------------
  {
    call: "new loop.Promise(executor)",
    input: "executor = 42",
    note: "TypeError",
    why: "ECMA-262 §27.2.3.1 step 2",
    expect: typeError(/^Promise resolver is not a function: got type number \(42\)$/),
    act: (loop) => new (loop.Promise as any)(42),
  },
  {
    call: "loop.Promise(executor)",
    input: "called without new",
    note: "TypeError",
    why: "ECMA-262 §27.2.3.1 step 1",
    expect: typeError(/cannot be invoked without 'new'/),
    act: (loop) => (loop.Promise as any)(() => {}),
  },
  {
    call: "new loop.Promise(executor)",
    input: "executor throws",
    note: "the promise rejects with the error",
    why: "ECMA-262 §27.2.3.1 step 10",
    expect: rejects("Error", Error, /^executor threw$/),
    act: (loop) =>
      new loop.Promise(() => {
        throw new Error("executor threw");
      }),
  },
  {
    call: "loop.Promise.resolve(thenable)",
    input: "thenable whose `then` getter throws",
    note: "the promise rejects with the error",
    why: "ECMA-262 §27.2.1.3.2 step 9",
    expect: rejects("Error", Error, /^getter threw$/),
    act: (loop) =>
      loop.Promise.resolve({
        get then() {
          throw new Error("getter threw");
        },
      }),
  },
  {
    call: "loop.Promise.resolve(thenable)",
    input: "thenable whose `then` throws",
    note: "the promise rejects with the error (from a job)",
    why: "ECMA-262 §27.2.2.2 NewPromiseResolveThenableJob",
    expect: rejects("Error", Error, /^then threw$/),
    adds: { microtasks: 1 },
    act: (loop) =>
      loop.Promise.resolve({
        then() {
          throw new Error("then threw");
        },
      }),
  },
  {
    call: "resolve(p) of withResolvers",
    input: "p itself",
    note: "rejects with a TypeError",
    why: "ECMA-262 §27.2.1.3.2 step 7",
    expect: rejects(
      "TypeError",
      TypeError,
      /^Chaining cycle detected: a promise cannot be resolved with itself$/,
    ),
    act: (loop) => {
      const { promise, resolve } = loop.Promise.withResolvers<unknown>();
      resolve(promise);
      return promise;
    },
  },
  ...(
    [
      ["all", "42"],
      ["allSettled", "null"],
      ["any", "undefined"],
      ["race", "{}"],
    ] as Array<["all" | "allSettled" | "any" | "race", string]>
  ).map(
    ([method, input]): Case => ({
      call: `loop.Promise.${method}(iterable)`,
      input: `iterable = ${input}`,
      note: "rejects with the engine's TypeError (not iterable)",
      why: "ECMA-262 §27.2.4 (GetIterator)",
      expect: rejects("TypeError", TypeError, /is not iterable/),
      act: (loop) =>
        (loop.Promise as any)[method](
          input === "42" ? 42 : input === "null" ? null : input === "{}" ? {} : undefined,
        ),
    }),
  ),
  {
    call: "loop.Promise.all(iterable)",
    input: "an iterator whose next() throws",
    note: "rejects with the error",
    why: "ECMA-262 §27.2.4.1 (IfAbruptRejectPromise)",
    expect: rejects("Error", Error, /^next threw$/),
    act: (loop) =>
      loop.Promise.all({
        [Symbol.iterator]: () => ({
          next: () => {
            throw new Error("next threw");
          },
        }),
      } as any),
  },
  {
    call: "loop.Promise.any(iterable)",
    input: "iterable = []",
    note: "rejects with an AggregateError",
    why: "ECMA-262 §27.2.4.3",
    expect: rejects("AggregateError", AggregateError, /^All promises were rejected$/),
    act: (loop) => loop.Promise.any([]),
  },
  {
    call: "loop.Promise.try(fn)",
    input: "fn = 42",
    note: "rejects with a TypeError",
    why: "ES2025 Promise.try",
    expect: rejects(
      "TypeError",
      TypeError,
      /^Promise\.try callback is not a function: got type number \(42\)$/,
    ),
    act: (loop) => (loop.Promise as any).try(42),
  },
  ...(
    [
      [
        "loop.Promise.resolve.call(42)",
        (P: any) => P.resolve.call(42, 1),
        /^Promise\.resolve called on a non-object: got type number \(42\)$/,
      ],
      [
        "loop.Promise.reject.call(42)",
        (P: any) => P.reject.call(42, 1),
        /^Cannot create a promise capability: the constructor is not a constructor: got type number \(42\)$/,
      ],
      [
        "loop.Promise.all.call(42, [])",
        (P: any) => P.all.call(42, []),
        /^Cannot create a promise capability: the constructor is not a constructor: got type number \(42\)$/,
      ],
      [
        "loop.Promise.withResolvers.call({})",
        (P: any) => P.withResolvers.call({}),
        /^Cannot create a promise capability: the constructor is not a constructor: got an instance of Object$/,
      ],
      [
        "loop.Promise.prototype.then.call({})",
        (P: any) => P.prototype.then.call({}, () => {}),
        /^Promise\.prototype\.then called on an incompatible receiver: got an instance of Object$/,
      ],
      [
        "loop.Promise.prototype.finally.call(42)",
        (P: any) => P.prototype.finally.call(42),
        /^Promise\.prototype\.finally called on a non-object: got type number \(42\)$/,
      ],
    ] as Array<[string, (P: any) => unknown, RegExp]>
  ).map(
    ([call, act, message]): Case => ({
      call,
      input: "a wrong `this`",
      note: "TypeError (thrown)",
      why: "ECMA-262 §27.2 (NewPromiseCapability, then's receiver check)",
      expect: typeError(message),
      act: (loop) => act(loop.Promise),
    }),
  ),

  // ---- metrics --------------------------------------------------------------------------------------
  {
    call: "formatMetrics(metrics)",
    input: "metrics = null",
    note: "the engine's TypeError",
    why: "loop/metrics.ts formatMetrics takes a LoopMetrics",
    expect: typeError(/Cannot read properties of null/),
    act: () => formatMetrics(null as any),
  },
  {
    call: "metrics()",
    input: "a loop created without metrics",
    note: "counts and queue depths only; latency histograms empty",
    why: "README / EventLoop.metrics",
    expect: returns((value) => eq(typeof value.tasksExecuted, "number", "tasksExecuted")),
    act: (loop) => loop.metrics(),
  },
];

/** The base class a name must also be an instance of (README Errors). */
export const BASES: Record<string, Function> = {
  CapacityError: RangeError,
  LoopLimitError: RangeError,
  ClockModeError: TypeError,
  CoreMismatchError: TypeError,
  LoopClosedError: LoopStateError,
  LoopShuttingDownError: LoopStateError,
  ReentrancyError: LoopStateError,
};
