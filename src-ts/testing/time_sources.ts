/**
 * The fake clock's monotonic time sources: `performance` and Node's `process.hrtime`.
 * Both read the loop's virtual time (ms since the clock was created, exact to the µs),
 * so `setSystemTime` does not move them, as on a real host.
 *
 * @module
 */

/** The fake `performance`: `now()` and `timeOrigin` read the clock; the rest forwards. */
export interface FakePerformance {
  now(): number;
  readonly timeOrigin: number;
  [name: string]: unknown;
}

/**
 * Builds the fake `performance`. With a real one, the fake inherits from an object that
 * has the real one's prototype (so `instanceof Performance` holds) and forwards every
 * other method and getter to it (marks, measures, `toJSON`, Node's `eventLoopUtilization`).
 * @param real The global's real performance object, or undefined.
 * @param loopNow The loop's virtual time in ms.
 * @param timeOrigin The clock's start, epoch ms.
 */
export function createFakePerformance(
  real: object | undefined,
  loopNow: () => number,
  timeOrigin: number,
): FakePerformance {
  const fake = Object.create(real === undefined ? null : forwarder(real)) as FakePerformance;
  Object.defineProperty(fake, "now", { value: loopNow, writable: true, configurable: true });
  Object.defineProperty(fake, "timeOrigin", { value: timeOrigin, configurable: true });
  return fake;
}

const forwarderCache = new WeakMap<object, object>();

/**
 * An object with `real`'s prototype that forwards every method and getter of `real`
 * (but now/timeOrigin) to it; one per real object, the prototype of every fake.
 */
function forwarder(real: object): object {
  const cached = forwarderCache.get(real);
  if (cached !== undefined) return cached;
  const map: PropertyDescriptorMap = {};
  const seen = new Set<PropertyKey>(["constructor", "now", "timeOrigin"]);
  for (
    let o: object | null = real;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o)
  ) {
    for (const name of Reflect.ownKeys(o)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const d = Object.getOwnPropertyDescriptor(o, name)!;
      if (typeof d.value === "function") {
        const method = d.value as (...args: unknown[]) => unknown;
        map[name as string] = {
          value: (...args: unknown[]) => Reflect.apply(method, real, args),
          writable: true,
          configurable: true,
        };
      } else if (d.get !== undefined) {
        const get = d.get;
        map[name as string] = { get: () => Reflect.apply(get, real, []), configurable: true };
      }
    }
  }
  const shared = Object.create(Object.getPrototypeOf(real), map) as object;
  forwarderCache.set(real, shared);
  return shared;
}

/**
 * Node's `process.hrtime` on the loop's time: `[seconds, nanoseconds]`, or the
 * difference from `prev`; `hrtime.bigint()` in nanoseconds.
 */
export function hrtimeOf(loopNow: () => number) {
  const nowUs = () => Math.round(loopNow() * 1000);
  const hrtime = (prev?: readonly number[]): [number, number] => {
    const us = nowUs();
    let secs = Math.floor(us / 1e6);
    let nanos = (us % 1e6) * 1000;
    if (Array.isArray(prev)) {
      if (prev[1]! > 1e9) throw new TypeError("Number of nanoseconds can't exceed a billion");
      secs -= prev[0]!;
      nanos -= prev[1]!;
      if (nanos < 0) {
        nanos += 1e9;
        secs -= 1;
      }
    }
    return [secs, nanos];
  };
  hrtime.bigint = (): bigint => BigInt(nowUs()) * 1000n;
  return hrtime;
}
