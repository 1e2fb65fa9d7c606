// A Cloudflare-style worker (workerd) that embeds zigloop: each request gets its own
// loop, runs a guest program with the loop's timers and Promise, waits for the loop
// to go idle within the request, and answers with the result and the loop's metrics.
//
// In a real project: `import { createEventLoop } from "zigloop"` (the package's
// `workerd` export condition selects the entry with the static .wasm import). Here the
// worker imports the build from this repository so the test can run it unbundled.
import { createEventLoop } from "../../dist/workerd.js";
import guest from "./guest.mjs";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/ready") return new Response("ok");

    const loop = await createEventLoop({ metrics: true });
    // The guest's globals: a plain object, not globalThis (requests share the isolate).
    const scope = {};
    loop.installGlobals(scope, { promise: true });
    let result;
    let error;
    const done = guest(scope, url.searchParams.get("name") ?? "world").then(
      (value) => (result = value),
      (reason) =>
        (error = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)),
    );
    await loop.run(); // resolves when nothing the guest scheduled is left
    await done;
    const metrics = loop.metrics();
    loop.close();
    return Response.json(
      {
        result,
        error,
        metrics: {
          tasksExecuted: metrics.tasksExecuted,
          timersFired: metrics.timersFired,
          microtasksExecuted: metrics.microtasksExecuted,
          timerLateness: metrics.timerLateness,
          loopTimeMs: metrics.now,
        },
      },
      { status: error === undefined ? 200 : 500 },
    );
  },
};
