/// <reference types="node" />
/**
 * What keeps the host process alive, checked where it matters: in a real Node process
 * whose only work is the loop's. Node's rule (libuv's `uv_loop_alive`): ref'd handles,
 * queued tasks and microtasks keep it alive; unref'd timers and immediates run only while
 * something else does. Each case runs in a child process on the built package.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const entry = new URL("../../dist/node.js", import.meta.url).href;

function runChild(body: string): { stdout: string; status: number | null } {
  const source = `import { createEventLoop } from ${JSON.stringify(entry)};\n${body}`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", source], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return { stdout: result.stdout, status: result.status };
}

describe("host liveness (child processes)", () => {
  it("work submitted after the loop went idle keeps the process alive until it ran", () => {
    // The loop's host wake-up was unref'd while only unref'd work was left; new work
    // must make it keep the process alive again (it once exited with code 13 here).
    const { stdout, status } = runChild(`
      const loop = await createEventLoop();
      await new Promise((resolve) => loop.submit(resolve));
      console.log("first");
      await new Promise((resolve) => loop.submit(resolve));
      console.log("second");
      await new Promise((resolve) => loop.queueMicrotask(resolve));
      await new Promise((resolve) => loop.setImmediate(resolve));
      console.log("third");
      loop.close();`);
    expect({ stdout, status }).toEqual({ stdout: "first\nsecond\nthird\n", status: 0 });
  });

  it("node: an unref'd immediate alone does not run: the process ends first, as in Node", () => {
    const { stdout, status } = runChild(`
      const loop = await createEventLoop({ profile: "node" });
      loop.setImmediate(() => console.log("unref'd immediate ran")).unref();
      await loop.run();
      console.log("run() resolved");`);
    expect({ stdout, status }).toEqual({ stdout: "run() resolved\n", status: 0 });
  });

  it("node: an unref'd immediate runs while a ref'd timer keeps the process alive", () => {
    // The immediate clears the timer: if it did not run, the process would wait for the
    // 10 s timer and print "timer". (With a short timer, a child held up by a busy machine
    // until the timer was due would rightly run it first, as Node does.)
    const { stdout, status } = runChild(`
      const loop = await createEventLoop({ profile: "node" });
      const timer = loop.setTimeout(() => console.log("timer"), 10_000);
      loop.setImmediate(() => { console.log("immediate"); loop.clearTimeout(timer); }).unref();
      await loop.run();
      console.log("run() resolved");`);
    expect({ stdout, status }).toEqual({ stdout: "immediate\nrun() resolved\n", status: 0 });
  });

  it('nativeJobs "after-callback": a turn paused for the host keeps the process alive', () => {
    const { stdout, status } = runChild(`
      const loop = await createEventLoop({ nativeJobs: "after-callback" });
      const log = [];
      loop.setTimeout(async () => { log.push("A"); await null; log.push("A1"); }, 1);
      loop.setTimeout(() => log.push("B"), 1);
      await loop.run();
      console.log(log.join(" "));`);
    expect({ stdout, status }).toEqual({ stdout: "A A1 B\n", status: 0 });
  });
});
