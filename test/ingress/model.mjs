// The ingress model: producer threads (fixtures/model_producer.mjs) post random bursts
// while the loop side follows a random schedule — waits, ingress.close(),
// ingress.shutdown(), loop.close(), loop.shutdown() — and, after each of those, a fresh
// loop and ingress whose description goes to every producer (the consumer restarts).
//
// The reference model is trivial: per producer, sequence numbers 0, 1, 2, ... in the
// order posts were accepted, each epoch (one ingress) owning a contiguous range. The
// check: in every epoch, each producer's delivered messages are exactly the first d of
// the range it had accepted there, in order, none twice, none from another epoch; and
// d + the close report's `undelivered` for that producer = what it accepted. So every
// message was delivered exactly once or reported as not delivered.
//
// Shared by test/ingress/model.test.ts (fast-check schedules) and scripts/soak_ingress.mjs.
import { Worker } from "node:worker_threads";

const PRODUCER = new URL("./fixtures/model_producer.mjs", import.meta.url);

/** A random schedule step: { wait: ms } or { end: "closeIngress" | "shutdownIngress" | "closeLoop" | "shutdownLoop" }. */
export const ENDINGS = ["closeIngress", "shutdownIngress", "closeLoop", "shutdownLoop"];

/**
 * Runs one schedule. `lib` = { createEventLoop, createIngress } (sources or dist).
 * Returns { epochs, messages, delivered, undelivered, problems: string[] }.
 */
export async function runSchedule(
  lib,
  { producers, schedule, seed, burst = 40, pauseMs = 2, laneBytes = 1024, window = 64 },
) {
  const problems = [];
  const threads = [];
  const accounts = []; // { tag, epoch, start, accepted }
  const finished = [];
  const started = [];
  for (let tag = 0; tag < producers; tag++) {
    const worker = new Worker(PRODUCER, {
      workerData: { tag, seed: seed * 7919 + tag + 1, burst, pauseMs },
    });
    let markFinished;
    let markStarted;
    finished.push(new Promise((resolve) => (markFinished = resolve)));
    started.push(new Promise((resolve) => (markStarted = resolve)));
    worker.on("message", (message) => {
      if (message.finished) {
        markStarted();
        markFinished();
      } else if (message.opened !== undefined) markStarted();
      else accounts.push(message);
    });
    worker.on("error", (error) => {
      problems.push(`producer ${tag} failed: ${error?.stack ?? error}`);
      markFinished();
    });
    threads.push(worker);
  }

  const epochs = []; // { epoch, byProducer: Map<tag, seq[]>, ids: Map<tag, id>, report }
  let epoch;
  const open = async () => {
    const loop = await lib.createEventLoop();
    const ingress = lib.createIngress(loop, { producers: producers + 1, laneBytes, window });
    const record = {
      epoch: epochs.length,
      loop,
      ingress,
      byProducer: new Map(),
      ids: new Map(),
      report: undefined,
    };
    ingress.on(1, (value, id) => {
      const tag = Math.floor(value / 1e7);
      let list = record.byProducer.get(tag);
      if (list === undefined) record.byProducer.set(tag, (list = []));
      list.push(value % 1e7);
      const known = record.ids.get(tag);
      if (known !== undefined && known !== id)
        problems.push(`epoch ${record.epoch}: producer ${tag} arrived with two ids`);
      record.ids.set(tag, id);
    });
    record.running = loop.run();
    epochs.push(record);
    for (const worker of threads)
      worker.postMessage({ epoch: record.epoch, description: ingress.description });
    return record;
  };
  const end = async (record, how) => {
    const { loop, ingress } = record;
    if (how === "closeIngress") record.report = ingress.close();
    else if (how === "shutdownIngress") record.report = await ingress.shutdown();
    else if (how === "closeLoop") record.loopReport = loop.close();
    else if (how === "shutdownLoop") record.loopReport = await loop.shutdown();
    record.report ??= ingress.report ?? ingress.close();
    if (loop.state !== "closed") loop.close();
    await record.running.catch(() => {});
    if (record.loopReport?.ingress !== undefined) {
      const { delivered, undelivered } = record.loopReport.ingress;
      if (delivered !== record.report.delivered || undelivered !== record.report.undelivered) {
        problems.push(
          `epoch ${record.epoch}: the loop's report says ${JSON.stringify(record.loopReport.ingress)}, the ingress's ${JSON.stringify(record.report)}`,
        );
      }
    }
  };

  epoch = await open();
  // The schedule starts once every producer thread is up and posting.
  await Promise.race([Promise.all(started), Promise.all(finished)]);
  for (const step of schedule) {
    if (step.wait !== undefined) await new Promise((resolve) => setTimeout(resolve, step.wait));
    else {
      await end(epoch, step.end);
      epoch = await open();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const worker of threads) worker.postMessage({ stop: true });
  await end(epoch, "shutdownIngress");
  await Promise.all(finished);
  await Promise.all(threads.map((worker) => worker.terminate()));

  // ---- the check -------------------------------------------------------------------
  let messages = 0;
  let delivered = 0;
  let undelivered = 0;
  for (const record of epochs) {
    const reportById = new Map(record.report.producers.map((p) => [p.id, p.undelivered]));
    let reportedHere = 0;
    for (let tag = 0; tag < producers; tag++) {
      const account = accounts.find((a) => a.tag === tag && a.epoch === record.epoch);
      const got = record.byProducer.get(tag) ?? [];
      if (account === undefined) {
        if (got.length > 0)
          problems.push(
            `epoch ${record.epoch}: producer ${tag} never reported, yet ${got.length} messages arrived`,
          );
        continue;
      }
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== account.start + i) {
          problems.push(
            `epoch ${record.epoch}: producer ${tag}: message ${i} is seq ${got[i]}, expected ${account.start + i} (lost, duplicated or reordered)`,
          );
          break;
        }
      }
      if (got.length > account.accepted)
        problems.push(
          `epoch ${record.epoch}: producer ${tag}: ${got.length} delivered but only ${account.accepted} accepted`,
        );
      const id = record.ids.get(tag);
      const missing = account.accepted - got.length;
      const reported = id === undefined ? 0 : (reportById.get(id) ?? 0);
      if (id !== undefined && reported !== missing) {
        problems.push(
          `epoch ${record.epoch}: producer ${tag} (id ${id}): accepted ${account.accepted}, delivered ${got.length}, report says ${reported} undelivered`,
        );
      }
      if (id !== undefined) reportedHere += reported;
      messages += account.accepted;
      delivered += got.length;
      undelivered += missing;
    }
    // Producers that got nothing delivered in this epoch are matched by total.
    const unmatchedMissing = [...Array(producers).keys()]
      .filter((tag) => !record.ids.has(tag))
      .reduce(
        (n, tag) =>
          n + (accounts.find((a) => a.tag === tag && a.epoch === record.epoch)?.accepted ?? 0),
        0,
      );
    if (reportedHere + unmatchedMissing !== record.report.undelivered) {
      problems.push(
        `epoch ${record.epoch}: report undelivered ${record.report.undelivered}, accounted ${reportedHere + unmatchedMissing}`,
      );
    }
    if (
      record.report.delivered !== [...record.byProducer.values()].reduce((n, l) => n + l.length, 0)
    ) {
      problems.push(
        `epoch ${record.epoch}: report delivered ${record.report.delivered}, handlers saw ${[...record.byProducer.values()].reduce((n, l) => n + l.length, 0)}`,
      );
    }
  }
  return { epochs: epochs.length, messages, delivered, undelivered, problems };
}
