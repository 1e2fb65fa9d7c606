/**
 * Unhandled rejections, node profile modes (Node's lib/internal/process/promises.js mapped onto the loop:
 * an `unhandledrejection` listener calling preventDefault() plays "handled by an 'unhandledRejection'
 * listener"; host.reportError plays triggerUncaughtException; host.warn plays process.emitWarning).
 */
import { describe, expect, test } from "vitest";
import {
  type PromiseRejectionEvent,
  UnhandledPromiseRejection,
  type UnhandledRejectionsMode,
} from "../../src-ts/promise/rejection_tracker.ts";
import { makeLoop } from "./_stub_host.ts";

function setup(mode: UnhandledRejectionsMode, cancel: boolean) {
  const loop = makeLoop({ unhandledRejections: mode });
  const order: string[] = [];
  const events: PromiseRejectionEvent[] = [];
  loop.host.target.addEventListener("unhandledrejection", (e) => {
    order.push(`event(errors=${loop.host.errors.length})`);
    events.push(e as unknown as PromiseRejectionEvent);
    if (cancel) e.preventDefault();
  });
  return { loop, order, events };
}

describe("node modes", () => {
  test('"throw" (Node default): an unhandled rejection is raised as an uncaught exception', () => {
    const { loop, events } = setup("throw", false);
    const err = new Error("boom");
    const p = loop.Promise.reject(err);
    loop.host.run();
    expect(events.map((e) => e.promise)).toEqual([p]);
    expect(loop.host.errors).toEqual([err]);
    expect(loop.host.warnings).toEqual([]);
  });

  test('"throw": a non-error reason is wrapped in UnhandledPromiseRejection (ERR_UNHANDLED_REJECTION)', () => {
    const { loop } = setup("throw", false);
    loop.Promise.reject(42);
    loop.host.run();
    expect(loop.host.errors).toHaveLength(1);
    const raised = loop.host.errors[0] as UnhandledPromiseRejection;
    expect(raised).toBeInstanceOf(UnhandledPromiseRejection);
    expect(raised.code).toBe("ERR_UNHANDLED_REJECTION");
    expect(raised.reason).toBe(42);
    expect(raised.message).toMatch(/rejected with the reason "42"/);
  });

  test('"throw": a listener that cancels the event handles the rejection', () => {
    const { loop, events } = setup("throw", true);
    loop.Promise.reject(new Error("handled by listener"));
    loop.host.run();
    expect(events).toHaveLength(1);
    expect(loop.host.errors).toEqual([]);
    expect(loop.host.warnings).toEqual([]);
  });

  test('"strict": raised first, then the event; a warning only if the event was not canceled', () => {
    const notCanceled = setup("strict", false);
    const err = new Error("strict");
    notCanceled.loop.Promise.reject(err);
    notCanceled.loop.host.run();
    expect(notCanceled.order).toEqual(["event(errors=1)"]);
    expect(notCanceled.loop.host.errors).toEqual([err]);
    expect(notCanceled.loop.host.warnings).toHaveLength(1);

    const canceled = setup("strict", true);
    canceled.loop.Promise.reject(err);
    canceled.loop.host.run();
    expect(canceled.loop.host.errors).toEqual([err]);
    expect(canceled.loop.host.warnings).toEqual([]);
  });

  test('"warn": always the event and a warning naming the reason, never raised', () => {
    for (const cancel of [false, true]) {
      const { loop, events } = setup("warn", cancel);
      const err = new Error("warned reason");
      loop.Promise.reject(err);
      loop.host.run();
      expect(events).toHaveLength(1);
      expect(loop.host.errors).toEqual([]);
      expect(loop.host.warnings).toHaveLength(1);
      const w = loop.host.warnings[0]!;
      expect(w.message).toMatch(/^Unhandled promise rejection: Error: warned reason/);
      expect(w.message).toMatch(/rejection id: 1/);
      expect(w.detail).toMatchObject({
        name: "UnhandledPromiseRejectionWarning",
        reason: err,
        rejectionId: 1,
      });
    }
  });

  test('"warn": a non-error reason is printed without running its toString', () => {
    const { loop } = setup("warn", false);
    let called = false;
    loop.Promise.reject({
      toString() {
        called = true;
        return "x";
      },
    });
    loop.Promise.reject("plain string");
    loop.host.run();
    expect(called).toBe(false);
    expect(loop.host.warnings.map((w) => w.message.split("\n")[0])).toEqual([
      "Unhandled promise rejection: [object Object]",
      "Unhandled promise rejection: plain string",
    ]);
  });

  test('"warn-with-error-code": when not handled, a warning and exit code 1', () => {
    const notCanceled = setup("warn-with-error-code", false);
    notCanceled.loop.Promise.reject(new Error("x"));
    notCanceled.loop.host.run();
    expect(notCanceled.loop.host.warnings).toHaveLength(1);
    expect(notCanceled.loop.host.exitCode).toBe(1);
    expect(notCanceled.loop.host.errors).toEqual([]);

    const canceled = setup("warn-with-error-code", true);
    canceled.loop.Promise.reject(new Error("x"));
    canceled.loop.host.run();
    expect(canceled.loop.host.warnings).toEqual([]);
    expect(canceled.loop.host.exitCode).toBeUndefined();
  });

  test('"none": the event is still dispatched, nothing else', () => {
    const { loop, events } = setup("none", false);
    loop.Promise.reject(new Error("x"));
    loop.host.run();
    expect(events).toHaveLength(1);
    expect(loop.host.errors).toEqual([]);
    expect(loop.host.warnings).toEqual([]);
    expect(loop.host.exitCode).toBeUndefined();
  });

  test("every mode uses the same tracking: late handling fires rejectionhandled", () => {
    for (const mode of [
      "throw",
      "strict",
      "warn",
      "warn-with-error-code",
      "none",
      "html",
    ] as const) {
      const loop = makeLoop({ unhandledRejections: mode });
      const handled: unknown[] = [];
      loop.host.target.addEventListener("rejectionhandled", (e) =>
        handled.push((e as unknown as PromiseRejectionEvent).promise),
      );
      const p = loop.Promise.reject(new Error(mode));
      loop.host.setTimeout(() => {
        p.catch(() => {});
      }, 5);
      loop.host.run();
      expect(handled, mode).toEqual([p]);
    }
  });

  test("an unknown mode is a TypeError naming the value", () => {
    expect(() => makeLoop({ unhandledRejections: "crash" as never })).toThrow(
      /unhandledRejections must be one of .*got type string \("crash"\)/,
    );
  });
});

describe("trackCreation", () => {
  test("records the creation stack and attaches it to the event and the warning", () => {
    const loop = makeLoop({ unhandledRejections: "warn", trackCreation: true });
    const stacks: (string | undefined)[] = [];
    loop.host.target.addEventListener("unhandledrejection", (e) =>
      stacks.push((e as unknown as PromiseRejectionEvent).creationStack),
    );
    function createTheRejectedPromise() {
      return loop.Promise.reject(new Error("tracked"));
    }
    createTheRejectedPromise();
    loop.host.run();
    expect(stacks).toHaveLength(1);
    expect(stacks[0]).toMatch(/createTheRejectedPromise/);
    expect(stacks[0]).toMatch(/unhandled_node\.test\.ts/);
    expect(loop.host.warnings[0]!.message).toMatch(
      /The promise was created at:\n[\s\S]*createTheRejectedPromise/,
    );
  });

  test("is off by default: no creation stack", () => {
    const loop = makeLoop({ unhandledRejections: "warn" });
    const stacks: unknown[] = [];
    loop.host.target.addEventListener("unhandledrejection", (e) =>
      stacks.push((e as unknown as PromiseRejectionEvent).creationStack),
    );
    loop.Promise.reject(new Error("untracked"));
    loop.host.run();
    expect(stacks).toEqual([undefined]);
    expect(loop.host.warnings[0]!.message).not.toMatch(/created at/);
  });

  test("a non-boolean trackCreation is a TypeError", () => {
    expect(() => makeLoop({ trackCreation: "yes" as never })).toThrow(
      /trackCreation must be a boolean, got type string \("yes"\)/,
    );
  });
});
