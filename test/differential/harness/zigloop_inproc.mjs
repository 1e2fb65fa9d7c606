// zigloop in-process runner: a fresh Node process per fixture.
//
//   node test/differential/harness/zigloop_inproc.mjs <fixture.js> <html|node> <real|manual> [after-turn|after-callback]
//
// Creates one loop through the public API (dist/node.js, so `npm run build` first),
// installs its timers, immediates and queueMicrotask onto this process's globalThis
// (`promise: false`: the fixture keeps the engine's native Promise and `await`),
// reports errors in the normalized form every runner shares, runs the fixture as a
// CommonJS script in a fresh host task, then drives the loop.
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { setImmediate as hostSetImmediate } from "node:timers";
import { createEventLoop } from "../../../dist/node.js";

const require = createRequire(import.meta.url);
const { reasonText } = require("./reason_text.js");

const [fixture, profile, clock, nativeJobs = "after-callback"] = process.argv.slice(2);
if (
  fixture === undefined ||
  !["html", "node"].includes(profile) ||
  !["real", "manual"].includes(clock)
) {
  console.error(
    "usage: zigloop_inproc.mjs <fixture.js> <html|node> <real|manual> [after-turn|after-callback]",
  );
  process.exit(2);
}

/**
 * Drives the loop until it is idle: the one place to change when the API grows
 * (e.g. `loop.runAllAsync()` for the manual clock). Today `await loop.run()` waits for
 * idleness on a real clock and moves virtual time from deadline to deadline on a
 * manual one.
 */
async function drive(loop) {
  await loop.run();
}

const loop = await createEventLoop({
  profile,
  clock,
  nativeJobs,
  onError: (error) => console.log(`uncaught ${reasonText(error)}`),
  // Default warning output goes to stderr, which the comparison ignores anyway;
  // keeping it quiet keeps the runner's diagnostics readable.
  onWarning: () => {},
});
// Loop-promise rejections (both profiles dispatch the event first; cancelling it is
// what a Node `unhandledRejection` listener or a page's preventDefault() does).
loop.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  console.log(`unhandled ${reasonText(event.reason)}`);
});
// Native promises (the fixture's Promise and await) are tracked by Node itself.
process.on("unhandledRejection", (reason) => console.log(`unhandled ${reasonText(reason)}`));
process.on("uncaughtException", (error) => console.log(`uncaught ${reasonText(error)}`));
loop.installGlobals(globalThis, { promise: false });

/**
 * Resolves on a later host macrotask, after every native microtask queued before it.
 * Unref'd: this check must not keep the process alive (Node exits when the fixture's
 * work is done, leaving unref'd timers and immediates unrun; so must this process).
 */
const hostMacrotask = () => new Promise((resolve) => hostSetImmediate(resolve).unref());

/** Whether anything ref'd (or runnable) is left on the loop. */
function hasWork() {
  const { refs, tasks, microtasks } = loop.pending;
  return refs + tasks + microtasks > 0;
}

/**
 * Drives until idle. If native continuations of the last turn (an `await` on a
 * promise the last timer resolved) gave the loop new work after `run()` resolved, the
 * trace says so and the loop is driven again (a few times at most), so the rest of the
 * trace is still compared.
 */
async function driveToEnd() {
  for (let round = 0; ; round++) {
    await drive(loop);
    await hostMacrotask();
    if (!hasWork()) break;
    console.log("<run() resolved early>");
    if (round === 10) break;
  }
}

hostSetImmediate(() => {
  require(resolve(fixture));
  driveToEnd().then(
    () => loop.close(),
    (error) => {
      console.log(`<driver failed: ${reasonText(error)}>`);
      process.exitCode = 3;
    },
  );
});
