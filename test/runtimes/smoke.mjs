/**
 * The cross-runtime smoke test: one module, web-standard globals only, run by a
 * thin runner per runtime (Node, Deno, Bun, workerd; Chromium later) against the
 * entry point a user of that runtime imports.
 *
 * What it checks, with a seeded plan so a failure is reproducible anywhere:
 * - real clock: `count` timers with delays 0..maxDelayMs (so many deadlines tie),
 *   exactly half cancelled, some before the run (interleaved with scheduling, so
 *   later timers reuse the freed handles) and some from inside earlier timers'
 *   callbacks (often from the same deadline, i.e. the same collected batch).
 *   Every survivor fires exactly once, nothing cancelled fires, nothing fires
 *   before its deadline, and survivors fire in (deadline, creation) order, which
 *   here is (delay, index) because all are scheduled in one synchronous block.
 *   Clearing stale ids (already fired, already cleared) must change nothing.
 * - manual clock: the same on 1,000 timers with `advance()`, in two steps, each
 *   callback seeing exactly its deadline as `loop.now()`.
 * - the driver: with a host probe installed before zigloop was imported, that
 *   the real host scheduling functions were called (not a mock, not virtual time).
 *
 * Check failures never throw: they are collected in `errors`.
 *
 * @module
 */

// Captured at load, before any probe is installed: the smoke's own watchdog and
// measurements never show up in the probe's counts.
const hostSetTimeout = globalThis.setTimeout;
const hostClearTimeout = globalThis.clearTimeout;
const hostNow = globalThis.performance ? () => globalThis.performance.now() : () => Date.now();

const ERRORS_MAX = 40;
const MANUAL_COUNT = 1_000;

/**
 * Names the runtime this module runs in, from optional globals only.
 *
 * @returns `{ runtime, version }`, e.g. `{ runtime: "deno", version: "2.9.6" }`.
 * @example
 * ```js
 * const { runtime, version } = describeRuntime();
 * ```
 */
import { semanticsSubset } from "./semantics_subset.mjs";
export function describeRuntime() {
  const g = globalThis;
  const agent = typeof g.navigator?.userAgent === "string" ? g.navigator.userAgent : "";
  if (typeof g.Deno?.version?.deno === "string")
    return { runtime: "deno", version: g.Deno.version.deno };
  if (typeof g.Bun?.version === "string") return { runtime: "bun", version: g.Bun.version };
  if (agent.startsWith("Cloudflare-Workers")) return { runtime: "workerd", version: "unknown" };
  if (typeof g.process?.versions?.node === "string")
    return { runtime: "node", version: g.process.versions.node };
  const chrome = /(?:Chrome|Chromium)\/([\d.]+)/.exec(agent);
  if (chrome) return { runtime: "chromium", version: chrome[1] };
  return { runtime: agent || "unknown", version: "unknown" };
}

/**
 * Wraps the host's scheduling globals with counters. Install it BEFORE importing
 * zigloop: the driver captures the host functions when its module loads, so it
 * captures these wrappers, and every host timer or wake-up it uses is counted.
 * `restore()` puts the original globals back (the driver keeps its wrappers).
 *
 * @param {any} [target] The global object to wrap (default `globalThis`).
 * @returns {HostProbe} `{ counts, problems, restore() }`; `counts` has `setTimeout`,
 *   `clearTimeout`, `setImmediate`, `messageChannels` and `postMessage`.
 * @example
 * ```js
 * const probe = installHostProbe();
 * const { createEventLoop } = await import("../../dist/node.js");
 * probe.restore();
 * const result = await smoke(createEventLoop, { probe });
 * ```
 */
export function installHostProbe(target = globalThis) {
  const counts = {
    setTimeout: 0,
    clearTimeout: 0,
    setImmediate: 0,
    messageChannels: 0,
    postMessage: 0,
  };
  const saved = [];
  const problems = [];
  const wrap = (name, make) => {
    const original = target[name];
    if (typeof original !== "function") return;
    try {
      saved.push([name, Object.getOwnPropertyDescriptor(target, name)]);
      target[name] = make(original);
    } catch (error) {
      problems.push(`could not wrap ${name}: ${describeError(error)}`);
    }
  };
  wrap(
    "setTimeout",
    (original) =>
      function setTimeout(...args) {
        counts.setTimeout++;
        return original.apply(this, args);
      },
  );
  wrap(
    "clearTimeout",
    (original) =>
      function clearTimeout(...args) {
        counts.clearTimeout++;
        return original.apply(this, args);
      },
  );
  wrap(
    "setImmediate",
    (original) =>
      function setImmediate(...args) {
        counts.setImmediate++;
        return original.apply(this, args);
      },
  );
  wrap(
    "MessageChannel",
    (Original) =>
      class MessageChannel extends Original {
        constructor() {
          super();
          counts.messageChannels++;
          const port = this.port2;
          const post = port.postMessage;
          port.postMessage = function postMessage(...args) {
            counts.postMessage++;
            return post.apply(this, args);
          };
        }
      },
  );
  const restore = () => {
    for (const [name, descriptor] of saved.splice(0).reverse()) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete target[name];
    }
  };
  return { counts, problems, restore };
}

/**
 * @typedef {{ counts: Record<string, number>, problems: string[], restore(): void }} HostProbe
 * @typedef {{ count?: number, seed?: number, maxDelayMs?: number, probe?: HostProbe,
 *   watchdogMs?: number, leaveIdleLoop?: boolean }} SmokeOptions
 */

/**
 * Runs the smoke test with one runtime's `createEventLoop`.
 *
 * @param {(options?: object) => Promise<any>} createEventLoop The `createEventLoop`
 *   of the entry point under test.
 * @param {SmokeOptions} [options] `count` timers (default 10,000), PRNG `seed` (default 1),
 *   `maxDelayMs` (default 150), `probe` from {@linkcode installHostProbe},
 *   `watchdogMs` (default 60,000) after which a run that did not finish is
 *   reported as an error (and its loop closed), `leaveIdleLoop` (default false):
 *   last, create a real-clock loop, run one timer and never close it, as a user
 *   who forgets `close()` would; the runner then checks that the process still
 *   exits by itself (an idle loop must not keep the host alive).
 * @returns {Promise<Record<string, any>>} `{ ok, fired, cancelled, elapsedMs, runtime,
 *   version, errors, real, manual, env, idleLoopLeftOpen }`; never rejects for a
 *   failed check.
 * @example
 * ```js
 * import { createEventLoop } from "zigloop";
 * const result = await smoke(createEventLoop, { count: 1_000, seed: 7 });
 * if (!result.ok) console.error(result.errors);
 * ```
 */
export async function smoke(
  createEventLoop,
  {
    count = 10_000,
    seed = 1,
    maxDelayMs = 150,
    probe,
    watchdogMs = 60_000,
    leaveIdleLoop = false,
  } = {},
) {
  const errors = [];
  let overflow = 0;
  const fail = (message) => {
    if (errors.length < ERRORS_MAX) errors.push(message);
    else overflow++;
  };
  const { runtime, version } = describeRuntime();
  if (typeof createEventLoop !== "function") {
    return {
      ok: false,
      fired: 0,
      cancelled: 0,
      elapsedMs: 0,
      runtime,
      version,
      errors: ["createEventLoop is not a function"],
    };
  }
  const env = await describeHost();
  // Every loop a check opens is closed at the end, even when the check threw.
  const opened = [];
  const create = async (options) => {
    const loop = await createEventLoop(options);
    opened.push(loop);
    return loop;
  };
  let real = {};
  let manual = {};
  let subset = { passed: 0, total: 0, failures: [] };
  try {
    real = await realClockCheck(create, { count, seed, maxDelayMs, probe, watchdogMs, fail });
  } catch (error) {
    fail(`real clock: threw ${describeError(error)}`);
  }
  try {
    manual = await manualClockCheck(create, {
      count: MANUAL_COUNT,
      seed: seed + 1,
      maxDelayMs,
      fail,
    });
  } catch (error) {
    fail(`manual clock: threw ${describeError(error)}`);
  }
  try {
    subset = await semanticsSubset(createEventLoop);
    for (const failure of subset.failures) fail(`semantics subset: ${failure}`);
  } catch (error) {
    fail(`semantics subset: threw ${describeError(error)}`);
  }
  for (const loop of opened) {
    try {
      loop.close();
    } catch (error) {
      fail(`close(): threw ${describeError(error)}`);
    }
  }
  try {
    await severalLoopsCheck(createEventLoop, fail);
  } catch (error) {
    fail(`several loops: threw ${describeError(error)}`);
  }
  let idleLoopLeftOpen = false;
  if (leaveIdleLoop) {
    try {
      idleLoopLeftOpen = await leaveAnIdleLoop(createEventLoop, watchdogMs);
    } catch (error) {
      fail(`idle loop: threw ${describeError(error)}`);
    }
  }
  for (const problem of probe?.problems ?? []) fail(`host probe: ${problem}`);
  if (overflow > 0) errors.push(`... and ${overflow} more errors`);
  return {
    ok: errors.length === 0,
    fired: real.fired ?? 0,
    cancelled: real.cancelled ?? 0,
    elapsedMs: real.elapsedMs ?? 0,
    runtime,
    version,
    errors,
    real,
    manual,
    subset: { passed: subset.passed, total: subset.total },
    env,
    idleLoopLeftOpen,
  };
}

// ---- the plan ------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG; returns floats in [0, 1). */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Decides everything up front from `seed`: delays, which half is cancelled, and
 * when each cancelled timer is cleared (after scheduling timer k, or from inside
 * the callback of a survivor that must fire before it).
 */
function makePlan(count, seed, maxDelayMs) {
  const random = prng(seed);
  const below = (n) => Math.floor(random() * n);
  const delays = new Int32Array(count);
  for (let i = 0; i < count; i++) delays[i] = below(maxDelayMs + 1);
  const before = (a, b) => delays[a] - delays[b] || a - b;

  const indices = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = below(i + 1);
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  const cancelledCount = Math.floor(count / 2);
  const isCancelled = new Uint8Array(count);
  for (let k = 0; k < cancelledCount; k++) isCancelled[indices[k]] = 1;
  const expected = indices.slice(cancelledCount).sort(before); // survivors in firing order

  // clearAfter[k]: cleared right after timer k is scheduled (k >= the target).
  // clearFrom[s]: cleared by survivor s's callback (s fires strictly before the target).
  const clearAfter = new Map();
  const clearFrom = new Map();
  const push = (map, key, value) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  let inRun = 0;
  for (let k = 0; k < cancelledCount; k++) {
    const target = indices[k];
    const earlier = survivorsBefore(expected, target, before);
    if (earlier > 0 && random() < 0.4) {
      // Half the time one of the nearest predecessors: often the same deadline, so
      // the target is already in the batch being run when it is cleared.
      const span = random() < 0.5 ? Math.min(earlier, 4) : earlier;
      push(clearFrom, expected[earlier - 1 - below(span)], target);
      inRun++;
    } else {
      push(clearAfter, target + below(count - target), target);
    }
  }
  return { delays, isCancelled, expected, clearAfter, clearFrom, cancelledCount, inRun, before };
}

/** How many survivors (sorted by `before`) fire strictly before `target`. */
function survivorsBefore(sorted, target, before) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(sorted[mid], target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- one scenario ------------------------------------------------------------------------

/**
 * Schedules the plan on `loop` and returns the recorder. `onFire(i, now)` is
 * called first in each callback (the manual check uses it for per-step checks).
 */
function schedule(loop, plan, label, fail) {
  const count = plan.delays.length;
  const ids = new Array(count);
  const firedTimes = new Uint8Array(count);
  const firedAt = new Float64Array(count).fill(NaN);
  const order = [];
  const stale = []; // ids already cleared up front: clearing them again must change nothing
  let clearedInRun = 0;
  let staleClears = 0;

  const fire = (i) => {
    firedAt[i] = loop.now();
    firedTimes[i]++;
    order.push(i);
    const targets = plan.clearFrom.get(i);
    if (targets === undefined) return;
    for (const target of targets) {
      if (firedTimes[target] > 0) {
        fail(
          `${label}: timer #${target} (delay ${plan.delays[target]}) fired before #${i} (delay ${
            plan.delays[i]
          }), which was to clear it`,
        );
      }
      loop.clearTimeout(ids[target]);
      clearedInRun++;
    }
    // Stale ids: one cleared up front, and one that already fired (maybe this one).
    if (stale.length > 0) {
      loop.clearTimeout(stale[i % stale.length]);
      staleClears++;
    }
    loop.clearTimeout(ids[order[(order.length * 7) >>> 3]]);
    staleClears++;
  };

  for (let i = 0; i < count; i++) {
    // Both ways of passing state: extra arguments and closures.
    ids[i] =
      i % 2 === 0
        ? loop.setTimeout(fire, plan.delays[i], i)
        : loop.setTimeout(() => fire(i), plan.delays[i]);
    const targets = plan.clearAfter.get(i);
    if (targets === undefined) continue;
    for (const target of targets) {
      loop.clearTimeout(ids[target]);
      stale.push(ids[target]);
    }
  }
  const survivorsIds = plan.expected.map((i) => ids[i]);
  const badIds = survivorsIds.filter((id) => !(Number.isInteger(id) && id > 0 && id <= 0x7fffffff));
  if (badIds.length > 0) {
    fail(
      `${label}: html setTimeout returned ids that are not positive int32, e.g. ${String(badIds[0])}`,
    );
  }
  if (new Set(survivorsIds).size !== survivorsIds.length)
    fail(`${label}: two live timers share an id`);
  const distinctIds = new Set(ids).size === count;
  return {
    ids,
    firedTimes,
    firedAt,
    order,
    distinctIds,
    get clearedInRun() {
      return clearedInRun;
    },
    get staleClears() {
      return staleClears;
    },
  };
}

/** Checks exactly-once, never-cancelled and (delay, index) order for `expected`. */
function checkFiring(plan, rec, expected, label, fail) {
  const { delays, isCancelled } = plan;
  let cancelledFired = 0;
  let duplicates = 0;
  for (let i = 0; i < delays.length; i++) {
    if (rec.firedTimes[i] > 1) {
      duplicates++;
      if (duplicates <= 3)
        fail(`${label}: timer #${i} (delay ${delays[i]}) fired ${rec.firedTimes[i]} times`);
    }
    if (isCancelled[i] && rec.firedTimes[i] > 0) {
      cancelledFired++;
      if (cancelledFired <= 3) fail(`${label}: cancelled timer #${i} (delay ${delays[i]}) fired`);
    }
  }
  if (cancelledFired > 3) fail(`${label}: ${cancelledFired} cancelled timers fired in all`);
  if (duplicates > 3) fail(`${label}: ${duplicates} timers fired more than once in all`);
  const missing = expected.filter((i) => rec.firedTimes[i] === 0);
  if (missing.length > 0) {
    const i = missing[0];
    fail(
      `${label}: ${missing.length} surviving timers never fired, e.g. #${i} (delay ${delays[i]})`,
    );
  }
  const order = rec.order;
  const length = Math.min(order.length, expected.length);
  for (let k = 0; k < length; k++) {
    if (order[k] !== expected[k]) {
      const got = order[k];
      const want = expected[k];
      fail(
        `${label}: firing order differs at position ${k}: got #${got} (delay ${delays[got]}), ` +
          `expected #${want} (delay ${delays[want]}) by (deadline, creation)`,
      );
      break;
    }
  }
  if (order.length !== expected.length)
    fail(`${label}: ${order.length} callbacks ran, expected ${expected.length}`);
}

function delayStats(plan, rec, expected, origin) {
  const late = expected
    .filter((i) => !Number.isNaN(rec.firedAt[i]))
    .map((i) => rec.firedAt[i] - origin - plan.delays[i]);
  late.sort((a, b) => a - b);
  const pick = (q) =>
    late.length === 0 ? NaN : round(late[Math.min(late.length - 1, Math.floor(q * late.length))]);
  return {
    early: late.filter((x) => x < -1e-6).length,
    minLateMs: pick(0),
    p50LateMs: pick(0.5),
    maxLateMs: pick(1),
  };
}

async function realClockCheck(
  createEventLoop,
  { count, seed, maxDelayMs, probe, watchdogMs, fail },
) {
  const label = "real clock";
  const plan = makePlan(count, seed, maxDelayMs);
  const callbackErrors = [];
  const loop = await createEventLoop({
    clock: "real",
    onError: (error) => callbackErrors.push(error),
  });
  if (loop.manualClock !== false) {
    fail(
      `${label}: createEventLoop({ clock: "real" }) returned a loop with manualClock = ${loop.manualClock}`,
    );
  }
  const hostBefore = probe ? { ...probe.counts } : undefined;

  const origin = loop.now();
  const wallStart = hostNow();
  const rec = schedule(loop, plan, label, fail);
  const scheduleMs = hostNow() - wallStart;
  const upFront = plan.cancelledCount - plan.inRun;
  if (loop.pending.timers !== count - upFront) {
    fail(
      `${label}: ${loop.pending.timers} timers pending after scheduling, expected ${count - upFront}`,
    );
  }

  const watchdog = await runWithin(loop.run(), watchdogMs);
  const elapsedMs = hostNow() - wallStart;
  if (watchdog === "timeout") {
    fail(
      `${label}: run() did not resolve within ${watchdogMs} ms (${rec.order.length} of ${plan.expected.length} ` +
        `fired, ${loop.pending.timers} timers pending, state ${loop.state})`,
    );
  } else if (watchdog !== "ok") {
    fail(`${label}: run() rejected: ${watchdog}`);
  }
  const pendingAfter = loop.pending;
  const stateAfter = loop.state;
  loop.close();

  for (const error of callbackErrors.slice(0, 3))
    fail(`${label}: a callback threw: ${describeError(error)}`);
  checkFiring(plan, rec, plan.expected, label, fail);
  if (rec.clearedInRun !== plan.inRun) {
    fail(`${label}: ${rec.clearedInRun} timers cleared during the run, planned ${plan.inRun}`);
  }
  if (watchdog === "ok") {
    if (pendingAfter.timers !== 0 || pendingAfter.refs !== 0) {
      fail(
        `${label}: run() resolved with ${pendingAfter.timers} timers and ${pendingAfter.refs} refs pending`,
      );
    }
    if (stateAfter !== "idle") fail(`${label}: state after run() is ${stateAfter}, expected idle`);
  }
  const stats = delayStats(plan, rec, plan.expected, origin);
  if (stats.early > 0) {
    fail(
      `${label}: ${stats.early} timers fired before their deadline (min lateness ${stats.minLateMs} ms)`,
    );
  }
  const lastDelay =
    plan.expected.length > 0 ? plan.delays[plan.expected[plan.expected.length - 1]] : 0;
  // Real host timers: the run cannot be faster than the longest surviving delay.
  if (watchdog === "ok" && elapsedMs + 1 < lastDelay) {
    fail(
      `${label}: the run took ${round(elapsedMs)} ms but the last timer was due at ${lastDelay} ms: not real time`,
    );
  }

  let host;
  if (probe) {
    host = Object.fromEntries(Object.entries(probe.counts).map(([k, v]) => [k, v - hostBefore[k]]));
    if (host.setTimeout === 0)
      fail(`${label}: the driver never armed a host timer (host setTimeout not called)`);
    const wakes = host.setImmediate + host.postMessage;
    if (wakes === 0 && host.setTimeout < 2)
      fail(`${label}: the driver never requested a host wake-up`);
  }
  return {
    fired: rec.order.length,
    cancelled: plan.cancelledCount,
    cancelledUpFront: upFront,
    cancelledInRun: rec.clearedInRun,
    staleClears: rec.staleClears,
    distinctIds: rec.distinctIds,
    survivors: plan.expected.length,
    lastDeadlineMs: lastDelay,
    elapsedMs: round(elapsedMs),
    scheduleMs: round(scheduleMs),
    ...stats,
    host,
  };
}

async function manualClockCheck(createEventLoop, { count, seed, maxDelayMs, fail }) {
  const label = "manual clock";
  const plan = makePlan(count, seed, maxDelayMs);
  const callbackErrors = [];
  const loop = await createEventLoop({
    clock: "manual",
    onError: (error) => callbackErrors.push(error),
  });
  if (loop.manualClock !== true) {
    fail(
      `${label}: createEventLoop({ clock: "manual" }) returned manualClock = ${loop.manualClock}`,
    );
  }
  const origin = loop.now();
  const rec = schedule(loop, plan, label, fail);
  const step = Math.floor(maxDelayMs / 3);

  loop.advance(step);
  const firstPart = plan.expected.filter((i) => plan.delays[i] <= step);
  const firedFirst = rec.order.length;
  checkFiring(plan, rec, firstPart, `${label} after advance(${step})`, fail);
  if (loop.now() !== origin + step)
    fail(`${label}: now() is ${loop.now()} after advance(${step}) from ${origin}`);

  loop.advance(maxDelayMs);
  checkFiring(plan, rec, plan.expected, label, fail);
  let offDeadline = 0;
  for (const i of plan.expected) {
    if (rec.firedTimes[i] > 0 && rec.firedAt[i] !== origin + plan.delays[i]) {
      if (++offDeadline <= 3) {
        fail(
          `${label}: timer #${i} ran at ${rec.firedAt[i]}, its deadline is ${origin + plan.delays[i]}`,
        );
      }
    }
  }
  const pendingAfter = loop.pending.timers;
  if (pendingAfter !== 0)
    fail(`${label}: ${pendingAfter} timers pending after advancing past the last deadline`);
  loop.close();
  for (const error of callbackErrors.slice(0, 3))
    fail(`${label}: a callback threw: ${describeError(error)}`);
  if (rec.clearedInRun !== plan.inRun) {
    fail(`${label}: ${rec.clearedInRun} timers cleared during the run, planned ${plan.inRun}`);
  }
  return {
    count,
    fired: rec.order.length,
    firedInFirstStep: firedFirst,
    cancelled: plan.cancelledCount,
    cancelledInRun: rec.clearedInRun,
    endMs: loop.now(),
  };
}

/**
 * Several loops in one process: one Promise class serves them all, but each promise runs
 * its jobs on its own loop and names its own loop's constructor; a closed loop's core goes
 * to the next loop, and the closed loop still answers without touching it.
 */
async function severalLoopsCheck(createEventLoop, fail) {
  const label = "several loops";
  const a = await createEventLoop({ clock: "manual" });
  const b = await createEventLoop({ clock: "manual" });
  const seen = [];
  a.Promise.resolve("a").then((v) => seen.push(v));
  b.Promise.resolve("b").then((v) => seen.push(v));
  if (
    a.Promise.resolve(1).constructor !== a.Promise ||
    b.Promise.resolve(1).constructor !== b.Promise
  )
    fail(`${label}: a promise's constructor is not its own loop's Promise`);
  b.runUntilIdle();
  if (seen.join() !== "b") fail(`${label}: running loop b ran [${seen}], expected [b]`);
  a.runUntilIdle();
  if (seen.join() !== "b,a") fail(`${label}: then loop a: [${seen}], expected [b,a]`);
  a.setTimeout(() => {}, 1000);
  a.close();
  const closedTimers = a.metrics().queue.timers.current;
  const c = await createEventLoop({ clock: "manual" }); // takes a's core, made like new
  let fired = 0;
  c.setTimeout(() => fired++, 5);
  c.advance(5);
  if (fired !== 1) fail(`${label}: a loop created after a close fired ${fired} of 1 timers`);
  if (a.metrics().queue.timers.current !== closedTimers || c.pending.timers !== 0)
    fail(`${label}: the closed loop's answers changed after its core was reused`);
  b.close();
  c.close();
}

/** Runs one timer on a fresh real-clock loop and deliberately never closes it. */
async function leaveAnIdleLoop(createEventLoop, watchdogMs) {
  const loop = await createEventLoop({ clock: "real" });
  let fired = false;
  loop.setTimeout(() => (fired = true), 1);
  const outcome = await runWithin(loop.run(), watchdogMs);
  if (outcome !== "ok" || !fired)
    throw new Error(`run() ended with ${outcome}, timer fired: ${fired}`);
  return true;
}

// ---- the host ----------------------------------------------------------------------------

/** What the driver will find in this runtime, and how its clock and timers behave. */
async function describeHost() {
  const g = globalThis;
  const handle = hostSetTimeout(() => {}, 0);
  hostClearTimeout(handle);
  const handleType = handle === null ? "null" : typeof handle;
  let unref = "none";
  if (handleType === "object" && typeof handle.unref === "function") unref = "handle.unref()";
  else if (typeof g.Deno?.unrefTimer === "function") unref = "Deno.unrefTimer";
  const wake =
    typeof g.setImmediate === "function"
      ? "setImmediate"
      : typeof g.MessageChannel === "function"
        ? "MessageChannel"
        : "setTimeout(0)";

  // Clock resolution: the smallest step performance.now() shows in a bounded spin.
  // A clock frozen while JS runs (workerd) shows no step at all.
  let step = Infinity;
  let last = hostNow();
  for (let spins = 0; spins < 200_000 && step === Infinity; spins++) {
    const now = hostNow();
    if (now !== last) step = now - last;
    last = now;
  }
  const sleeps = [];
  for (const ms of [0, 1, 4]) {
    const start = hostNow();
    await new Promise((resolve) => hostSetTimeout(resolve, ms));
    sleeps.push(`${ms}->${round(hostNow() - start)}`);
  }
  return {
    setImmediate: typeof g.setImmediate === "function",
    MessageChannel: typeof g.MessageChannel === "function",
    wake,
    timerHandle: handleType,
    unref,
    clockStepMs: step === Infinity ? "frozen during execution" : round(step, 6),
    hostTimeoutMs: sleeps.join(" "),
  };
}

/** Resolves "ok", "timeout", or the rejection's description; never rejects. */
function runWithin(promise, ms) {
  let timer;
  const watchdog = new Promise((resolve) => {
    timer = hostSetTimeout(() => resolve("timeout"), ms);
  });
  return Promise.race([
    promise.then(
      () => "ok",
      (error) => describeError(error),
    ),
    watchdog,
  ]).finally(() => hostClearTimeout(timer));
}

function round(x, digits = 2) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function describeError(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
