// Deno runner for the cross-runtime smoke: Deno runs the TypeScript sources
// directly with the portable entry (src-ts/mod.ts, which fetches the wasm from a
// file: URL). Minimum permission: read access to the wasm file only.
//
// --message-channel removes the global setImmediate (Deno 2.9 has one; older
// Deno and browsers do not) before zigloop loads, so the driver wakes the loop
// with a MessageChannel, the branch driver.ts documents for Deno.
//
// Usage: deno run --no-lock --allow-read=<repo>/wasm/zigloop.wasm \
//          test/runtimes/deno_runner.ts [--message-channel] [count] [seed]
import { smokeWithIngress } from "./ingress_case.mjs";
import { installHostProbe, smoke } from "./smoke.mjs";

const messageChannel = Deno.args.includes("--message-channel");
const [count = 10_000, seed = 1] = Deno.args
  .filter((arg) => arg !== "--message-channel")
  .map(Number);
if (messageChannel) delete (globalThis as { setImmediate?: unknown }).setImmediate;
// The probe must be in place before zigloop's driver captures the host functions.
const probe = installHostProbe();
const { createEventLoop } = await import("../../src-ts/mod.ts");
probe.restore();
const smoked = await smoke(createEventLoop, { count, seed, probe, leaveIdleLoop: true });
// Producers in Deno's web Workers post through zigloop/worker (the TS sources).
const result = await smokeWithIngress(smoked, {
  createEventLoop,
  dir: "src-ts/ingress",
  ext: "ts",
});
console.log(JSON.stringify({ entry: "src-ts/mod.ts", messageChannel, ...result }));
// No Deno.exit(): Deno must exit by itself although one idle loop was never
// closed; scripts/test_runtimes.mjs reports it if it does not.
Deno.exitCode = result.ok ? 0 : 1;
