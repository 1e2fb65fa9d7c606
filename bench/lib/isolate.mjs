// Runs one measurement in a fresh Node process.
//
// Why: in one process, the core suite's push + cancel at N=1e3 measured ~30% slower
// (42 -> 55 ns/op) when the same driver code had earlier driven other core instances
// (most likely V8 reusing optimized code and feedback specialized to the first
// instance's export functions), and the JS heaps drifted too. Without isolation, the
// order in which suites create instances would leak into the results. A fresh
// process per comparison also starts every comparison with an empty JS heap.
//
// The child imports `moduleUrl`, calls its export `exportName(args, { progress })`
// and sends back the (JSON-serializable) result; progress lines are relayed.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const childPath = fileURLToPath(new URL("./child.mjs", import.meta.url));

export function runIsolated(ctx, moduleUrl, exportName, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", childPath, moduleUrl, exportName, JSON.stringify(args)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let buffered = "";
    let result;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.length === 0) continue;
        const message = JSON.parse(line);
        if ("progress" in message) ctx.progress(message.progress);
        if ("result" in message) result = message.result;
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else
        reject(
          new Error(
            `isolated ${exportName}(${JSON.stringify(args)}) failed with exit code ${code} (its error is above)`,
          ),
        );
    });
  });
}
