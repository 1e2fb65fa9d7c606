/// <reference types="node" />
/**
 * Model-based: producer threads post random bursts while the loop side randomly closes,
 * shuts down and restarts its consumer (test/ingress/model.mjs). Every message is
 * delivered exactly once, in order per producer, or counted as not delivered by the
 * close report. fast-check draws the schedules; `npm run soak:ingress` runs the same
 * for minutes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIngress } from "../../src-ts/ingress/mod.ts";
import { createEventLoop } from "../../src-ts/node.ts";
// @ts-expect-error: plain JS shared with scripts/soak_ingress.mjs
import { ENDINGS, runSchedule } from "./model.mjs";

const step = fc.oneof(
  { weight: 3, arbitrary: fc.record({ wait: fc.integer({ min: 0, max: 25 }) }) },
  { weight: 1, arbitrary: fc.record({ end: fc.constantFrom(...(ENDINGS as string[])) }) },
);

describe("ingress model: random bursts, random closes and restarts", () => {
  it("every message is delivered once and in order per producer, or reported as not delivered", async () => {
    let totals = { messages: 0, delivered: 0, undelivered: 0, epochs: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(step, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        async (producers, schedule, seed) => {
          const result = await runSchedule(
            { createEventLoop, createIngress },
            { producers, schedule, seed },
          );
          expect(result.problems).toEqual([]);
          totals = {
            messages: totals.messages + result.messages,
            delivered: totals.delivered + result.delivered,
            undelivered: totals.undelivered + result.undelivered,
            epochs: totals.epochs + result.epochs,
          };
        },
      ),
      { numRuns: 12, endOnFailure: true },
    );
    // The schedules did exercise both outcomes.
    expect(totals.delivered).toBeGreaterThan(0);
    expect(totals.epochs).toBeGreaterThan(12);
  }, 120_000);
});
