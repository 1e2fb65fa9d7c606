// Node runner for the cross-runtime smoke: imports the built package the way a
// Node user does (dist/node.js, which reads the wasm with node:fs).
// Usage: node test/runtimes/node_runner.mjs [count] [seed]
import { Worker } from "node:worker_threads";
import { smokeWithIngress } from "./ingress_case.mjs";
import { installHostProbe, smoke } from "./smoke.mjs";

const [count = 10_000, seed = 1] = process.argv.slice(2).map(Number);
// The probe must be in place before zigloop's driver captures the host functions.
const probe = installHostProbe();
const { createEventLoop } = await import("../../dist/node.js");
probe.restore();
const smoked = await smoke(createEventLoop, { count, seed, probe, leaveIdleLoop: true });
// Producers in worker_threads post through zigloop/worker (dist/ingress/worker.js).
const result = await smokeWithIngress(smoked, {
  createEventLoop,
  dir: "dist/ingress",
  startThread(url, message) {
    const worker = new Worker(url);
    worker.postMessage(message);
    return { terminate: () => void worker.terminate() };
  },
});
console.log(JSON.stringify({ entry: "dist/node.js", ...result }));
// No process.exit(): the process must exit by itself although one idle loop was
// never closed; scripts/test_runtimes.mjs reports it if it does not.
process.exitCode = result.ok ? 0 : 1;
