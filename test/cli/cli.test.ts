/// <reference types="node" />
/**
 * The `zigloop run` command, and the orderings guest code gets with native `await` in
 * each embedding mode (docs/CLI.md quotes these results).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
  it("runs a script with the loop's timers and exits 0 when idle; console.log goes to stdout", async () => {
    const result = await runCli(
      `setTimeout(() => console.log("late"), 20); setTimeout(() => console.log("x", 1, [2]), 1);`,
    );
    expect(result.exitCode).toBe(0);
    expect(result.out).toBe("x 1 [ 2 ]\nlate\n");
  });

  it("guest await continuations run before the next task (microtaskMode afterEvaluate + checkpoint drain)", async () => {
    const result = await runCli(ORDERING.replace("report(", "console.log("));
    expect(result.exitCode).toBe(0);
    expect(result.out).toBe("A1 A2 A3 B C C-microtask C-promise\n");
  });

  it("one job queue: await, .then and queueMicrotask interleave as in Node 20 and Chromium", async () => {
    // ECMA-262 has one job queue; the guest's queueMicrotask shares it with its awaits.
    const source = `
      const log = [];
      async function a() { log.push("a1"); await null; log.push("a2"); await null; log.push("a3"); }
      a();
      Promise.resolve().then(() => log.push("p1")).then(() => log.push("p2")).then(() => log.push("p3"));
      queueMicrotask(() => log.push("q1"));
      log.push("sync end");
      setTimeout(() => console.log(log.join(" | ")), 0);`;
    for (const profile of ["html", "node"]) {
      const result = await runCli(source, "--profile", profile);
      expect(result.out).toBe("a1 | sync end | a2 | p1 | q1 | a3 | p2 | p3\n");
    }
  });

  it("nothing the loop installs is a host-realm object: the guest cannot reach the host's Function", async () => {
    const result = await runCli(`
      const names = ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate",
        "clearImmediate", "queueMicrotask", "console", "performance"];
      const foreign = names.filter((name) => {
        const value = globalThis[name];
        const fn = typeof value === "function" ? value : Object.values(value).find((v) => typeof v === "function");
        return fn.constructor !== Function;
      });
      console.log(foreign.length === 0 ? "confined" : "host functions: " + foreign.join(", "));
      try { setImmediate(42); } catch (error) { console.log(error instanceof TypeError, error.constructor === TypeError); }`);
    expect(result.out).toBe("confined\ntrue true\n");
  });

  it("html: a callback that throws is reported with its stack and the loop goes on; exit code 1", async () => {
    const result = await runCli(
      `setTimeout(() => { throw new Error("boom") }, 1); setTimeout(() => console.log("next"), 2);`,
    );
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/Uncaught: Error: boom\n\s+at .*script-.*\.js:1:/);
    expect(result.out).toBe("next\n");
  });

  it("html: an interval that throws on every beat prints its error once, then counts", async () => {
    const result = await runCli(
      `let n = 0; const id = setInterval(() => { if (++n === 25) clearInterval(id); throw new Error("again"); }, 0);`,
      "--virtual-time",
    );
    expect(result.exitCode).toBe(1);
    expect(result.err.match(/Uncaught: Error: again/g)).toHaveLength(3); // first, 10 times, 25 in all
    expect(result.err).toMatch(/the same error again: 10 times so far/);
    expect(result.err).toMatch(/raised 25 times in all/);
  });

  it("node: the first uncaught exception ends the run with exit code 1, as Node ends the process", async () => {
    const result = await runCli(
      `setTimeout(() => { throw new Error("boom") }, 1); setTimeout(() => console.log("never"), 2);`,
      "--profile",
      "node",
    );
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/Uncaught: Error: boom/);
    expect(result.out).toBe("");
  });

  it("html: a string handler runs as global code of the guest, as in a browser; node refuses it as Node does", async () => {
    const script = `var x = 1; setTimeout("console.log('string handler', typeof x, this === globalThis)", 1);`;
    const html = await runCli(script);
    expect(html).toMatchObject({ exitCode: 0, out: "string handler number true\n" });
    const node = await runCli(script, "--profile", "node", "--uncaught", "report");
    expect(node.exitCode).toBe(1);
    expect(node.err).toMatch(/Received type string \("console\.log/);
    expect(node.err).not.toMatch(/stringHandler/);
  });

  it("--uncaught report keeps a node-profile run going after an uncaught exception", async () => {
    const result = await runCli(
      `setTimeout(() => { throw new Error("boom") }, 1); setTimeout(() => console.log("still here"), 2);`,
      "--profile",
      "node",
      "--uncaught",
      "report",
    );
    expect(result).toMatchObject({ exitCode: 1, out: "still here\n" });
    expect(result.err).toMatch(/Uncaught: Error: boom/);
  });

  it("a top-level throw and an unhandled native rejection both give exit code 1", async () => {
    expect((await runCli(`throw new TypeError("top")`)).exitCode).toBe(1);
    const rejected = await runCli(`Promise.reject(new Error("nobody catches this"))`);
    expect(rejected.exitCode).toBe(1);
    expect(rejected.err).toMatch(/nobody catches this/);
  });

  it("--virtual-time runs a script full of long timers instantly", async () => {
    // 30 days on the guest's clock: on a real clock this would never end (the test's
    // timeout); no bound on the wall time, which depends on the machine's load.
    const result = await runCli(
      `const day = 24 * 3600 * 1000; let n = 0;
       const id = setInterval(() => { n++; if (n === 30) { clearInterval(id); console.log("30 days at " + performance.now()); } }, day);`,
      "--virtual-time",
    );
    expect(result.exitCode).toBe(0);
    expect(result.out).toBe(`30 days at ${30 * 24 * 3600 * 1000}\n`);
  });

  it("--virtual-time with an interval that never stops ends at --max-steps and names the flag", async () => {
    const result = await runCli(
      `setInterval(() => {}, 1000);`,
      "--virtual-time",
      "--max-steps",
      "500",
    );
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(
      /stopped after 500 moves of the clock, at 500000 ms of virtual time.*Raise --max-steps/,
    );
    expect((await runCli("", "--max-steps", "zero")).exitCode).toBe(2);
  });

  it("--metrics counts the guest's await continuations and queueMicrotask callbacks as microtasks", async () => {
    const result = await runCli(
      `async function f(n) { for (let i = 0; i < n; i++) await null; }
       setTimeout(() => f(100), 1);
       queueMicrotask(() => {});`,
      "--metrics",
    );
    expect(result.exitCode).toBe(0);
    const count = Number(/microtasks executed\s+(\d+)/.exec(result.err)?.[1]);
    expect(count).toBeGreaterThanOrEqual(101); // 100 awaits + 1 queueMicrotask (+ the async function's own jobs)
    expect(count).toBeLessThan(110);
  });

  it("--profile node gives Timeout objects; usage errors exit 2", async () => {
    const result = await runCli(
      `const t = setTimeout(() => {}, 1); console.log(typeof t, typeof t.refresh, t.hasRef(), String(t) === String(+t));`,
      "--profile",
      "node",
    );
    expect(result.out).toBe("object function true true\n");
    expect((await runCli("", "--profile", "deno")).exitCode).toBe(2);
    const usage = await main(["walk"], { out: () => {}, err: () => {} });
    expect(usage.exitCode).toBe(2);
  });
});

describe("budgets: a guest cannot exhaust the host (docs/SECURITY.md)", () => {
  it("--max-timers: the guest gets a guest-realm CapacityError and is stopped even if it catches it; exit code 3", async () => {
    const result = await runCli(
      `let caught = 0;
       for (let i = 0; i < 20; i++) {
         try { setTimeout(() => {}, 1e6); } catch (e) { caught++; if (caught === 1) console.log(e.name, e instanceof RangeError, e.capacity); }
       }
       console.log("caught", caught);
       setTimeout(() => console.log("never"), 1);`,
      "--max-timers",
      "10",
    );
    expect(result.out).toBe("CapacityError true timers\ncaught 10\n");
    expect(result.exitCode).toBe(3);
    expect(result.err).toMatch(/reached its timers budget \(--max-timers 10\)/);
  });

  it("--max-microtasks bounds queueMicrotask calls in one checkpoint (a microtask that re-queues itself)", async () => {
    const result = await runCli(
      `let n = 0; function f() { n++; queueMicrotask(f); } setTimeout(f, 1);`,
      "--max-microtasks",
      "1000",
    );
    expect(result.exitCode).toBe(3);
    expect(result.err).toMatch(/microtasks budget \(--max-microtasks 1000\)/);
  });

  it("--max-tasks and bad budget values", async () => {
    expect((await runCli("", "--max-tasks", "0")).exitCode).toBe(2);
    expect((await runCli("", "--timeout=-5")).err).toMatch(/--timeout must be a whole number >= 0/);
    expect((await runCli("", "--max-timers", "1.5")).exitCode).toBe(2);
  });
});

describe("--timeout: a guest that never returns is stopped (worker thread; the built CLI)", () => {
  const bin = fileURLToPath(new URL("../../bin/zigloop.mjs", import.meta.url));
  const cli = (source: string, ...flags: string[]) => {
    const file = join(dir, `timeout-${Math.random().toString(36).slice(2)}.js`);
    writeFileSync(file, source);
    return spawnSync(process.execPath, [bin, "run", ...flags, file], {
      encoding: "utf8",
      timeout: 30_000,
    });
  };

  for (const [what, source] of [
    [
      "a callback that loops forever",
      `console.log("started"); setTimeout(() => { for (;;) {} }, 1);`,
    ],
    [
      "a flood of promise jobs (never passes through the loop)",
      `console.log("started"); function f() { Promise.resolve().then(f); } setTimeout(f, 1);`,
    ],
    ["the script itself", `console.log("started"); for (;;) {}`],
  ] as const) {
    it(`${what}: stopped, with its output so far, exit code 124`, () => {
      const result = cli(source, "--timeout", "200");
      expect(result.stdout).toBe("started\n");
      expect(result.stderr).toMatch(
        /did not return to the event loop for 200 ms \(--timeout 200\)/,
      );
      expect(result.status).toBe(124);
    });
  }

  it("a guest that finishes runs as without --timeout (output, exit code, metrics)", () => {
    const result = cli(
      `setTimeout(() => console.log("done"), 5); queueMicrotask(() => console.log("micro"));`,
      "--timeout",
      "5000",
      "--profile",
      "node",
    );
    expect(result.stdout).toBe("micro\ndone\n");
    expect(result.status).toBe(0);
    const failed = cli(`setTimeout(() => { throw new Error("boom"); }, 1);`, "--timeout=5000");
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/Uncaught: Error: boom/);
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
    // The guest's queueMicrotask shares the realm's queue, here Node's own: FIFO with the awaits.
    expect(await orderingIn("vm-default")).toBe("A1 B C |host A2 C-microtask C-promise A3");
  });

  it("main context (loop functions called from the embedder's realm): native jobs wait for the host", async () => {
    expect(await orderingIn("main-context")).toBe("A1 B C C-microtask |host A2 C-promise A3");
  });
});
