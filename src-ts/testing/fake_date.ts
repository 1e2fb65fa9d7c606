/**
 * The fake `Date`: a constructor function whose argument-less forms (`new Date()`,
 * `Date()`, `Date.now()`) read the clock's system time. It shares the real `Date`'s
 * prototype, so a fake date *is* a real one (`instanceof` both ways, `constructor`,
 * every method, patches to `Date.prototype`), and inherits the real statics
 * (`Date.parse`, `Date.UTC`). No Proxy: `Date.now()` is a plain call (fake-timers wraps
 * a subclass in a Proxy, which costs every static call a Proxy lookup).
 *
 * @module
 */

/** The fake class: `typeof Date`, plus fake-timers' `isFake` marker. */
export type FakeDateConstructor = DateConstructor & { readonly isFake: true };

/**
 * Builds a fake `Date` reading `systemNow` (epoch ms, an integer).
 * @param NativeDate The real `Date` of the global being faked.
 * @param systemNow The clock's current system time.
 */
export function createFakeDate(
  NativeDate: DateConstructor,
  systemNow: () => number,
): FakeDateConstructor {
  function FakeDate(this: unknown, ...args: unknown[]): unknown {
    // `Date()` called without `new` returns the current time as a string.
    if (new.target === undefined) return new NativeDate(systemNow()).toString();
    const date =
      args.length === 0 ? new NativeDate(systemNow()) : new NativeDate(...(args as [number]));
    // A subclass of the fake (`class D extends Date`) gets its own prototype.
    if (new.target !== FakeDate) Object.setPrototypeOf(date, new.target.prototype);
    return date;
  }
  Object.setPrototypeOf(FakeDate, NativeDate); // Date.parse, Date.UTC
  Object.defineProperties(FakeDate, {
    prototype: { value: NativeDate.prototype, writable: false },
    name: { value: "Date" },
    length: { value: NativeDate.length },
    now: { value: systemNow, writable: true, configurable: true },
    toString: { value: () => NativeDate.toString(), writable: true, configurable: true },
    isFake: { value: true },
  });
  return FakeDate as unknown as FakeDateConstructor;
}
