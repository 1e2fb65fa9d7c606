// The producer thread of the cross-runtime ingress case (ingress_case.mjs), in any
// runtime: a web Worker (Deno, Bun, Chromium) or a Node worker_threads worker. Its start
// message names the producer entry to import (`zigloop/worker`: dist/ingress/worker.js,
// or src-ts/ingress/worker.ts under Deno) and what to post:
//   { entry, description, tag, count } -> count numbers tag*1e6+i, a string, a
//   Float64Array, then "done" (kind 2), with postWait; then the port closes.
async function start() {
  if (
    typeof globalThis.postMessage === "function" &&
    typeof globalThis.addEventListener === "function"
  ) {
    return new Promise((resolve) =>
      globalThis.addEventListener("message", (event) => resolve(event.data), { once: true }),
    );
  }
  const { parentPort } = await import("node:worker_threads");
  return new Promise((resolve) => parentPort.once("message", resolve));
}

const { entry, description, tag, count } = await start();
const { openIngress } = await import(entry);
const port = openIngress(description);
for (let i = 0; i < count; i++) {
  if (!port.postWait(1, tag * 1e6 + i, 10_000))
    throw new Error(`producer ${tag}: the lane stayed full`);
}
port.postWait(1, `text from producer ${tag} \u2603`, 10_000);
port.postWait(1, new Float64Array([tag, 0.5]), 10_000);
port.postWait(2, "done", 10_000);
port.close();
