// Counts one host hot path's work in CPU instructions instead of time, for A/B of two
// builds on a machine too loaded for timings: run it under valgrind twice per build,
// once with N and once with 1,000 operations, and subtract (start-up and compilation cancel
// out; JIT tiering differences stay within a few percent).
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     node bench/instructions.mjs <dist dir> <html|node> <pair|chain|qm> <N>
//   (ns per op are not printed: "Collected : <instructions>" is valgrind's line)
//
// pair: setTimeout + clearTimeout on a real-clock loop; chain: N/1000 bursts of 1,000
// resolve + 10 thens on a manual clock; qm: N/1000 bursts of 1,000 queueMicrotask.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [dir = "dist", profile = "html", what = "pair", n = "500000"] = process.argv.slice(2);
const zigloop = await import(pathToFileURL(resolve(dir, "node.js")).href);
const N = Number(n);
const loop = await zigloop.createEventLoop({
  profile,
  clock: what === "pair" ? "real" : "manual",
});
const fn = () => {};
if (what === "pair") {
  for (let i = 0; i < N; i++) loop.clearTimeout(loop.setTimeout(fn, 1000));
} else if (what === "chain") {
  const P = loop.Promise;
  const step = (v) => v + 1;
  for (let r = 0; r < Math.ceil(N / 1000); r++) {
    loop.submit(() => {
      for (let c = 0; c < 1000; c++) {
        let p = P.resolve(c);
        for (let k = 0; k < 10; k++) p = p.then(step);
      }
    });
    loop.runUntilIdle();
  }
} else if (what === "qm") {
  for (let r = 0; r < Math.ceil(N / 1000); r++) {
    loop.submit(() => {
      for (let i = 0; i < 1000; i++) loop.queueMicrotask(fn);
    });
    loop.runUntilIdle();
  }
} else {
  throw new TypeError(`unknown workload ${what}: pair, chain or qm`);
}
loop.close();
