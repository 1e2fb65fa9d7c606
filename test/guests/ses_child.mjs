/**
 * The escape battery under Hardened JavaScript, in a process of its own (`lockdown()`
 * freezes the intrinsics of the whole realm, so never inside the vitest worker): SES
 * `lockdown()` first, then zigloop (built, dist/), then for each vector and profile a
 * fresh loop installed on a fresh `Compartment`'s global, the prelude and the vector
 * evaluated in that compartment, the loop run until idle. Prints one JSON array of
 * `{ name, profile, out, threw }` on stdout; ses.test.ts checks it.
 *
 * @module
 */
import "ses";

lockdown();

// After lockdown: zigloop must load and run with frozen intrinsics.
const { createEventLoop } = await import("../../dist/node.js");
const { GLOBAL_NAMES } = await import("../../dist/loop/globals.js");
const { prelude } = await import("./prelude.mjs");
const { VECTORS } = await import("./vectors.mjs");

const results = [];
for (const profile of ["html", "node"]) {
  for (const vector of VECTORS) {
    if (vector.paths && !vector.paths.includes("ses")) continue;
    if (vector.profiles && !vector.profiles.includes(profile)) continue;
    const loop = await createEventLoop({
      profile,
      capacity: vector.capacity,
      onError: () => {}, // what the guest throws is not read here
    });
    const compartment = new Compartment({ __options__: true });
    const dispose = loop.installGlobals(compartment.globalThis);
    compartment.evaluate(prelude({ path: "ses", profile, installed: GLOBAL_NAMES }));
    let threw = false;
    try {
      compartment.evaluate(vector.source);
    } catch {
      threw = true;
    }
    await loop.run();
    dispose();
    loop.close();
    results.push({ name: vector.name, profile, out: compartment.evaluate("$.output()"), threw });
  }
}
process.stdout.write(JSON.stringify(results));
