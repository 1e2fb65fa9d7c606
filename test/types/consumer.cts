// CommonJS consumers: the .d.cts declarations (see consumer.mts).
import zigloop = require("zigloop");
import coreModule = require("zigloop/wasm");
import ingress = require("zigloop/ingress");
import worker = require("zigloop/worker");
export const loop: Promise<zigloop.EventLoop<"html", "manual">> = zigloop.createEventLoop({
  clock: "manual",
});
export const sync: zigloop.EventLoop<"node", "real"> = zigloop.createEventLoopSync({
  module: coreModule,
  profile: "node",
});
export const offloaded: Promise<string> = ingress.offload(
  sync,
  (s: string) => s.toUpperCase(),
  "a",
);
export const open: typeof worker.openIngress = worker.openIngress;
import FakeTimers = require("zigloop/testing");
export const clock: FakeTimers.FakeClock = FakeTimers.createClock(0, 1000);
export const ran: number = clock.runAll();
