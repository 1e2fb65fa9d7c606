// zigloop/testing with node:test, in place of node:test's mock.timers.
// Run: node --test examples/testing/node_test.mjs
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { install } from "zigloop/testing";

/** The code under test: a cache entry that expires after `ttl` ms. */
class TtlCache {
  #entries = new Map();
  constructor(ttl) {
    this.ttl = ttl;
  }
  set(key, value) {
    this.#entries.set(key, { value, expires: Date.now() + this.ttl });
  }
  get(key) {
    const entry = this.#entries.get(key);
    return entry && Date.now() < entry.expires ? entry.value : undefined;
  }
}

let clock;
beforeEach(() => {
  clock = install({ now: new Date("2030-01-01T00:00:00Z") });
});
afterEach(() => clock.uninstall());

test("entries expire after their ttl", () => {
  const cache = new TtlCache(60_000);
  cache.set("user", "ada");
  clock.tick("00:59"); // fake-timers' "mm:ss"
  assert.equal(cache.get("user"), "ada");
  clock.tick(1000);
  assert.equal(cache.get("user"), undefined);
});

test("a node:timers-style interval, with Timeout objects and runAll's guard", () => {
  const beats = [];
  const interval = setInterval(() => beats.push(Date.now() - clock.Date.UTC(2030, 0, 1)), 250);
  assert.equal(typeof interval.unref, "function");
  clock.tick(1000);
  assert.deepEqual(beats, [250, 500, 750, 1000]);
  assert.throws(() => clock.runAll(), /kept re-arming: setInterval\(anonymous, 250\)/);
  clearInterval(interval);
});
