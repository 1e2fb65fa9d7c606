// The task piscina runs in the offload comparison (bench/suites/ingress.mjs): the same
// function zigloop's pool runs, x => x + 1.
export default function increment(x) {
  return x + 1;
}
