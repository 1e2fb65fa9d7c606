// workerd worker for the cross-runtime smoke. GET /ready answers "ok";
// GET /smoke?count=&seed= runs the smoke with createEventLoop from dist/workerd.js
// (whose core is the static import "../wasm/zigloop.wasm", compiled by workerd at
// load) and answers its result as JSON. Served by workerd_runner.mjs, which
// generates the config naming every module by its path in the repository.
import { ingressCase, withIngress } from "../ingress_case.mjs";
import { describeRuntime, installHostProbe, smoke } from "../smoke.mjs";

let loaded;

/** Imports zigloop once per isolate, with the host probe in place first. */
function loadZigloop() {
  loaded ??= (async () => {
    const probe = installHostProbe();
    try {
      const { createEventLoop } = await import("../../../dist/workerd.js");
      return { createEventLoop, probe };
    } finally {
      probe.restore();
    }
  })();
  return loaded;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/ready") return new Response("ok");
    if (url.pathname !== "/smoke") return new Response("not found", { status: 404 });
    const count = Number(url.searchParams.get("count") ?? 10_000);
    const seed = Number(url.searchParams.get("seed") ?? 1);
    let result;
    try {
      const { createEventLoop, probe } = await loadZigloop();
      result = await smoke(createEventLoop, { count, seed, probe });
      // workerd has no threads: createIngress and createPool must throw ThreadsUnavailableError.
      const ingress = await import("../../../dist/ingress/mod.js");
      result = withIngress(result, await ingressCase({ createEventLoop, ingress, entry: "" }));
    } catch (error) {
      result = {
        ok: false,
        fired: 0,
        cancelled: 0,
        elapsedMs: 0,
        ...describeRuntime(),
        errors: [`could not load zigloop: ${error?.stack ?? error}`],
      };
    }
    return Response.json({ entry: "dist/workerd.js", ...result });
  },
};
