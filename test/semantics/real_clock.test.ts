/// <reference types="node" />
/**
 * The real clock: the host runtime drives the loop; run() and ref/unref liveness;
 * a Node process exits when only unref'd timers are left.
 *
 * What these tests assert about time (a timer fires at its deadline, run() resolves
 * without waiting) they assert on a fake host (test/fake_host.ts), where host time is
 * exact; on the host's own clock a loaded machine can make any wait longer, so the tests
 * that stay there assert only order, and lower bounds on time.
 *
 * Sources:
 * - semantics.md "Lifecycle": run() resolves when nothing ref'd is left (libuv
 *   UV_RUN_DEFAULT, uv_loop_alive), unref'd timers do not keep it alive.
 * - src-ts/driver.ts: one host timer, ref'd only while the loop has ref'd timers.
 * - Node test/parallel/test-timers-unref.js, test-timers-unrefd-interval-still-fires.js,
 *   test-timers-immediate-unref-simple.js.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeFakeHostLoop, makeLoop, profiles, waitFor } from "./_helpers.ts";

describe.each(profiles)("%s profile: driven by the host", (profile) => {
  test("timers fire without run(), never early", async () => {
    const { loop } = await makeLoop({ profile, clock: "real" });
    const scheduledAt = loop.now();
    const firedAfter = await new Promise<number>((resolve) =>
      loop.setTimeout(() => resolve(loop.now() - scheduledAt), 15),
    );
    expect(firedAfter).toBeGreaterThanOrEqual(15);
    loop.close();
  });

  test("fake host: a timer fires at its deadline, not a microsecond before, without run()", async () => {
    const { loop, host, log } = await makeFakeHostLoop({ profile });
    loop.setTimeout(() => log.push(`fired at ${loop.now()}`), 15);
    await host.advance(14.999);
    expect(log).toEqual([]);
    await host.advance(0.001);
    expect(log).toEqual(["fired at 15"]);
    loop.close();
  });

  test("tasks, immediates and microtasks queued from outside run without run()", async () => {
    const { loop, log } = await makeLoop({ profile, clock: "real" });
    loop.submit(() => log.push("task"));
    loop.setImmediate(() => log.push("immediate"));
    loop.queueMicrotask(() => log.push("microtask"));
    await waitFor(() => log.length === 3);
    expect(log).toEqual(["microtask", "task", "immediate"]);
    loop.close();
  });

  test("a loop microtask queued outside any callback runs before the host's next macrotask", async () => {
    const { loop } = await makeLoop({ profile, clock: "real" });
    let ran = false;
    loop.queueMicrotask(() => (ran = true));
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    expect(ran).toBe(true);
    loop.close();
  });

  test("fake host: the host timer is re-armed when an earlier deadline arrives: a 5 ms timer set after a 300 ms one fires at 5", async () => {
    const { loop, host, log } = await makeFakeHostLoop({ profile });
    loop.setTimeout(() => log.push(`300 at ${loop.now()}`), 300);
    loop.setTimeout(() => log.push(`5 at ${loop.now()}`), 5);
    await host.advance(5);
    expect(log).toEqual(["5 at 5"]);
    await host.advance(295);
    expect(log).toEqual(["5 at 5", "300 at 300"]);
    loop.close();
  });

  test("fake host: a timer created inside a callback (or its microtask) is armed and fires on time", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile });
    const delays: number[] = [];
    loop.setTimeout(() => {
      const from = loop.now();
      loop.setTimeout(() => delays.push(loop.now() - from), 10);
      loop.queueMicrotask(() => {
        const fromMicrotask = loop.now();
        loop.setTimeout(() => delays.push(loop.now() - fromMicrotask), 20);
      });
    }, 1);
    await host.until(loop.run());
    expect(delays).toEqual([10, 20]);
    expect(host.now).toBe(21);
    loop.close();
  });

  test("each host-driven callback gets its microtask checkpoint (node: not between a throwing timer and the next), errors go to onError", async () => {
    const { loop, log, errors } = await makeLoop({ profile, clock: "real" });
    loop.setTimeout(() => {
      log.push("A");
      loop.queueMicrotask(() => log.push("A.microtask"));
      throw new Error("A threw");
    }, 2);
    loop.setTimeout(() => log.push("B"), 2);
    await loop.run();
    // Node lets the exception out of processTimers; C++ reports it and re-enters
    // processTimers, whose first timer runs before runNextTicks (src/env.cc RunTimers).
    expect(log).toEqual(profile === "html" ? ["A", "A.microtask", "B"] : ["A", "B", "A.microtask"]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["A threw"]);
    loop.close();
  });

  test("now() never goes back", async () => {
    const { loop } = await makeLoop({ profile, clock: "real" });
    const first = loop.now();
    expect(first).toBeGreaterThanOrEqual(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(loop.now()).toBeGreaterThanOrEqual(first);
    loop.close();
  });

  test("fake host: now() is the host time since the loop was created", async () => {
    const { host, zigloop } = await makeFakeHostLoop({ profile });
    await host.advance(1000);
    const loop = await zigloop.createEventLoop({ profile });
    expect(loop.now()).toBe(0);
    await host.advance(5);
    expect(loop.now()).toBe(5);
    loop.close();
  });

  test("run() resolves once the last ref'd timer has fired", async () => {
    const { loop, log } = await makeLoop({ profile, clock: "real" });
    loop.setTimeout(() => log.push("10"), 10);
    loop.setTimeout(() => log.push("30"), 30);
    await loop.run();
    expect(log).toEqual(["10", "30"]);
    expect(loop.pending.refs).toBe(0);
    loop.close();
  });

  test("run() waits for an interval until it is cleared", async () => {
    const { loop } = await makeLoop({ profile, clock: "real" });
    let beats = 0;
    const handle = loop.setInterval(() => {
      if (++beats === 3) loop.clearInterval(handle);
    }, 5);
    await loop.run();
    expect(beats).toBe(3);
    loop.close();
  });

  test("fake host: run() with nothing to do resolves at once", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile });
    await host.until(loop.run());
    expect(host.now).toBe(0);
    loop.close();
  });

  test("run() waits for tasks and immediates queued by the last timer", async () => {
    const { loop, log } = await makeLoop({ profile, clock: "real" });
    loop.setTimeout(() => {
      log.push("timer");
      loop.setImmediate(() => {
        log.push("immediate");
        loop.submit(() => log.push("task"));
      });
    }, 5);
    await loop.run();
    expect(log).toEqual(["timer", "immediate", "task"]);
    loop.close();
  });
});

describe("node profile: ref/unref and run()", () => {
  test("fake host: an unref'd timer does not keep run() (or the host) waiting and does not fire before it is due", async () => {
    const { loop, host, log } = await makeFakeHostLoop({ profile: "node" });
    const t = loop.setTimeout(() => log.push(`unref'd fired at ${loop.now()}`), 1000).unref();
    await host.until(loop.run());
    expect(host.now).toBe(0);
    expect(log).toEqual([]);
    expect(host.keepsAlive()).toBe(false); // a Node process would exit now
    await host.advance(1000); // but while it lives, the timer fires on time
    expect(log).toEqual(["unref'd fired at 1000"]);
    loop.clearTimeout(t);
    loop.close();
  });

  test("fake host: an unref'd interval still fires while a ref'd timer keeps the loop alive (test-timers-unrefd-interval-still-fires)", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile: "node" });
    const beats: number[] = [];
    const interval = loop.setInterval(() => beats.push(loop.now()), 5).unref();
    loop.setTimeout(() => {}, 60);
    await host.until(loop.run());
    // Every 5 ms until 60, where the beat is due in the same turn as the ref'd timer.
    expect(beats).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    expect(host.now).toBe(60);
    expect(host.keepsAlive()).toBe(false);
    loop.clearInterval(interval);
    loop.close();
  });

  test("an unref'd interval still fires while a ref'd timer keeps the loop alive, and then lets run() resolve", async () => {
    const { loop } = await makeLoop({ profile: "node", clock: "real" });
    let beats = 0;
    // The ref'd timer lives until the third beat clears it: only the unref'd interval is left.
    const keepAlive = loop.setTimeout(() => {}, 60_000);
    const interval = loop
      .setInterval(() => {
        if (++beats === 3) loop.clearTimeout(keepAlive);
      }, 5)
      .unref();
    await loop.run();
    expect(beats).toBe(3);
    loop.clearInterval(interval);
    loop.close();
  });

  test("ref() after unref() keeps run() waiting for the timer again", async () => {
    const { loop, log } = await makeLoop({ profile: "node", clock: "real" });
    loop
      .setTimeout(() => log.push("fired"), 20)
      .unref()
      .ref();
    await loop.run();
    expect(log).toEqual(["fired"]);
    loop.close();
  });

  test("fake host: unref() of the last ref'd timer while run() waits lets run() resolve at once", async () => {
    const { loop, host } = await makeFakeHostLoop({ profile: "node" });
    const t = loop.setTimeout(() => {}, 5000);
    const done = loop.run();
    await host.advance(10);
    t.unref();
    await host.until(done);
    expect(host.now).toBe(10);
    loop.clearTimeout(t);
    loop.close();
  });

  test.each(profiles)(
    "fake host, %s: clearing the last ref'd timer while run() waits lets run() resolve at once",
    async (profile) => {
      const { loop, host } = await makeFakeHostLoop({ profile });
      const t = loop.setTimeout(() => {}, 5000);
      const done = loop.run();
      await host.advance(10);
      loop.clearTimeout(t);
      await host.until(done);
      expect(host.now).toBe(10);
      expect(host.keepsAlive()).toBe(false); // the host timer may stay armed, unref'd
      loop.close();
    },
  );

  test("fake host: an unref'd immediate does not keep run() waiting", async () => {
    // Node test/parallel/test-timers-immediate-unref-simple.js
    const { loop, host } = await makeFakeHostLoop({ profile: "node" });
    loop.setImmediate(() => {}).unref();
    await host.until(loop.run());
    expect(host.now).toBe(0);
    loop.close();
  });
});

describe("microtask budget (semantics.md: optional, off by default, yields without reordering)", () => {
  async function flood(
    budget: number | undefined,
  ): Promise<{ hostRanDuringFlood: boolean; order: string[] }> {
    const { loop } = await makeLoop(
      budget === undefined
        ? { profile: "node", clock: "real" }
        : { profile: "node", clock: "real", microtaskBudget: budget },
    );
    const order: string[] = [];
    let remaining = 200;
    let hostRan = false;
    let hostRanDuringFlood = false;
    loop.setTimeout(() => {
      order.push("A");
      setImmediate(() => (hostRan = true)); // a native host macrotask
      const step = (): void => {
        if (--remaining > 0) loop.queueMicrotask(step);
        else {
          hostRanDuringFlood = hostRan;
          order.push("flood done");
        }
      };
      loop.queueMicrotask(step);
    }, 1);
    loop.setTimeout(() => order.push("B"), 1);
    await loop.run();
    loop.close();
    return { hostRanDuringFlood, order };
  }

  test("without a budget the whole checkpoint runs before the host gets control", async () => {
    const result = await flood(undefined);
    expect(result.order).toEqual(["A", "flood done", "B"]);
    expect(result.hostRanDuringFlood).toBe(false);
  });

  test("with a budget the host runs in between, and the checkpoint resumes before the next timer", async () => {
    const result = await flood(10);
    expect(result.order).toEqual(["A", "flood done", "B"]);
    expect(result.hostRanDuringFlood).toBe(true);
  });
});

// ---- a Node process exits when only unref'd work is left ----------------------------------------

const root = fileURLToPath(new URL("../..", import.meta.url));
let pkg = "";

/** Compiles src-ts with the project's tsc into a temporary package whose ../../wasm resolves to the repo's wasm. */
beforeAll(() => {
  pkg = mkdtempSync(join(tmpdir(), "zigloop-semantics-"));
  mkdirSync(join(pkg, "dist"));
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(root, "wasm"), join(pkg, "wasm"));
  try {
    execFileSync(
      process.execPath,
      [
        join(root, "node_modules/typescript/bin/tsc"),
        "-p",
        join(root, "tsconfig.json"),
        "--outDir",
        join(pkg, "dist"),
        "--declaration",
        "false",
      ],
      { cwd: root, stdio: "pipe" },
    );
  } catch (error) {
    // tsc still emits when some unrelated file has a type error; only a missing entry is fatal here.
    if (!existsSync(join(pkg, "dist", "node.js"))) throw error;
  }
}, 60_000);

afterAll(() => {
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  killed: boolean;
}

/**
 * Runs `body` as an ES module with `createEventLoop` imported from the compiled package.
 * The kill timeout only stops a child that hangs: far longer than any timer a test uses,
 * so a slow machine never turns a correct child into a killed one. How long a child took
 * is never asserted: a process that waited for a timer it should not have waited for
 * also ran it, and says so on stdout.
 */
function runChild(body: string, timeoutMs = 30_000): Promise<ChildResult> {
  const script = join(pkg, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `import { createEventLoop } from "./dist/node.js";\n${body}\n`);
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({
          code: child.exitCode,
          stdout: String(stdout),
          stderr: String(stderr),
          killed: child.killed || (error as { killed?: boolean } | null)?.killed === true,
        });
      },
    );
  });
}

// Each test may run two children, each allowed 30 s before it counts as hung.
describe("node: process liveness (child processes)", { timeout: 75_000 }, () => {
  test("a process whose loop holds only an unref'd 10 s timer exits without running it", async () => {
    const result = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      loop.setTimeout(() => console.log("unref'd fired"), 10_000).unref();
      console.log("scheduled");
    `);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("scheduled\n");
  });

  test("a ref'd timer keeps the process alive until it fires", async () => {
    for (const profile of profiles) {
      const result = await runChild(`
        const loop = await createEventLoop({ profile: "${profile}" });
        const start = performance.now();
        loop.setTimeout(() => console.log("fired after", Math.round(performance.now() - start) >= 150), 150);
      `);
      expect(result.killed).toBe(false);
      expect(result.stdout).toBe("fired after true\n");
      expect(result.code).toBe(0);
    }
  });

  test("unref() after creation lets the process exit; ref() again keeps it alive", async () => {
    const unrefd = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      const t = loop.setTimeout(() => console.log("fired"), 10_000);
      setTimeout(() => t.unref(), 20);
    `);
    expect(unrefd.killed).toBe(false);
    expect(unrefd.stdout).toBe("");

    const refd = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      const t = loop.setTimeout(() => console.log("fired"), 100).unref();
      t.ref();
    `);
    expect(refd.killed).toBe(false);
    expect(refd.stdout).toBe("fired\n");
  });

  test("an unref'd interval runs while a ref'd timer lives, then lets the process exit", async () => {
    // The ref'd timer lives until the third beat clears it (counting beats in a fixed
    // span of time would depend on the machine's speed).
    const result = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      let beats = 0;
      const keepAlive = loop.setTimeout(() => {}, 60_000);
      loop.setInterval(() => { if (++beats === 3) loop.clearTimeout(keepAlive); }, 5).unref();
      process.on("exit", () => console.log("beats", beats));
    `);
    expect(result.killed).toBe(false);
    expect(result.stdout).toBe("beats 3\n");
  });

  test("an unref'd immediate does not keep the process alive forever", async () => {
    const result = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      loop.setImmediate(() => {}).unref();
    `);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
  });

  test("close() releases the host: a process with a closed loop and a pending 10 s timer exits", async () => {
    const result = await runChild(`
      const loop = await createEventLoop({ profile: "html" });
      loop.setTimeout(() => console.log("fired"), 10_000);
      setTimeout(() => console.log(JSON.stringify(loop.close())), 10);
    `);
    expect(result.killed).toBe(false);
    expect(result.stdout).toBe('{"cancelledTimers":1,"droppedTasks":0,"droppedMicrotasks":0}\n');
  });

  test.each([
    ["with a microtask queued", "loop.queueMicrotask(() => {});"],
    ["with nothing queued", ""],
  ])(
    "close() from inside a timer callback (%s) does not throw out of the host's turn",
    async (_name, extra) => {
      const result = await runChild(`
      process.on("uncaughtException", (error) => { console.log("uncaught", error.name); process.exitCode = 3; });
      for (const profile of ["html", "node"]) {
        const loop = await createEventLoop({ profile });
        loop.setTimeout(() => { ${extra} loop.close(); }, 5);
        loop.setTimeout(() => console.log("same-deadline timer ran"), 5);
      }
      setTimeout(() => console.log("alive"), 50);
    `);
      expect(result.killed).toBe(false);
      expect(result.stdout).toBe("alive\n");
      expect(result.code).toBe(0);
    },
  );

  test("await loop.run() in a script resolves and the process exits when the work is done", async () => {
    const result = await runChild(`
      const loop = await createEventLoop({ profile: "node" });
      loop.setTimeout(() => console.log("a"), 20);
      loop.setTimeout(() => loop.setImmediate(() => console.log("b")), 40);
      await loop.run();
      console.log("run resolved");
    `);
    expect(result.killed).toBe(false);
    expect(result.stdout).toBe("a\nb\nrun resolved\n");
  });
});
