// A callback that throws does not stop the loop; the run ends with exit code 1.
// Run: npx zigloop run examples/errors.js; echo "exit code $?"
setTimeout(() => {
  throw new Error("a timer callback failed");
}, 5);
setTimeout(() => console.log("the next timer still runs"), 10);
queueMicrotask(() => {
  throw new TypeError("so did a microtask");
});
queueMicrotask(() => console.log("and the next microtask runs too"));
