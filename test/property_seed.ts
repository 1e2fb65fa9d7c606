/// <reference types="node" />
/**
 * The seed of the fast-check property tests (test/semantics/model.test.ts,
 * test/reliability/model.test.ts).
 *
 * `ZIGLOOP_SEED` (an integer) replays a run; `ZIGLOOP_PROPERTY_SEED` is its older name.
 * Without either, every process draws a new seed, so each `npm test` explores other
 * cases than the last. Either way the seed is printed when the file loads, and fast-check
 * repeats it (with the shrunk counterexample's path) in the failure it reports: a failing
 * seed is replayed with `ZIGLOOP_SEED=<seed> npx vitest run <file>`, and the
 * counterexample it shrinks to becomes a regression test. CI (.ci/run) draws one seed per
 * run, prints it before `npm test` and passes it to every file.
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The seed from the environment, or a new one; a value that is not an integer is an error. */
function chooseSeed(): number {
  const text = process.env.ZIGLOOP_SEED ?? process.env.ZIGLOOP_PROPERTY_SEED;
  if (text === undefined || text === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`ZIGLOOP_SEED must be an integer, got ${JSON.stringify(text)}`);
  return seed;
}

const seed = chooseSeed();

/**
 * The seed for the property tests of the file at `fileUrl` (its `import.meta.url`),
 * printed with the command that replays it. `offset` gives a file's properties distinct
 * streams from one seed.
 */
export function propertySeed(fileUrl: string, offset = 0): number {
  const file = relative(process.cwd(), fileURLToPath(fileUrl));
  console.log(
    `${file}: fast-check seed ${seed} (replay: ZIGLOOP_SEED=${seed} npx vitest run ${file})`,
  );
  return seed + offset;
}
