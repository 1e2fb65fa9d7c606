// CommonJS consumers: the .d.cts declarations (see consumer.mts).
import zigloop = require("zigloop");
import coreModule = require("zigloop/wasm");
export const loop: Promise<zigloop.EventLoop<"html", "manual">> = zigloop.createEventLoop({
  clock: "manual",
});
export const sync: zigloop.EventLoop<"node", "real"> = zigloop.createEventLoopSync({
  module: coreModule,
  profile: "node",
});
import FakeTimers = require("zigloop/testing");
export const clock: FakeTimers.FakeClock = FakeTimers.createClock(0, 1000);
export const ran: number = clock.runAll();
