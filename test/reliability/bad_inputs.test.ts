/// <reference types="node" />
/**
 * Runs every row of the bad-input table (bad_inputs.cases.ts) and checks that
 * docs/BAD_INPUTS.md is exactly the rendering of those rows (with the messages the
 * tests observed). Regenerate the document after changing rows:
 *
 *   UPDATE_BAD_INPUTS=1 npx vitest run test/reliability/bad_inputs.test.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import type { EventLoop } from "../../src-ts/node.ts";
import { collectingLoop, macrotask, makeLoop } from "./_helpers.ts";
import { BASES, CASES, type Case, type Ctx, type Pending } from "./bad_inputs.cases.ts";

const DOC = new URL("../../docs/BAD_INPUTS.md", import.meta.url);

/** The messages the tests observed, by row index (shown in the document). */
const observed = new Map<number, string>();
let rowsRun = 0;

/** Unrelated work scheduled before every bad call; all of it must still run afterwards. */
function addSentinels(loop: EventLoop, log: string[]): { timer: unknown } {
  // On a real clock the timers must not fall due while a row runs on a busy machine.
  const delay = loop.manualClock ? 5 : 250;
  const timer = loop.setTimeout(() => log.push("timer"), delay);
  loop.submit(() => log.push("task"));
  loop.setImmediate(() => log.push("immediate"));
  loop.queueMicrotask(() => log.push("micro"));
  const { promise, resolve } = loop.Promise.withResolvers<string>();
  promise.then(
    (value) => log.push(`promise:${value}`),
    (error: Error) => log.push(`promise-rejected:${error?.name}`),
  );
  loop.setTimeout(() => resolve("ok"), delay + 1);
  return { timer };
}

const ALL_SENTINELS = ["immediate", "micro", "promise:ok", "task", "timer"];
const SHUTDOWN_SENTINELS = ["immediate", "micro", "promise-rejected:TerminationError", "task"];

function sorted(log: string[]): string[] {
  return [...log].sort();
}

function plus(a: Pending, b: Partial<Pending> | undefined): Pending {
  const out = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) out[k as keyof Pending] += v as number;
  return out;
}

async function drive(loop: EventLoop): Promise<void> {
  if (loop.state === "closed") return;
  if (loop.manualClock) loop.runAll({ limit: 10_000 });
  else await loop.run();
}

/** Checks a thrown or rejected error against the row; returns its message. */
function checkError(row: Case, error: unknown): string {
  const e = row.expect as Extract<Case["expect"], { name: string }>;
  expect(error, `expected ${e.name}, got no error object`).toBeInstanceOf(Error);
  const err = error as Error & { code?: string };
  expect(err.name).toBe(e.name);
  expect(err).toBeInstanceOf(e.base);
  const base = BASES[e.name];
  if (base) expect(err).toBeInstanceOf(base);
  if (e.code !== undefined) expect(err.code).toBe(e.code);
  expect(err.message).toMatch(e.message);
  return err.message;
}

/** Runs one row: the bad call, its outcome, consistency, and that no other work was lost. */
async function runRow(row: Case, index: number): Promise<void> {
  const mode = row.mode ?? "loop";
  const profile = row.options?.profile ?? "html";
  // A bystander loop: other loops keep running whatever happens to this one.
  const bystanderLog: string[] = [];
  const bystander = makeLoop({ profile });
  addSentinels(bystander, bystanderLog);

  const foreignLoop = makeLoop({ profile });
  const ctx: Ctx & Record<string, unknown> = {
    fired: [],
    errors: [],
    warnings: [],
    foreign: {
      timeout: foreignLoop.setTimeout(() => {}, 5),
      immediate: foreignLoop.setImmediate(() => {}),
      loop: foreignLoop,
    },
    created: [],
  };

  const log: string[] = [];
  let loop: EventLoop | undefined;
  if (mode !== "create") {
    const made = collectingLoop({ ...row.options });
    loop = made.loop;
    ctx.errors = made.errors;
    ctx.warnings = made.warnings;
    if (mode === "stopping") {
      ctx.firedTimeout = loop.setTimeout(() => {}, 1);
      loop.advance(1);
    }
    const { timer } = addSentinels(loop, log);
    if (mode === "closed") {
      ctx.closedTimeout = timer;
      expect(loop.close()).toEqual({ cancelledTimers: 2, droppedTasks: 2, droppedMicrotasks: 1 });
    }
    if (mode === "stopping") ctx.shutdownPromise = loop.shutdown();
  }
  const target = mode === "create" ? bystander : loop!;
  const before = target.pending;

  // The bad call.
  let threw = false;
  let thrown: unknown;
  let value: unknown;
  // Synchronous (no await between the call and the checks: a host microtask could run the
  // loop meanwhile), except that a create row may return a promise (createEventLoop).
  const call = (): void => {
    try {
      value = row.act(loop!, ctx);
      // run() from inside a callback returns a rejected native promise: observed below,
      // so not an unhandled rejection meanwhile.
      if (mode === "inside" && value instanceof Promise) value.catch(() => undefined);
    } catch (error) {
      threw = true;
      thrown = error;
    }
  };
  if (mode === "inside") {
    loop!.setTimeout(call, 0);
  } else {
    call();
    let awaited = false;
    if (mode === "create" && value instanceof Promise) {
      awaited = true;
      try {
        value = await value;
      } catch (error) {
        threw = true;
        thrown = error;
      }
    }
    // Consistency right after the call. Microtasks are not time: across an await, the
    // host ran the sentinel microtask (queued outside any drive) on its own.
    expect(target.verifyCore()).toBe(0);
    const expected = plus(before, row.adds);
    if (awaited) expected.microtasks = 0;
    expect(target.pending).toEqual(expected);
    for (const created of ctx.created) expect(created.verifyCore()).toBe(0);
  }
  let rejection: { settled: boolean; ok?: boolean; value?: unknown } = { settled: false };
  if (row.expect.kind === "rejects" && mode !== "inside" && !threw) {
    (value as PromiseLike<unknown>).then(
      (v) => (rejection = { settled: true, ok: true, value: v }),
      (e) => (rejection = { settled: true, ok: false, value: e }),
    );
  }

  // Drive everything (the sentinels), unless the call ended the loop.
  if (loop && (mode === "inside" || (row.ends === undefined && mode === "loop"))) await drive(loop);
  if (mode === "inside") {
    await macrotask();
    if (row.expect.kind === "rejects" && !threw) {
      (value as PromiseLike<unknown>).then(
        (v) => (rejection = { settled: true, ok: true, value: v }),
        (e) => (rejection = { settled: true, ok: false, value: e }),
      );
      await macrotask();
    }
  }

  // The outcome.
  switch (row.expect.kind) {
    case "throws":
      expect(threw, `expected ${row.expect.name} to be thrown`).toBe(true);
      observed.set(index, checkError(row, thrown));
      break;
    case "rejects":
      expect(threw, `expected a rejection, got a synchronous ${String(thrown)}`).toBe(false);
      await macrotask();
      expect(rejection.settled, "the promise settled").toBe(true);
      expect(rejection.ok, "the promise rejected").toBe(false);
      observed.set(index, checkError(row, rejection.value));
      break;
    case "returns":
      if (threw) throw thrown;
      await row.expect.check?.(value, ctx);
      break;
  }

  // The loop ended as the row says, and nothing else was lost.
  if (loop) {
    if (mode === "stopping") {
      expect(await (ctx.shutdownPromise as Promise<unknown>)).toEqual({
        cancelledTimers: 2,
        ranTasks: 2,
        rejectedPromises: 1,
      });
      expect(sorted(log)).toEqual(SHUTDOWN_SENTINELS);
    } else if (mode === "closed") {
      expect(log).toEqual([]); // dropped by close(), and counted in its report (checked above)
    } else if (row.ends === "shutdown") {
      expect(sorted(log)).toEqual(SHUTDOWN_SENTINELS);
    } else if (row.ends === "close") {
      // inside a callback: the drive had run the microtask first; otherwise nothing ran
      expect(log).toEqual(mode === "inside" ? ["micro"] : []);
    } else {
      await drive(loop); // whatever the row's call left queued
      expect(sorted(log)).toEqual(ALL_SENTINELS);
    }
    await macrotask();
    expect(loop.verifyCore()).toBe(0);
    row.after?.(loop, ctx);
    expect(ctx.errors, "errors reported to onError").toHaveLength(row.reported ?? 0);
    if (loop.state !== "closed") {
      const left = loop.pending;
      expect(left.tasks + left.immediates + left.microtasks).toBe(0);
    }
  }
  // Other loops were not affected.
  bystander.runAll();
  expect(sorted(bystanderLog)).toEqual(ALL_SENTINELS);
  expect(bystander.verifyCore()).toBe(0);
  expect(foreignLoop.pending.timers + foreignLoop.pending.immediates).toBe(2);
  for (const l of [bystander, foreignLoop, loop, ...ctx.created])
    if (l && l.state !== "closed") l.close();
  rowsRun++;
}

describe("bad inputs (docs/BAD_INPUTS.md, README)", () => {
  CASES.forEach((row, index) => {
    const name = `#${index + 1} ${row.call} — ${row.input}`;
    // BAD_INPUTS_SHOW_BUGS=1 runs the open-bug rows as plain tests, to see how they fail today.
    if (row.bug !== undefined && !process.env.BAD_INPUTS_SHOW_BUGS)
      test.fails(`${name} [BUG: ${row.bug}]`, () => runRow(row, index));
    else test(name, () => runRow(row, index));
  });

  test("docs/BAD_INPUTS.md and the README's table are the rendering of these rows", () => {
    const expected = CASES.filter((row) => row.bug === undefined).length;
    if (rowsRun < expected) return; // a filtered run (-t): not every message was observed
    const hint =
      "stale: run UPDATE_BAD_INPUTS=1 npx vitest run test/reliability/bad_inputs.test.ts";
    const text = renderDocument();
    if (process.env.UPDATE_BAD_INPUTS) writeFileSync(DOC, text);
    expect(readOr(DOC), `docs/BAD_INPUTS.md is ${hint}`).toBe(text);
    // The README carries the same table between its markers.
    const readme = readOr(README);
    const begin = readme.indexOf(README_BEGIN);
    const end = readme.indexOf(README_END);
    expect(
      begin >= 0 && end > begin,
      `README.md needs the markers ${README_BEGIN} ... ${README_END}`,
    ).toBe(true);
    const section = `${README_BEGIN}\n${renderTable().join("\n")}\n${README_END}`;
    const updated = readme.slice(0, begin) + section + readme.slice(end + README_END.length);
    if (process.env.UPDATE_BAD_INPUTS) writeFileSync(README, updated);
    expect(readOr(README), `the README's bad-input table is ${hint}`).toBe(updated);
  });
});

afterAll(() => {
  const bugs = CASES.filter((row) => row.bug !== undefined).length;
  console.log(
    `[bad inputs] ${CASES.length} rows (${bugs} documenting open bugs), ${rowsRun} passed with sentinel work intact`,
  );
});

// ---- the document ------------------------------------------------------------------------------

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function outcome(row: Case, index: number): string {
  const e = row.expect;
  let text: string;
  if (e.kind === "returns") {
    text = `no error — ${row.note}`;
  } else {
    const code = e.code ? ` \`${e.code}\`` : "";
    text = `${e.kind === "rejects" ? "rejects with" : "throws"} **${e.name}**${code} — ${row.note}`;
    const message = observed.get(index);
    if (message !== undefined && e.message.source.startsWith("^")) {
      const short = message.length > 170 ? `${message.slice(0, 167)}...` : message;
      text += `: “${short}”`;
    }
  }
  if (row.bug !== undefined) text += ` ⚠ **open bug** — today: ${row.bug}`;
  return cell(text);
}

function readOr(url: URL): string {
  try {
    return readFileSync(url, "utf8");
  } catch {
    return ""; // missing: the comparison fails with the hint
  }
}

const README = new URL("../../README.md", import.meta.url);
const README_BEGIN =
  "<!-- bad-inputs:begin (generated from test/reliability/bad_inputs.cases.ts) -->";
const README_END = "<!-- bad-inputs:end -->";

/** The table itself: shared by docs/BAD_INPUTS.md and the README. */
function renderTable(): string[] {
  const lines = ["| call | input | outcome | why / source |", "|---|---|---|---|"];
  CASES.forEach((row, index) => {
    lines.push(
      `| \`${cell(row.call)}\` | ${cell(row.input)} | ${outcome(row, index)} | ${cell(row.why)} |`,
    );
  });
  return lines;
}

function renderDocument(): string {
  const lines = [
    "# Bad inputs",
    "",
    "<!-- Generated from test/reliability/bad_inputs.cases.ts by test/reliability/bad_inputs.test.ts.",
    "     Do not edit by hand: UPDATE_BAD_INPUTS=1 npx vitest run test/reliability/bad_inputs.test.ts -->",
    "",
    "What every public function, method and option of a zigloop loop does with wrong types, `NaN`,",
    "`±Infinity`, negative and huge numbers, `2**53`, `-0`, objects whose `valueOf`/`toString`/`then`",
    "throw, Symbols, BigInts, stale and foreign ids, calls after `close()` or during a shutdown, and",
    "re-entrant calls from inside callbacks. Every row is a test (`test/reliability/bad_inputs.test.ts`)",
    "that makes the call on a loop already holding unrelated work (timers, a task, an immediate, a",
    "microtask, a pending loop promise), checks the outcome below — the named error, its `code` and a",
    "message that says what failed and why, or the silent behaviour — then checks `verifyCore() === 0`",
    "and the pending counts, drives the loop, and checks that all of the unrelated work still ran (or,",
    "for `close()`/shutdown rows, was counted in the report) and that another loop was unaffected.",
    "",
    "Profiles: rows marked [html] or [node] are profile-specific; others hold for both. Messages in",
    "quotes are the ones the tests observed." +
      (CASES.some((row) => row.bug !== undefined)
        ? " Rows marked ⚠ state the intended outcome of an open bug (the test is `test.fails` until it is fixed)."
        : ""),
    "",
    `${CASES.length} rows.`,
    "",
    ...renderTable(),
  ];
  lines.push("");
  return lines.join("\n");
}
