// A small guest program for the edge worker: it only sees the globals it is given
// (the loop's timers, microtasks and Promise), like code a platform runs for a tenant.
// workerd forbids eval, so the guest is a module function that receives its globals.
export default async function guest(
  // biome-ignore lint/suspicious/noShadowRestrictedNames: the guest's Promise is the loop's, on purpose
  { setTimeout, setInterval, clearInterval, queueMicrotask, Promise },
  name,
) {
  const events = [];
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  queueMicrotask(() => events.push("microtask"));
  // Three beats of an interval and a sleep, awaited together: on a busy machine the
  // interval may skip late beats (it is drift-free), so the guest waits for the beats
  // themselves rather than guessing how many fit into the sleep.
  let ticks = 0;
  const ticked = new Promise((resolve) => {
    const ticker = setInterval(() => {
      ticks += 1;
      if (ticks === 3) {
        clearInterval(ticker);
        resolve();
      }
    }, 2);
  });
  await Promise.all([ticked, sleep(10)]);
  events.push(`slept, ${ticks} ticks`);
  const [a, b] = await Promise.all([sleep(1).then(() => "a"), sleep(2).then(() => "b")]);
  events.push(`all: ${a}${b}`);
  return { greeting: `hello, ${name}`, events };
}
