/// <reference types="node" />
/**
 * The quick half of the differential suite (the whole one is `npm run
 * test:differential`): every fixture that applies to Node runs in the system Node
 * (natively) and on zigloop in-process with the node profile and the real clock, and
 * the traces must be equal, or differ exactly as known_differences.json lists. (The
 * manual clock, the CLI, Node 24 and Chromium are in the full suite: about 5x the runs.)
 * Needs dist/ (test/setup/dist.ts builds it when stale).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  classify,
  formatTrace,
  loadCauses,
  loadKnown,
  renderDifferencesDoc,
} from "./lib/compare.mjs";
import { loadFixtures } from "./lib/fixtures.mjs";
import {
  type Mode,
  PROCESS_TIMEOUT_MS,
  type RunResult,
  runNativeNode,
  runZigloop,
} from "./lib/runners.mjs";

const MODES: Mode[] = ["inproc-turn", "inproc-real", "inproc-manual"];
// Processes at once: mostly idle (waiting for timers), about 0.14 s of CPU each.
const JOBS = 3;
const fixtures = loadFixtures().filter((fixture) => fixture.runtimes.includes("node"));
const known = loadKnown();
const results = new Map<string, RunResult>();

/**
 * No wall-clock budget for running the fixtures: how long some 350 child processes take
 * depends on the machine's load (3 minutes in one run here, more than 5 with two more
 * CPU-burning processes). Each child is killed after PROCESS_TIMEOUT_MS (its trace then ends in
 * "<timeout>"), so this bound is reached only if killing a child failed.
 */
const SETUP_TIMEOUT_MS =
  Math.ceil((fixtures.length * (MODES.length + 1)) / JOBS + 1) * PROCESS_TIMEOUT_MS;

async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

beforeAll(async () => {
  const tasks: (() => Promise<void>)[] = [];
  for (const fixture of fixtures) {
    tasks.push(
      async () =>
        void results.set(
          `${fixture.name}|native`,
          await runNativeNode(fixture.path, process.execPath),
        ),
    );
    for (const mode of MODES) {
      tasks.push(
        async () =>
          void results.set(`${fixture.name}|${mode}`, await runZigloop(fixture.path, "node", mode)),
      );
    }
  }
  await pool(tasks, JOBS);
}, SETUP_TIMEOUT_MS);

const DOC = new URL("../../docs/DIFFERENCES.md", import.meta.url);

describe("known differences are explained", () => {
  it("every listed difference names a cause that is explained", () => {
    const causes = loadCauses();
    for (const [key, entry] of known) {
      expect(Object.keys(causes), `${key}: cause "${entry.cause}"`).toContain(entry.cause);
    }
    for (const cause of Object.values(causes)) {
      for (const field of ["title", "modes", "explanation", "why", "instead", "source"] as const) {
        expect(cause[field], `${cause.title ?? "a cause"} lacks ${field}`).toBeTruthy();
      }
    }
  });

  it("docs/DIFFERENCES.md is the rendering of known_differences.json", () => {
    const text = renderDifferencesDoc();
    if (process.env.UPDATE_DIFFERENCES) writeFileSync(DOC, text);
    expect(
      readFileSync(DOC, "utf8"),
      "stale: run UPDATE_DIFFERENCES=1 npx vitest run test/differential/differential.test.ts",
    ).toBe(text);
  });
});

describe("differential: Node (system) vs zigloop in-process, node profile", () => {
  it("has fixtures", () => {
    expect(fixtures.length).toBeGreaterThan(40);
  });
  for (const fixture of fixtures) {
    for (const mode of MODES) {
      it(`${fixture.name} (${mode})`, () => {
        const native = results.get(`${fixture.name}|native`)!.trace;
        const zigloop = results.get(`${fixture.name}|${mode}`)!.trace;
        const { status, detail } = classify(
          native,
          [zigloop],
          known.get(`${fixture.name}|node|${mode}`),
        );
        const report = `${status}${detail ? `: ${detail}` : ""}\nnative:  ${formatTrace(native)}\nzigloop: ${formatTrace(zigloop)}`;
        expect(["ok", "known"], report).toContain(status);
      });
    }
  }
});
