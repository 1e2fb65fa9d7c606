// zigloop/testing in a Vitest suite, in place of vi.useFakeTimers().
// Run: npx vitest run examples/testing/vitest.test.ts (it is part of `npm test`).
import { afterEach, beforeEach, expect, test } from "vitest";
import { type FakeClock, install } from "zigloop/testing";

/** The code under test: calls `fn` at most once per `ms`, with the last arguments. */
function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

let clock: FakeClock;
// Fake only the timers and Date: Vitest itself keeps the real nextTick and queueMicrotask.
beforeEach(() => {
  clock = install({ now: Date.UTC(2030, 0, 1), toNotFake: ["nextTick", "queueMicrotask"] });
});
afterEach(() => clock.uninstall());

test("debounce fires once, with the last call's arguments, ms after it", () => {
  const calls: unknown[] = [];
  const save = debounce((text: string) => calls.push([text, new Date().toISOString()]), 300);
  save("a");
  clock.tick(200);
  save("ab");
  clock.tick(299);
  expect(calls).toEqual([]);
  clock.tick(1);
  expect(calls).toEqual([["ab", "2030-01-01T00:00:00.500Z"]]);
});

test("an async poller awaits fake time", async () => {
  const seen: number[] = [];
  async function poll(times: number) {
    for (let i = 0; i < times; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      seen.push(performance.now());
    }
  }
  const done = poll(3);
  await clock.tickAsync(3000);
  await done;
  expect(seen).toEqual([1000, 2000, 3000]);
  // The loop behind the clock counts what ran.
  expect(clock.loop.metrics().timersFired).toBe(3);
});
