// The order of tasks, timers and microtasks on a zigloop loop.
// Run: npx zigloop run examples/hello.js
const order = [];
const note = (what) => order.push(what);

setTimeout(() => note("timeout 0"), 0);
setTimeout(() => {
  note("timeout 10");
  queueMicrotask(() => note("microtask from timeout 10"));
  Promise.resolve().then(() => note("promise job from timeout 10"));
}, 10);
setTimeout(() => note("timeout 10, second"), 10);
setImmediate(() => note("immediate"));
queueMicrotask(() => note("microtask from the script"));

(async () => {
  note("async function starts");
  await null;
  note("after await (native promise job)");
})();

setTimeout(() => {
  console.log(order.map((what, i) => `${String(i + 1).padStart(2)}. ${what}`).join("\n"));
}, 20);
