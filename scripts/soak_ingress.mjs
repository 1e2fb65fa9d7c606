#!/usr/bin/env node
// The ingress soak: the model of test/ingress/model.test.ts (test/ingress/model.mjs), for
// minutes instead of seconds, with longer schedules. Producer threads post random bursts
// while the loop side randomly closes / shuts down its ingress or its whole loop and
// restarts a fresh one; every message must be delivered exactly once, in order per
// producer, or counted as not delivered by the close report.
//
// Usage: node scripts/soak_ingress.mjs [--minutes N] [--seed S] [--producers N]
//   --minutes N    how long to run (default 3; fractions allowed); bounded: it stops
//                  starting schedules after N minutes and the last one ends within seconds
//   --seed S       the first schedule's seed (default: time-based); schedule k uses S + k
//   --producers N  at most N producer threads per schedule (default 6)
//
// Runs the built package (dist/: `npm run build` first). Prints progress after every
// schedule and the totals at the end (messages accepted, delivered, reported
// undelivered, lost, duplicated, reordered); exits 1 on the first problem, with its seed.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function parseArgs(argv) {
  const options = { minutes: 3, seed: Date.now() % 2 ** 31, producers: 6 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${arg} needs a value`);
      return Number(v);
    };
    if (arg === "--minutes") options.minutes = value();
    else if (arg === "--seed") options.seed = value();
    else if (arg === "--producers") options.producers = value();
    else if (arg === "--help" || arg === "-h") usage();
    else usage(`unknown option ${arg}`);
  }
  if (!(options.minutes > 0)) usage("--minutes must be a positive number");
  if (!Number.isInteger(options.seed)) usage("--seed must be an integer");
  if (!(Number.isInteger(options.producers) && options.producers >= 1 && options.producers <= 64))
    usage("--producers must be 1..64");
  return options;
}

function usage(message) {
  if (message) console.error(message);
  console.error(
    readFileSync(fileURLToPath(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 18)
      .map((l) => l.replace(/^\/\/ ?/, ""))
      .join("\n"),
  );
  process.exit(message ? 2 : 0);
}

function prng(seed) {
  // Scrambled first (xorshift alone starts low for small seeds).
  let state = Math.imul((seed ^ (seed >>> 16)) >>> 0, 0x45d9f3b);
  state = Math.imul(state ^ (state >>> 16), 0x45d9f3b);
  state = (state ^ (state >>> 16)) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const options = parseArgs(process.argv.slice(2));
for (const built of ["dist/node.js", "dist/ingress/mod.js", "dist/ingress/worker.js"]) {
  if (!existsSync(`${root}/${built}`)) {
    console.error(`${built} is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
}
const { createEventLoop } = await import(`${root}/dist/node.js`);
const { createIngress } = await import(`${root}/dist/ingress/mod.js`);
const { ENDINGS, runSchedule } = await import(`${root}/test/ingress/model.mjs`);

const deadline = Date.now() + options.minutes * 60_000;
const totals = { schedules: 0, epochs: 0, messages: 0, delivered: 0, undelivered: 0 };
const endings = Object.fromEntries(ENDINGS.map((e) => [e, 0]));
console.log(
  `ingress soak: ${options.minutes} min, seed ${options.seed}, up to ${options.producers} producers`,
);
for (let k = 0; Date.now() < deadline; k++) {
  const seed = options.seed + k;
  const random = prng(seed);
  const producers = 1 + Math.floor(random() * options.producers);
  const schedule = [];
  for (let steps = 5 + Math.floor(random() * 25); steps > 0; steps--) {
    if (random() < 0.7) schedule.push({ wait: Math.floor(random() * 40) });
    else {
      const end = ENDINGS[Math.floor(random() * ENDINGS.length)];
      endings[end]++;
      schedule.push({ end });
    }
  }
  const laneBytes = [256, 1024, 4096, 65536][Math.floor(random() * 4)];
  const window = [1, 8, 64, 1024][Math.floor(random() * 4)];
  const result = await runSchedule(
    { createEventLoop, createIngress },
    {
      producers,
      schedule,
      seed,
      laneBytes,
      window,
      burst: 1 + Math.floor(random() * 200),
      pauseMs: random() * 3,
    },
  );
  totals.schedules++;
  totals.epochs += result.epochs;
  totals.messages += result.messages;
  totals.delivered += result.delivered;
  totals.undelivered += result.undelivered;
  if (result.problems.length > 0) {
    console.log(
      `FAILED: seed ${seed} (${producers} producers, lanes ${laneBytes} B, window ${window})`,
    );
    for (const problem of result.problems.slice(0, 20)) console.log(`  - ${problem}`);
    console.log(
      `replay: node scripts/soak_ingress.mjs --minutes 0.01 --seed ${seed} --producers ${options.producers}`,
    );
    process.exit(1);
  }
  const left = Math.max(0, (deadline - Date.now()) / 1000).toFixed(0);
  console.log(
    `schedule ${k + 1} (seed ${seed}): ${producers} producers, ${result.epochs} consumers, ${result.messages} accepted, ` +
      `${result.delivered} delivered, ${result.undelivered} reported undelivered; ${left} s left`,
  );
}
console.log(
  `\nsoak done: ${totals.schedules} schedules, ${totals.epochs} consumer lifetimes (${Object.entries(
    endings,
  )
    .map(([e, n]) => `${n} ${e}`)
    .join(", ")}), ` +
    `${totals.messages} messages accepted: ${totals.delivered} delivered exactly once and in order, ${totals.undelivered} reported undelivered, ` +
    "0 lost, 0 duplicated, 0 reordered.",
);
