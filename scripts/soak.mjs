#!/usr/bin/env node
// The soak: the model-based property of test/reliability/model.test.ts, for minutes
// instead of seconds, with larger runs. Same model (test/reliability/model.mjs), same
// interpreter and zigloop backend (test/reliability/harness.mjs).
//
// Usage: node scripts/soak.mjs [--minutes N] [--seed S] [--profile html|node|both]
//                              [--max-ops N] [--dist] [--replay JSON|FILE]
//   --minutes N   how long to run (default 3; fractions allowed)
//   --seed S      the first batch's seed (default: time-based); batch k uses S + k
//   --profile P   html, node or both (default both, alternating per batch)
//   --max-ops N   most top-level operations per run (default 120)
//   --dist        test dist/node.js (after `npm run build`) instead of bundling src-ts/
//   --replay R    run one counterexample (JSON text, or a file holding it) and print both traces
//
// It prints progress after every batch and, at the end, the number of runs and
// operations. On the first disagreement it prints the seed, the shrunk counterexample
// and the traces around the first difference, and exits 1.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";

const root = fileURLToPath(new URL("..", import.meta.url));

function parseArgs(argv) {
  const options = {
    minutes: 3,
    seed: Date.now() % 2 ** 31,
    profile: "both",
    maxOps: 120,
    dist: false,
    replay: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--minutes":
        options.minutes = Number(value());
        if (!(options.minutes > 0)) fail("--minutes must be a positive number");
        break;
      case "--seed":
        options.seed = Number(value());
        if (!Number.isInteger(options.seed)) fail("--seed must be an integer");
        break;
      case "--profile":
        options.profile = value();
        if (!["html", "node", "both"].includes(options.profile))
          fail("--profile must be html, node or both");
        break;
      case "--max-ops":
        options.maxOps = Number(value());
        if (!(Number.isInteger(options.maxOps) && options.maxOps >= 1))
          fail("--max-ops must be a positive integer");
        break;
      case "--dist":
        options.dist = true;
        break;
      case "--replay":
        options.replay = value();
        break;
      case "--help":
      case "-h":
        console.log(
          readFileSync(fileURLToPath(import.meta.url), "utf8")
            .split("\n")
            .slice(1, 20)
            .map((l) => l.replace(/^\/\/ ?/, ""))
            .join("\n"),
        );
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${arg} (see --help)`);
    }
  }
  return options;
}

function fail(message) {
  console.error(`soak: ${message}`);
  process.exit(2);
}

/** zigloop itself: dist/node.js, or src-ts/node.ts bundled with esbuild into a temp dir. */
async function loadZigloop(useDist) {
  if (useDist) {
    const entry = join(root, "dist", "node.js");
    if (!existsSync(entry))
      fail("dist/node.js is missing: run `npm run build` first, or drop --dist");
    return { zigloop: await import(pathToFileURL(entry).href), cleanup: () => {} };
  }
  const { build } = await import("esbuild");
  const dir = mkdtempSync(join(tmpdir(), "zigloop-soak-"));
  const outfile = join(dir, "zigloop.mjs");
  await build({
    entryPoints: [join(root, "src-ts", "node.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "error",
  });
  return {
    zigloop: await import(pathToFileURL(outfile).href),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const { zigloop, cleanup } = await loadZigloop(options.dist);
  process.on("exit", cleanup);
  const { checkRun, countActions, describeDifference, runArbOf, tallyRun, traceModel, traceReal } =
    await import(pathToFileURL(join(root, "test", "reliability", "harness.mjs")).href);

  const module = new WebAssembly.Module(readFileSync(join(root, "wasm", "zigloop.wasm")));
  const createLoop = (loopOptions) => zigloop.createEventLoopSync({ module, ...loopOptions });
  const foreignLoop = createLoop({ profile: "node", clock: "manual" });
  const api = {
    createLoop,
    foreign: {
      timeout: foreignLoop.setTimeout(() => {}, 5),
      immediate: foreignLoop.setImmediate(() => {}),
    },
  };
  const source = options.dist ? "dist/node.js" : "src-ts (bundled)";

  if (options.replay !== undefined) {
    const text = existsSync(options.replay) ? readFileSync(options.replay, "utf8") : options.replay;
    const parsed = JSON.parse(text);
    const run = Array.isArray(parsed) ? parsed[0] : parsed;
    const profiles = options.profile === "both" ? ["html", "node"] : [options.profile];
    let failed = false;
    for (const profile of profiles) {
      const expected = await traceModel(profile, run);
      const actual = await traceReal(api, profile, run);
      console.log(`--- ${profile}: ${describeDifference(expected, actual)}`);
      console.log(`model:   ${expected.join(" | ")}`);
      console.log(`zigloop: ${actual.join(" | ")}`);
      failed ||= expected.join("\n") !== actual.join("\n") || actual.includes("RUNAWAY");
    }
    process.exit(failed ? 1 : 0);
  }

  console.log(
    `soak: ${options.minutes} min, seed ${options.seed}, profile ${options.profile}, up to ${options.maxOps} operations per run, ` +
      `zigloop from ${source}`,
  );
  const arb = runArbOf({ maxOps: options.maxOps, size: "large" });
  const deadline = Date.now() + options.minutes * 60_000;
  const started = Date.now();
  const totals = { runs: 0, operations: 0, actions: 0, entries: 0 };
  /** @type {Record<string, number>} what the runs exercised (actions by type, hostile hooks) */
  const tally = {};
  for (let batch = 0; Date.now() < deadline; batch++) {
    const profile =
      options.profile === "both" ? (batch % 2 === 0 ? "html" : "node") : options.profile;
    const seed = options.seed + batch;
    const property = fc.asyncProperty(arb, async (run) => {
      const entries = await checkRun(api, profile, run);
      totals.runs++;
      totals.operations += run.ops.length;
      totals.actions += countActions(run.ops);
      totals.entries += entries;
      tallyRun(run, tally);
    });
    // The last batch stops at the deadline (fast-check interrupts between runs).
    const details = await fc.check(property, {
      numRuns: 400,
      seed,
      interruptAfterTimeLimit: Math.max(1, deadline - Date.now()),
    });
    if (details.failed) {
      const [run] = details.counterexample ?? [];
      console.error(
        `\nsoak: FAILED in batch ${batch} (${profile} profile), seed ${seed}, path ${details.counterexamplePath}`,
      );
      console.error(
        `after ${totals.runs} passing runs and ${totals.operations} operations; shrunk ${details.numShrinks} times`,
      );
      console.error(
        `counterexample (replay: node scripts/soak.mjs --profile ${profile} --replay '<json>'):`,
      );
      console.error(JSON.stringify(run));
      const error = details.errorInstance;
      console.error(String(error instanceof Error ? error.message : error));
      process.exit(1);
    }
    const elapsed = (Date.now() - started) / 1000;
    console.log(
      `  batch ${batch} ${profile} seed ${seed}: ok — ${totals.runs} runs, ${totals.operations} operations ` +
        `(${totals.actions} actions, ${totals.entries} trace entries) in ${elapsed.toFixed(1)} s`,
    );
  }
  foreignLoop.close();
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `soak: passed — ${totals.runs} runs, ${totals.operations} top-level operations, ${totals.actions} actions, ` +
      `${totals.entries} trace entries in ${seconds.toFixed(0)} s ` +
      `(${(totals.operations / seconds).toFixed(0)} operations/s, ${(totals.actions / seconds).toFixed(0)} actions/s); ` +
      `model and zigloop agree`,
  );
  console.log(
    `soak: exercised — ${Object.entries(tally)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key} ${n}`)
      .join(", ")}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
