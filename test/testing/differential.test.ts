/// <reference types="node" />
/**
 * zigloop/testing against the real @sinonjs/fake-timers: every script in scenarios.ts
 * runs on both and the traces must be equal, except for the scripts in DIFFERENCES,
 * where zigloop follows the runtime (Node, since these run under Node with the node
 * profile) and fake-timers does not. Each difference gives both traces and the source
 * that decides it; docs/TESTING.md lists them for users.
 */
import FakeTimers from "@sinonjs/fake-timers";
import { describe, expect, test } from "vitest";
import * as zigloop from "../../src-ts/testing/node.ts";
import { type FakeTimersLike, SCENARIOS } from "./scenarios.ts";

const fakeTimers = FakeTimers as unknown as FakeTimersLike;
const zig = zigloop as unknown as FakeTimersLike;

/** Scripts whose traces differ on purpose: what each side gives, and why. */
const DIFFERENCES: Record<string, { fakeTimers: unknown[]; zigloop: unknown[]; why: string }> = {
  "Date.prototype is the real one: a patch to it reaches fake dates": {
    fakeTimers: [false, 2, 0, "ClockDate"],
    zigloop: [true, 2, 7, "Date"],
    why: "A runtime has one Date.prototype (ECMA-262 §21.4.4); fake-timers' Date is a subclass behind a Proxy, zigloop's a function sharing the real prototype, with Date's length (7) and name",
  },
  "setTimeout(fn, 0) and tick(0)": {
    fakeTimers: ["zero", 0, "after tick(0)"],
    zigloop: ["after tick(0)", "zero", 1],
    why: "Node makes every delay below 1 ms 1 ms (lib/internal/timers.js, Timeout constructor); the html profile keeps 0",
  },
  "queueMicrotask outside a tick: does it wait for the clock?": {
    fakeTimers: ["after awaits", "micro", "after tick(0)"],
    zigloop: ["micro", "after awaits", "after tick(0)"],
    why: "A microtask is not time: the runtime runs it at the end of the current job (HTML 'perform a microtask checkpoint'); fake-timers holds faked microtasks until the clock is driven",
  },
  "ES-module imports of node:timers/promises while installed": {
    fakeTimers: [false, false],
    zigloop: [true, true],
    why: "An ES-module import of a builtin is a live binding of its exports, updated by syncBuiltinESMExports() (node:module); fake-timers patches only the CommonJS objects",
  },
  "a timeout created in an interval's callback, due with its next beat": {
    fakeTimers: ["beat", 10, "beat", 20, "timeout", 20],
    zigloop: ["beat", 10, "timeout", 20, "beat", 20],
    why: "Node re-inserts an interval after its callback returns (lib/internal/timers.js, listOnTimeout → insert), so a timeout the callback created with the same delay is ahead of it",
  },
};

describe("zigloop/testing traces equal @sinonjs/fake-timers'", () => {
  for (const [name, script] of Object.entries(SCENARIOS)) {
    const difference = DIFFERENCES[name];
    test(difference ? `${name} (differs: ${difference.why.split(" (")[0]})` : name, async () => {
      const expected = await script(fakeTimers);
      const actual = await script(zig);
      if (difference === undefined) {
        expect(actual).toEqual(expected);
      } else {
        expect(expected).toEqual(difference.fakeTimers);
        expect(actual).toEqual(difference.zigloop);
      }
    });
  }

  test("every listed difference names a script", () => {
    for (const name of Object.keys(DIFFERENCES)) expect(SCENARIOS).toHaveProperty([name]);
  });
});
