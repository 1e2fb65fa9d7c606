// zigloop/testing under Deno.test, instead of std's FakeTime.
//   deno test --no-lock --allow-read=wasm examples/testing/deno_test.ts
// (A published package would import "jsr:@zigloop/zigloop/testing".)
import { install } from "../../src-ts/testing/mod.ts";

function assertEquals(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The code under test: retries with a doubling delay, awaiting each wait. */
async function retry<T>(attempt: () => T, tries: number): Promise<T> {
  for (let i = 0, delay = 100; ; i++, delay *= 2) {
    try {
      return attempt();
    } catch (error) {
      if (i + 1 >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

Deno.test("retry waits 100, 200, 400 ms of fake time", async () => {
  const clock = install({ now: Date.UTC(2030, 0, 1) });
  try {
    const seen: number[] = [];
    let calls = 0;
    const done = retry(() => {
      seen.push(performance.now());
      if (++calls < 4) throw new Error("not yet");
      return new Date().toISOString();
    }, 5);
    await clock.tickAsync(1000);
    assertEquals(seen, [0, 100, 300, 700]);
    assertEquals(await done, "2030-01-01T00:00:00.700Z");
  } finally {
    clock.uninstall();
  }
});

Deno.test("the html profile: setTimeout(0) runs at tick(0), ids are numbers", () => {
  const clock = install();
  try {
    let ran = 0;
    const id = setTimeout(() => ran++, 0);
    assertEquals(typeof id, "number");
    clock.tick(0);
    assertEquals(ran, 1);
  } finally {
    clock.uninstall();
  }
});
