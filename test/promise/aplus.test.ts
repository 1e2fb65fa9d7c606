/**
 * Promises/A+ compliance: runs the promises-aplus-tests suite (mocha-based, 872 tests) programmatically
 * against `loop.Promise` on a real zigloop loop (real clock, driven by the host). The suite keeps
 * mocha state per process, so it runs once per file.
 */
import { createRequire } from "node:module";
import { expect, test } from "vitest";
import { createEventLoop } from "../../src-ts/node.ts";

const require = createRequire(import.meta.url);

interface MochaRunner {
  on(
    event: "pass" | "fail" | "end",
    listener: (test?: { fullTitle(): string }, error?: unknown) => void,
  ): void;
}

test("Promises/A+ suite on a real-clock zigloop loop: all 872 tests pass", async () => {
  const loop = await createEventLoop({ unhandledRejections: "none" });
  const P = loop.Promise;
  const adapter = {
    resolved: (value: unknown) => P.resolve(value),
    rejected: (reason: unknown) => P.reject(reason),
    deferred: () => {
      const { promise, resolve, reject } = P.withResolvers<unknown>();
      return { promise, resolve, reject };
    },
  };

  let passes = 0;
  const failures: string[] = [];
  // A mocha reporter is a constructor taking the runner; this one only counts.
  function CountingReporter(runner: MochaRunner): void {
    runner.on("pass", () => {
      passes++;
    });
    runner.on("fail", (t, error) => {
      failures.push(`${t?.fullTitle()}: ${String(error)}`);
    });
  }

  const runSuite = require("promises-aplus-tests") as (
    adapter: unknown,
    options: unknown,
    cb: (err: unknown) => void,
  ) => void;
  await new Promise<void>((resolve) => {
    runSuite(adapter, { reporter: CountingReporter, timeout: 1000 }, () => resolve());
  });

  expect(failures).toEqual([]);
  expect(passes).toBe(872);
  console.log(`Promises/A+: ${passes} passing, ${failures.length} failing`);
  loop.close();
}, 120_000);
