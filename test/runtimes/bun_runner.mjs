// Bun runner for the cross-runtime smoke: imports the built package the way a Bun
// user does (dist/node.js, node:fs loader), or with --src the TypeScript sources
// (src-ts/node.ts), which Bun runs directly.
// Usage: bun test/runtimes/bun_runner.mjs [--src] [count] [seed]
import { smokeWithIngress } from "./ingress_case.mjs";
import { installHostProbe, smoke } from "./smoke.mjs";

const args = process.argv.slice(2);
const fromSource = args.includes("--src");
const [count = 10_000, seed = 1] = args.filter((arg) => arg !== "--src").map(Number);
const entry = fromSource ? "src-ts/node.ts" : "dist/node.js";
// The probe must be in place before zigloop's driver captures the host functions.
const probe = installHostProbe();
const { createEventLoop } = await import(`../../${entry}`);
probe.restore();
const smoked = await smoke(createEventLoop, { count, seed, probe, leaveIdleLoop: true });
// Producers in Bun's web Workers post through zigloop/worker.
const result = await smokeWithIngress(smoked, {
  createEventLoop,
  dir: fromSource ? "src-ts/ingress" : "dist/ingress",
  ext: fromSource ? "ts" : "js",
});
console.log(JSON.stringify({ entry, ...result }));
// No process.exit(): the process must exit by itself although one idle loop was
// never closed; scripts/test_runtimes.mjs reports it if it does not.
process.exitCode = result.ok ? 0 : 1;
