// Node.js timer semantics: Timeout objects, refresh(), unref(), and delay coercion.
// Run: npx zigloop run --profile node examples/node_profile.js
const started = performance.now();
const elapsed = () => `${Math.round(performance.now() - started)} ms`;

const watchdog = setTimeout(() => console.log(`watchdog fired at ${elapsed()}`), 30);
let kicks = 0;
const kicker = setInterval(() => {
  kicks += 1;
  watchdog.refresh(); // restart the 30 ms watchdog
  if (kicks === 3) {
    clearInterval(kicker);
    console.log(`stopped kicking at ${elapsed()}; watchdog id ${+watchdog}`);
  }
}, 10);

// An unref'd timer does not keep the loop alive: this never prints.
setTimeout(() => console.log("never printed"), 10_000).unref();
