// The shared subset of zigloop's semantics tests that runs in every runtime (Node,
// Node LTS, Deno, Bun, workerd, Chromium) through the smoke runners: timer ordering,
// both profiles, microtask checkpoints, Promise basics and shutdown. Web-standard
// globals only. Each check is deterministic (manual clock) and names the rule it checks;
// the full suites are test/semantics/ and test/promise/ (Node).

/** Runs every check; returns { passed, total, failures }. */
export async function semanticsSubset(createEventLoop) {
  const failures = [];
  let passed = 0;
  for (const [name, check] of CHECKS) {
    const loops = [];
    const create = async (options) => {
      const loop = await createEventLoop(options);
      loops.push(loop);
      return loop;
    };
    try {
      await check(create);
      passed++;
    } catch (error) {
      failures.push(`${name}: ${error?.message ?? error}`);
    } finally {
      for (const loop of loops) loop.close();
    }
  }
  return { passed, total: CHECKS.length, failures };
}

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function truthy(value, what) {
  if (!value) throw new Error(what);
}

const CHECKS = [
  [
    "timer order: (deadline, creation), phases timers -> tasks -> immediates, checkpoint after each",
    async (create) => {
      const loop = await create({ clock: "manual" });
      const log = [];
      loop.setTimeout(() => log.push("t10b"), 10);
      loop.setTimeout(() => {
        log.push("t5");
        loop.queueMicrotask(() => {
          log.push("m1");
          loop.queueMicrotask(() => log.push("m2 (queued by a microtask)"));
        });
      }, 5);
      loop.setTimeout(() => log.push("t10a"), 10);
      loop.submit(() => log.push("task"));
      loop.setImmediate(() => log.push("immediate"));
      loop.advance(10);
      equal(
        log,
        ["task", "immediate", "t5", "m1", "m2 (queued by a microtask)", "t10b", "t10a"],
        "order",
      );
    },
  ],
  [
    "a timer started during a turn waits for the next turn; errors go to onError and the loop goes on",
    async (create) => {
      const errors = [];
      const loop = await create({ clock: "manual", onError: (e) => errors.push(e.message) });
      const log = [];
      loop.setTimeout(() => {
        log.push("a");
        loop.setTimeout(() => log.push("c (scheduled in a's turn)"), 0);
        loop.queueMicrotask(() => {
          throw new Error("microtask failed");
        });
        loop.queueMicrotask(() => log.push("next microtask"));
        throw new Error("callback failed");
      }, 0);
      loop.setTimeout(() => log.push("b"), 0);
      loop.runUntilIdle();
      equal(log, ["a", "next microtask", "b", "c (scheduled in a's turn)"], "order");
      equal(errors, ["callback failed", "microtask failed"], "errors");
    },
  ],
  [
    "html profile: numeric ids, one id space for timeouts and intervals, WebIDL long delays, nesting clamp",
    async (create) => {
      const loop = await create({ profile: "html", clock: "manual" });
      const interval = loop.setInterval(() => {
        throw new Error("cleared interval ran");
      }, 5);
      truthy(typeof interval === "number" && interval > 0, "ids are positive numbers");
      loop.clearTimeout(interval); // shared id space
      const at = [];
      loop.setTimeout(() => at.push(["NaN", loop.now()]), Number.NaN);
      loop.setTimeout(() => at.push(["2^32+3", loop.now()]), 2 ** 32 + 3);
      loop.setTimeout(() => at.push(["-5", loop.now()]), -5);
      loop.advance(10);
      equal(
        at,
        [
          ["NaN", 0],
          ["-5", 0],
          ["2^32+3", 3],
        ],
        "coercion",
      );
      // Nested zero-delay timers: the first five run at level 1..5 with no clamp; the one
      // created by the task at level 6 (nesting level 6 > 5) and later ones get 4 ms.
      const nested = [];
      const start = loop.now();
      const step = (depth) => {
        nested.push(loop.now() - start);
        if (depth < 8) loop.setTimeout(() => step(depth + 1), 0);
      };
      loop.setTimeout(() => step(1), 0);
      loop.advance(100);
      equal(nested, [0, 0, 0, 0, 0, 0, 4, 8], "nesting clamp");
    },
  ],
  [
    "node profile: Timeout objects (ref, unref, hasRef, refresh, toPrimitive), delays below 1 become 1",
    async (create) => {
      const warnings = [];
      const loop = await create({
        profile: "node",
        clock: "manual",
        onWarning: (w) => warnings.push(w.name),
      });
      const fired = [];
      const t = loop.setTimeout(function () {
        fired.push([this === t, loop.now()]);
      }, 0);
      truthy(typeof t === "object" && t.hasRef() === true, "a Timeout with hasRef()");
      truthy(
        t.unref() === t && t.hasRef() === false && t.ref().hasRef() === true,
        "ref/unref chain",
      );
      const id = +t;
      truthy(typeof id === "number" && id > 0, "toPrimitive gives a number");
      loop.advance(1);
      equal(fired, [[true, 1]], "this is the Timeout; 0 ms became 1 ms");
      const late = loop.setTimeout(() => fired.push(["refreshed", loop.now()]), 10);
      loop.advance(5);
      late.refresh();
      loop.advance(20);
      equal(fired[1], ["refreshed", 16], "refresh restarts the delay");
      loop.setTimeout(() => {}, 2 ** 31);
      equal(warnings, ["TimeoutOverflowWarning"], "overflow warning");
    },
  ],
  [
    "loop.Promise: reactions FIFO with queueMicrotask, thenables adopted, Promise.all, unhandledrejection",
    async (create) => {
      const loop = await create({ clock: "manual", onError: () => {} });
      const P = loop.Promise;
      const log = [];
      loop.submit(() => {
        P.resolve().then(() => log.push("then 1"));
        loop.queueMicrotask(() => log.push("microtask"));
        P.resolve().then(() => log.push("then 2"));
        P.resolve({ then: (resolve) => resolve("thenable") }).then((v) => log.push(v));
        P.all([1, P.resolve(2), { then: (r) => r(3) }]).then((v) => log.push(`all ${v.join(",")}`));
      });
      loop.runUntilIdle();
      equal(log, ["then 1", "microtask", "then 2", "thenable", "all 1,2,3"], "order");
      const events = [];
      loop.addEventListener("unhandledrejection", (event) => {
        events.push(String(event.reason));
        event.preventDefault();
      });
      loop.submit(() => void P.reject("nobody handles this"));
      loop.runUntilIdle();
      equal(events, ["nobody handles this"], "unhandledrejection event");
      truthy(Object.prototype.toString.call(P.resolve()) === "[object Promise]", "toStringTag");
    },
  ],
  [
    "graceful shutdown: refuses new work, cancels timers, runs queued work, rejects waiting promises",
    async (create) => {
      const loop = await create({ clock: "manual" });
      const log = [];
      loop.setTimeout(() => log.push("timer"), 1000);
      loop.submit(() => log.push("queued task"));
      const waiting = new loop.Promise(() => {});
      waiting.catch((reason) => log.push(`rejected: ${reason?.name}`));
      const done = loop.shutdown();
      equal(loop.state, "stopping", "state while stopping");
      let refused = "";
      try {
        loop.setTimeout(() => {}, 0);
      } catch (error) {
        refused = error.name;
      }
      equal(refused, "LoopShuttingDownError", "scheduling while stopping");
      const report = await done;
      equal(log, ["queued task", "rejected: TerminationError"], "what ran");
      equal(report, { cancelledTimers: 1, ranTasks: 1, rejectedPromises: 1 }, "report");
      equal(loop.state, "closed", "state after");
      let closedError = "";
      try {
        loop.submit(() => {});
      } catch (error) {
        closedError = error.name;
      }
      equal(closedError, "LoopClosedError", "scheduling after close");
    },
  ],
];
