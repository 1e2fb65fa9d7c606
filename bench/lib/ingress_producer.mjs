// A producer thread of the ingress suite (bench/suites/ingress.mjs). workerData:
//   { mode, description?, ports, count, go, pacingNs?, base }
// - it opens `ports` producer ports (mode "ingress") and posts "ready"; then waits on
//   the shared `go` word (Int32Array(go)[0] becomes 1) so that every thread starts at once;
// - "ingress" / "postMessage": posts `count` numbers per port, round robin over its ports
//   (ingress: postWait, back-pressure; postMessage: parentPort.postMessage, no back-pressure);
// - "ingress-paced" / "postMessage-paced": posts `count` timestamps (ns on the shared
//   monotonic clock, process.hrtime.bigint() - base), sleeping at least `pacingNs` between
//   posts, for the latency benchmarks.
import { parentPort, workerData } from "node:worker_threads";
import { openIngress } from "../../dist/ingress/worker.js";

const { mode, description, ports: portCount = 1, count, pacingNs = 0 } = workerData;
const base = BigInt(workerData.base);
const go = new Int32Array(workerData.go);
const ports = mode.startsWith("ingress")
  ? Array.from({ length: portCount }, () => openIngress(description))
  : [];
parentPort.postMessage("ready");
while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 50);

const now = () => Number(process.hrtime.bigint() - base);
if (mode === "ingress") {
  for (let i = 0; i < count; i++) {
    for (const port of ports) port.postWait(1, i, 60_000);
  }
} else if (mode === "postMessage") {
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < portCount; p++) parentPort.postMessage(i);
  }
} else if (mode === "ingress-paced" || mode === "postMessage-paced") {
  // Sleeps between posts (Atomics.wait), so on a 2-core machine the producer does not take
  // a core from the loop it measures; a sleep of pacingNs lasts at least that long.
  const ingress = mode === "ingress-paced";
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    Atomics.wait(sleeper, 0, 0, pacingNs / 1e6);
    if (ingress) ports[0].postWait(1, now(), 60_000);
    else parentPort.postMessage(now());
  }
}
for (const port of ports) port.close();
parentPort.postMessage("done");
