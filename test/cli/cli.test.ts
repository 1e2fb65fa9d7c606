/// <reference types="node" />
/**
 * The `zigloop run` command, and the orderings guest code gets with native `await` in
 * each embedding mode (docs/CLI.md quotes these results).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { main } from "../../src-ts/cli/main.ts";
import { createEventLoop } from "../../src-ts/node.ts";

const dir = mkdtempSync(join(tmpdir(), "zigloop-cli-"));

async function runCli(source: string, ...flags: string[]) {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, source);
  let out = "";
  let err = "";
  const { exitCode } = await main(["run", file, ...flags], {
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { exitCode, out, err };
}

// One script, three tasks: A awaits twice, B is a plain task, C queues a microtask and a promise job.
const ORDERING = `
  const log = [];
  setTimeout(async () => { log.push("A1"); await null; log.push("A2"); await null; log.push("A3"); }, 0);
  setTimeout(() => log.push("B"), 0);
  setTimeout(() => { queueMicrotask(() => log.push("C-microtask")); Promise.resolve().then(() => log.push("C-promise")); log.push("C"); }, 0);
  setTimeout(() => report(log.join(" ")), 5);
`;

describe("zigloop run", () => {
  it("runs a script with the loop's timers and exits 0 when idle", async () => {
    const result = await runCli(
      `setTimeout(() => console.log("late"), 20); setTimeout(() => report("x"), 1);`.replace(
        "report",
        "console.log",
      ),
    );
    expect(result.exitCode).toBe(0);
  });

  it("guest await continuations run before the next task (microtaskMode afterEvaluate + checkpoint drain)", async () => {
    const logs: string[] = [];
    const original = console.log;
    console.log = (line: string) => logs.push(line);
    try {
      const result = await runCli(ORDERING.replace("report(", "console.log("));
      expect(result.exitCode).toBe(0);
    } finally {
      console.log = original;
    }
    expect(logs).toEqual(["A1 A2 A3 B C C-microtask C-promise"]);
  });

  it("a callback that throws: the loop goes on, the exit code is 1", async () => {
    const result = await runCli(
      `setTimeout(() => { throw new Error("boom") }, 1); setTimeout(() => {}, 2);`,
    );
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/Uncaught: Error: boom/);
  });

  it("a top-level throw and an unhandled native rejection both give exit code 1", async () => {
    expect((await runCli(`throw new TypeError("top")`)).exitCode).toBe(1);
    const rejected = await runCli(`Promise.reject(new Error("nobody catches this"))`);
    expect(rejected.exitCode).toBe(1);
    expect(rejected.err).toMatch(/nobody catches this/);
  });

  it("--virtual-time runs a script full of long timers instantly", async () => {
    const started = performance.now();
    const logs: string[] = [];
    const original = console.log;
    console.log = (line: string) => logs.push(line);
    try {
      const result = await runCli(
        `const day = 24 * 3600 * 1000; let n = 0;
         const id = setInterval(() => { n++; if (n === 30) { clearInterval(id); console.log("30 days at " + performance.now()); } }, day);`,
        "--virtual-time",
      );
      expect(result.exitCode).toBe(0);
    } finally {
      console.log = original;
    }
    expect(logs).toEqual([`30 days at ${30 * 24 * 3600 * 1000}`]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("--profile node gives Timeout objects; usage errors exit 2", async () => {
    const logs: string[] = [];
    const original = console.log;
    console.log = (...parts: unknown[]) => logs.push(parts.join(" "));
    try {
      await runCli(
        `const t = setTimeout(() => {}, 1); console.log(typeof t, typeof t.refresh, t.hasRef());`,
        "--profile",
        "node",
      );
    } finally {
      console.log = original;
    }
    expect(logs).toEqual(["object function true"]);
    expect((await runCli("", "--profile", "deno")).exitCode).toBe(2);
    const usage = await main(["walk"], { out: () => {}, err: () => {} });
    expect(usage.exitCode).toBe(2);
  });
});

describe("native await ordering by embedding mode (docs/CLI.md)", () => {
  async function orderingIn(mode: "afterEvaluate-drained" | "vm-default" | "main-context") {
    const loop = await createEventLoop({ clock: "manual" });
    const log: string[] = [];
    if (mode === "main-context") {
      // The loop's functions called from the embedder's own realm: native jobs go to Node's queue.
      const at = (fn: () => void) => loop.setTimeout(fn, 0);
      at(async () => {
        log.push("A1");
        await null;
        log.push("A2");
        await null;
        log.push("A3");
      });
      at(() => log.push("B"));
      at(() => {
        loop.queueMicrotask(() => log.push("C-microtask"));
        void Promise.resolve().then(() => log.push("C-promise"));
        log.push("C");
      });
      loop.runUntilIdle();
      log.push("|host");
      await new Promise((r) => setImmediate(r));
      return log.join(" ");
    }
    // The guest logs into the host's array directly, so entries made after the report also count.
    const sandbox: Record<string, unknown> = { hostLog: log, report: () => {} };
    const context = vm.createContext(
      sandbox,
      mode === "vm-default" ? {} : { microtaskMode: "afterEvaluate" },
    );
    const drain = new vm.Script("");
    const drained = await createEventLoop({
      clock: "manual",
      drainHostMicrotasks:
        mode === "afterEvaluate-drained" ? () => drain.runInContext(context) : undefined,
    });
    drained.installGlobals(sandbox);
    new vm.Script(ORDERING.replace("const log = [];", "const log = hostLog;")).runInContext(
      context,
    );
    drained.advance(10);
    log.push("|host");
    await new Promise((r) => setImmediate(r));
    return log.join(" ");
  }

  it("vm context, afterEvaluate, drained at each checkpoint (zigloop run): exact task boundaries", async () => {
    expect(await orderingIn("afterEvaluate-drained")).toBe(
      "A1 A2 A3 B C C-microtask C-promise |host",
    );
  });

  it("vm context in Node's default mode: await continuations leak past later tasks", async () => {
    expect(await orderingIn("vm-default")).toBe("A1 B C C-microtask |host A2 C-promise A3");
  });

  it("main context (loop functions called from the embedder's realm): native jobs wait for the host", async () => {
    expect(await orderingIn("main-context")).toBe("A1 B C C-microtask |host A2 C-promise A3");
  });
});
