// The cross-runtime ingress case, run by every runner after the smoke: two producer
// threads (ingress_producer.mjs) post into a loop through `zigloop/worker`; the loop
// checks that every message arrived once and in order per producer; then `offload` runs
// a function in the pool and an error crosses back as an error. Web-standard globals
// only (the runner passes how to start a thread).
//
// workerd has no threads: there createIngress and createPool must throw
// ThreadsUnavailableError, and that is the expected result.

const COUNT = 2000;
const PRODUCERS = 2;

/**
 * @param {object} options
 * @param {(options?: object) => Promise<any>} options.createEventLoop
 * @param {any} options.ingress the `zigloop/ingress` module
 * @param {string} options.entry URL of the `zigloop/worker` module, for the producers
 * @param {(url: URL, message: object) => { terminate(): void }} [options.startThread] undefined where there are no threads
 * @returns {Promise<{ ok: boolean, delivered?: number, offload?: unknown, unsupported?: string, errors: string[] }>}
 */
export async function ingressCase({ createEventLoop, ingress, entry, startThread }) {
  const errors = [];
  const loop = await createEventLoop();
  const threads = [];
  try {
    if (startThread === undefined) {
      for (const [name, create] of [
        ["createIngress", () => ingress.createIngress(loop)],
        ["createPool", () => ingress.createPool(loop)],
      ]) {
        try {
          create();
          errors.push(`${name} worked in a runtime without threads`);
        } catch (error) {
          if (error?.name !== "ThreadsUnavailableError")
            errors.push(`${name} threw ${error?.name}: ${error?.message}`);
        }
      }
      return { ok: errors.length === 0, unsupported: "ThreadsUnavailableError", errors };
    }
    const channel = ingress.createIngress(loop, { laneBytes: 4096 });
    const next = new Map();
    const extras = [];
    let delivered = 0;
    let done = 0;
    channel.on(1, (value) => {
      delivered++;
      if (typeof value !== "number") {
        extras.push(value);
        return;
      }
      const tag = Math.floor(value / 1e6);
      const expected = next.get(tag) ?? 0;
      if (value % 1e6 !== expected)
        errors.push(`producer ${tag}: got ${value % 1e6}, expected ${expected}`);
      next.set(tag, expected + 1);
    });
    channel.on(2, () => {
      if (++done === PRODUCERS) channel.close();
    });
    const producer = new URL("./ingress_producer.mjs", import.meta.url);
    for (let tag = 0; tag < PRODUCERS; tag++) {
      threads.push(
        startThread(producer, { entry, description: channel.description, tag, count: COUNT }),
      );
    }
    const timeout = setTimeout(() => {
      errors.push(`timed out: ${delivered} delivered, ${done} producers done`);
      channel.close();
    }, 30_000);
    await loop.run();
    clearTimeout(timeout);
    for (let tag = 0; tag < PRODUCERS; tag++) {
      if (next.get(tag) !== COUNT)
        errors.push(`producer ${tag}: ${next.get(tag) ?? 0} of ${COUNT} numbers`);
    }
    if (extras.length !== PRODUCERS * 2)
      errors.push(`expected ${PRODUCERS * 2} strings and arrays, got ${extras.length}`);
    if (!extras.some((v) => typeof v === "string" && v.endsWith("\u2603")))
      errors.push("the string payload was garbled");
    if (!extras.some((v) => v instanceof Float64Array && v[1] === 0.5))
      errors.push("the Float64Array payload was garbled");

    const pool = ingress.createPool(loop, { size: 1 });
    const product = await pool.run((a, b) => a * b, [6, 7]);
    if (product !== 42) errors.push(`offload returned ${product}`);
    const failure = await pool
      .run(() => {
        throw new TypeError("from the worker");
      })
      .catch((error) => error);
    if (
      !(failure instanceof TypeError) ||
      failure.message !== "from the worker" ||
      !String(failure.stack).includes("zigloop-offload")
    ) {
      errors.push(`offload error crossed as ${failure?.name}: ${failure?.message}`);
    }
    // Cancelling a running call: the promise rejects at once; its worker is replaced.
    const controller = new AbortController();
    const spinning = pool.run(
      (ms) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return "finished";
      },
      [1500],
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("cancelled")), 30);
    const started = Date.now();
    const cancelled = await spinning.then(
      (value) => value,
      (error) => error,
    );
    if (!(cancelled instanceof Error) || cancelled.message !== "cancelled")
      errors.push(`abort: the call ended with ${cancelled}`);
    if (Date.now() - started > 1000)
      errors.push(`abort: rejected only after ${Date.now() - started} ms`);
    const after = await pool.run((x) => x + 1, [1]);
    if (after !== 2) errors.push(`after an abort the pool returned ${after}`);
    await pool.close();
    return { ok: errors.length === 0, delivered, offload: product, errors };
  } catch (error) {
    errors.push(`threw ${error?.stack ?? error}`);
    return { ok: false, errors };
  } finally {
    loop.close();
    for (const thread of threads) thread.terminate();
  }
}

/** startThread for runtimes with a web Worker (Deno, Bun, browsers). */
export function startWebWorker(url, message) {
  const worker = new Worker(url, { type: "module" });
  worker.postMessage(message);
  return worker;
}

/** Adds the ingress case to a smoke result (its failures fail the runtime). */
export function withIngress(result, ingressResult) {
  const merged = { ...result, ingress: ingressResult };
  if (!ingressResult.ok) {
    merged.ok = false;
    merged.errors = [...(result.errors ?? []), ...ingressResult.errors.map((e) => `ingress: ${e}`)];
  }
  return merged;
}

/**
 * The runners' step after the smoke: the ingress case with `zigloop/ingress` and
 * `zigloop/worker` taken from `dir` (a folder of the repository: dist/ingress, or
 * src-ts/ingress with `ext` "ts"), merged into the smoke's result.
 * @param {object} smoked the smoke's result
 * @param {object} options
 * @param {(options?: object) => Promise<any>} options.createEventLoop
 * @param {string} options.dir
 * @param {string} [options.ext] "js" (default) or "ts"
 * @param {(url: URL, message: object) => { terminate(): void }} [options.startThread] default: a web Worker
 */
export async function smokeWithIngress(
  smoked,
  { createEventLoop, dir, ext = "js", startThread = startWebWorker },
) {
  const base = new URL(`../../${dir}/`, import.meta.url);
  const ingressResult = await ingressCase({
    createEventLoop,
    ingress: await import(new URL(`mod.${ext}`, base).href),
    entry: new URL(`worker.${ext}`, base).href,
    startThread,
  });
  return withIngress(smoked, ingressResult);
}
