// A day of scheduled work, finished in milliseconds with a virtual clock.
// Run: npx zigloop run --virtual-time examples/virtual_time.js
const HOUR = 60 * 60 * 1000;
const log = (what) =>
  console.log(`${(performance.now() / HOUR).toFixed(2).padStart(6)} h  ${what}`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function nightlyJob() {
  await sleep(2 * HOUR);
  log("backup started");
  await sleep(45 * 60 * 1000);
  log("backup finished");
}

let beats = 0;
const heartbeat = setInterval(() => {
  beats += 1;
  if (beats % 6 === 0) log(`heartbeat ${beats}`);
}, HOUR);

nightlyJob().then(() => {
  setTimeout(() => {
    clearInterval(heartbeat);
    log(`done after ${beats} heartbeats`);
  }, 20 * HOUR);
});
