// Chromium page script for the cross-runtime smoke: imports the package the way a
// browser user does (dist/mod.js, which fetches ../wasm/zigloop.wasm relative to
// itself), runs the shared smoke, and publishes the result as the promise
// `globalThis.zigloopSmoke`, which test/runtimes/chromium_runner.mjs awaits.
import { ingressCase, startWebWorker, withIngress } from "../ingress_case.mjs";
import { describeRuntime, installHostProbe, smoke } from "../smoke.mjs";

async function run(count, seed) {
  // The probe must be in place before zigloop's driver captures the host functions.
  const probe = installHostProbe();
  let createEventLoop;
  try {
    ({ createEventLoop } = await import("../../../dist/mod.js"));
  } finally {
    probe.restore();
  }
  // No idle loop is left open: a page has no process exit to check.
  const result = await smoke(createEventLoop, { count, seed, probe });
  // The page is cross-origin isolated (the runner serves COOP/COEP): SharedArrayBuffer
  // exists, and producers run in module Workers.
  return withIngress(
    { ...result, crossOriginIsolated: globalThis.crossOriginIsolated },
    await ingressCase({
      createEventLoop,
      ingress: await import("../../../dist/ingress/mod.js"),
      entry: new URL("../../../dist/ingress/worker.js", import.meta.url).href,
      startThread: startWebWorker,
    }),
  );
}

const params = new URL(location.href).searchParams;
const count = Number(params.get("count") ?? 10_000);
const seed = Number(params.get("seed") ?? 1);
globalThis.zigloopSmoke = run(count, seed).then(
  (result) => ({ entry: "dist/mod.js", ...result }),
  (error) => ({
    entry: "dist/mod.js",
    ok: false,
    fired: 0,
    cancelled: 0,
    elapsedMs: 0,
    ...describeRuntime(),
    errors: [`could not load zigloop: ${error?.stack ?? error}`],
  }),
);
