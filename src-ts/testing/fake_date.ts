/**
 * The fake `Date`: a subclass of the real one whose argument-less forms (`new Date()`,
 * `Date()`, `Date.now()`) read the clock's system time. Everything else is the real
 * `Date`'s: parsing, `Date.UTC`, the prototype's methods; a fake date is a real `Date`,
 * and `instanceof` works both ways (a real date is an instance of the fake class).
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
  class ClockDate extends NativeDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(systemNow());
      else super(...(args as [number]));
      // `date.constructor === Date` keeps holding for code that compares it to the real one.
      Object.defineProperty(this, "constructor", { value: NativeDate, enumerable: false });
    }

    static override [Symbol.hasInstance](instance: unknown): boolean {
      return instance instanceof NativeDate;
    }

    static override now(): number {
      return systemNow();
    }

    static override toString(): string {
      return NativeDate.toString();
    }
  }
  Object.defineProperty(ClockDate, "isFake", { value: true });
  Object.defineProperty(ClockDate, "name", { value: "Date" });
  // `Date()` called without `new` returns the current time as a string.
  return new Proxy(ClockDate, {
    apply: () => new NativeDate(systemNow()).toString(),
  }) as unknown as FakeDateConstructor;
}
