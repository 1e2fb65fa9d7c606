/**
 * The loop's Promise, to the last detail of ECMA-262 §27.2 and of the TC39 proposals
 * test262 covers (await-dictionary: Promise.allKeyed / allSettledKeyed). Checked against the
 * specification text, not against V8: property attributes, `name` and `length` of every
 * built-in (the anonymous ones included), CreateDataProperty where the spec says so.
 */
import { describe, expect, test } from "vitest";
import { createEventLoop } from "../../src-ts/node.ts";

async function loopPromise() {
  const loop = await createEventLoop({ clock: "manual" });
  return { loop, P: loop.Promise as any };
}

function attributes(target: object, key: PropertyKey) {
  const d = Object.getOwnPropertyDescriptor(target, key)!;
  return { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable };
}

const METHOD = { writable: true, enumerable: false, configurable: true };
const NAME_OR_LENGTH = { writable: false, enumerable: false, configurable: true };

describe("built-ins: name, length and property attributes (§27.2.3–§27.2.5, §18 ECMAScript Standard Built-in Objects)", () => {
  test("the constructor is named Promise, length 1", async () => {
    const { P } = await loopPromise();
    expect(P.name).toBe("Promise");
    expect(P.length).toBe(1);
    expect(attributes(P, "name")).toEqual(NAME_OR_LENGTH);
    expect(attributes(P, "length")).toEqual(NAME_OR_LENGTH);
    // Deviation (docs/PROMISE.md): writable, where §27.2.4.4 says not. A non-writable
    // `prototype` puts the constructor in V8's dictionary mode and costs every `then` ~10 ns.
    expect(attributes(P, "prototype")).toEqual({
      writable: true,
      enumerable: false,
      configurable: false,
    });
  });

  test("assigning loop.Promise.prototype changes no promise: the loop's promises keep the shared prototype", async () => {
    const { P, loop } = await loopPromise();
    const shared = P.prototype;
    P.prototype = {};
    try {
      const p = new P(() => {});
      expect(Object.getPrototypeOf(p)).toBe(shared);
      expect(Object.getPrototypeOf(P.resolve(1).then())).toBe(shared);
    } finally {
      P.prototype = shared;
      loop.close();
    }
  });

  test.each([
    ["resolve", 1],
    ["reject", 1],
    ["all", 1],
    ["allSettled", 1],
    ["any", 1],
    ["race", 1],
    ["withResolvers", 0],
    ["try", 1],
    ["allKeyed", 1],
    ["allSettledKeyed", 1],
  ])("Promise.%s: length %i, writable, not enumerable, configurable", async (name, length) => {
    const { P } = await loopPromise();
    expect(P[name].name).toBe(name);
    expect(P[name].length).toBe(length);
    expect(attributes(P, name)).toEqual(METHOD);
  });

  test.each([
    ["then", 2],
    ["catch", 1],
    ["finally", 1],
  ])("Promise.prototype.%s: length %i, attributes", async (name, length) => {
    const { P } = await loopPromise();
    expect(P.prototype[name].name).toBe(name);
    expect(P.prototype[name].length).toBe(length);
    expect(attributes(P.prototype, name)).toEqual(METHOD);
  });

  test("Symbol.species getter and Symbol.toStringTag", async () => {
    const { P } = await loopPromise();
    const species = Object.getOwnPropertyDescriptor(P, Symbol.species)!;
    expect(species.get!.name).toBe("get [Symbol.species]");
    expect(species.set).toBeUndefined();
    expect(species.configurable).toBe(true);
    expect(attributes(P.prototype, Symbol.toStringTag)).toEqual(NAME_OR_LENGTH);
    expect(P.prototype[Symbol.toStringTag]).toBe("Promise");
  });
});

describe("anonymous built-in functions: name is the empty string", () => {
  test("the resolving functions of the constructor's executor (CreateResolvingFunctions): name '', length 1", async () => {
    const { P } = await loopPromise();
    let resolve: any;
    let reject: any;
    new P((res: unknown, rej: unknown) => {
      resolve = res;
      reject = rej;
    });
    for (const fn of [resolve, reject]) {
      expect(fn.name).toBe("");
      expect(fn.length).toBe(1);
      expect(Object.hasOwn(fn, "prototype")).toBe(false);
    }
  });

  test("withResolvers' resolve and reject: name '', length 1", async () => {
    const { P } = await loopPromise();
    const { resolve, reject } = P.withResolvers();
    expect([resolve.name, reject.name, resolve.length, reject.length]).toEqual(["", "", 1, 1]);
  });

  test("the executor NewPromiseCapability passes to a constructor (GetCapabilitiesExecutor): name '', length 2", async () => {
    const { P } = await loopPromise();
    let seen: any;
    class Sub extends P {
      constructor(executor: any) {
        seen = executor;
        super(executor);
      }
    }
    Sub.resolve(1);
    expect(seen.name).toBe("");
    expect(seen.length).toBe(2);
  });

  test("Then Finally and Catch Finally functions: name '', length 1", async () => {
    const { P } = await loopPromise();
    let fns: any[] = [];
    P.prototype.finally.call(
      {
        constructor: P,
        then(a: unknown, b: unknown) {
          fns = [a, b];
        },
      },
      () => {},
    );
    expect(fns.map((f) => [f.name, f.length])).toEqual([
      ["", 1],
      ["", 1],
    ]);
  });

  test("Promise.all / allSettled / any element functions: name '', length 1", async () => {
    const { P } = await loopPromise();
    const seen: any[] = [];
    const thenable = {
      then(onFulfilled: any, onRejected: any) {
        seen.push(onFulfilled, onRejected);
      },
    };
    // A thenable that is not a loop promise goes through Invoke(next, "then", ...).
    const resolveAsIs = (C: any) =>
      class extends C {
        static resolve(v: unknown) {
          return v;
        }
      };
    const Sub = resolveAsIs(P);
    Sub.all([thenable]);
    Sub.allSettled([thenable]);
    Sub.any([thenable]);
    Sub.allKeyed({ a: thenable });
    Sub.allSettledKeyed({ a: thenable });
    for (const fn of seen) {
      expect(fn.name).toBe("");
      expect(fn.length).toBe(1);
    }
    expect(seen).toHaveLength(10);
  });
});

describe("CreateDataProperty, not Set: inherited setters never run", () => {
  /** Runs `body` with a setter on Array.prototype[0]; removed before anything else can see it. */
  function withInheritedSetter(body: () => void): number {
    let calls = 0; // a counter: pushing onto an array would itself call the setter
    Object.defineProperty(Array.prototype, 0, {
      set() {
        calls++;
      },
      configurable: true,
    });
    try {
      body();
    } finally {
      delete (Array.prototype as any)[0];
    }
    return calls;
  }

  test("Promise.all, allSettled and any store their results with CreateDataProperty", async () => {
    const { loop, P } = await loopPromise();
    const all: unknown[] = [undefined]; // index 0 exists: push never reaches the setter
    const calls = withInheritedSetter(() => {
      P.all([P.resolve(1), 2]).then((v: unknown[]) => all.push(v[0], Object.hasOwn(v, 0)));
      P.allSettled([P.resolve(1)]).then((v: any[]) => all.push(v[0].value, Object.hasOwn(v, 0)));
      P.any([P.reject(1)]).catch((e: AggregateError) =>
        all.push(e.errors[0], Object.hasOwn(e.errors, 0)),
      );
      loop.runUntilIdle();
    });
    expect(calls).toBe(0);
    expect(all).toEqual([undefined, 1, true, 1, true, 1, true]);
  });

  test("Promise.any's AggregateError: errors is an own, non-enumerable data property; no iterator is read", async () => {
    const { loop, P } = await loopPromise();
    let error: any;
    P.any([P.reject("a"), P.reject("b")]).catch((e: unknown) => {
      error = e;
    });
    const iterator = Array.prototype[Symbol.iterator];
    let iterated = false;
    (Array.prototype as any)[Symbol.iterator] = function (this: unknown[]) {
      iterated = true;
      return iterator.call(this);
    };
    try {
      loop.runUntilIdle();
    } finally {
      (Array.prototype as any)[Symbol.iterator] = iterator;
    }
    expect(iterated).toBe(false);
    expect(error).toBeInstanceOf(AggregateError);
    expect(Object.getOwnPropertyDescriptor(error, "errors")).toMatchObject({
      writable: true,
      enumerable: false,
      configurable: true,
    });
    expect([...error.errors]).toEqual(["a", "b"]);
  });
});

describe("Promise.allKeyed and Promise.allSettledKeyed (TC39 await-dictionary)", () => {
  test("allKeyed: an object with a null prototype and the input's key order, not the settlement order", async () => {
    const { loop, P } = await loopPromise();
    const order: Array<(v: string) => void> = [];
    const input = {
      first: new P((r: any) => order.push(r)),
      second: new P((r: any) => order.push(r)),
      third: 3,
    };
    let result: any;
    P.allKeyed(input).then((v: unknown) => {
      result = v;
    });
    order[1]!("2nd");
    order[0]!("1st");
    loop.runUntilIdle();
    expect(Object.getPrototypeOf(result)).toBe(null);
    expect(Object.keys(result)).toEqual(["first", "second", "third"]);
    expect({ ...result }).toEqual({ first: "1st", second: "2nd", third: 3 });
  });

  test("allKeyed rejects with the first rejection; allSettledKeyed records both outcomes", async () => {
    const { loop, P } = await loopPromise();
    const out: unknown[] = [];
    P.allKeyed({ ok: 1, bad: P.reject("no") }).catch((e: unknown) => out.push(e));
    P.allSettledKeyed({ ok: 1, bad: P.reject("no") }).then((v: any) =>
      out.push(Object.getPrototypeOf(v), v.ok, v.bad),
    );
    loop.runUntilIdle();
    expect(out).toEqual([
      "no",
      null,
      { status: "fulfilled", value: 1 },
      { status: "rejected", reason: "no" },
    ]);
  });

  test("only own enumerable properties, symbols included, in [[OwnPropertyKeys]] order; getters read once", async () => {
    const { loop, P } = await loopPromise();
    const sym = Symbol("s");
    let reads = 0;
    const input = Object.create({ inherited: 1 });
    Object.defineProperty(input, "hidden", { value: 1, enumerable: false });
    Object.defineProperty(input, "getter", {
      get() {
        reads++;
        return "g";
      },
      enumerable: true,
    });
    input[2] = "two";
    input[sym] = "symbol";
    input.b = "b";
    let result: any;
    P.allKeyed(input).then((v: unknown) => {
      result = v;
    });
    loop.runUntilIdle();
    expect(Reflect.ownKeys(result)).toEqual(["2", "getter", "b", sym]);
    expect(reads).toBe(1);
  });

  test("a non-object argument rejects with a TypeError (after NewPromiseCapability)", async () => {
    const { loop, P } = await loopPromise();
    const errors: unknown[] = [];
    for (const value of [undefined, null, 1, "str", Symbol()]) {
      P.allKeyed(value).catch((e: unknown) => errors.push(e));
      P.allSettledKeyed(value).catch((e: unknown) => errors.push(e));
    }
    loop.runUntilIdle();
    expect(errors).toHaveLength(10);
    for (const error of errors) expect(error).toBeInstanceOf(TypeError);
  });

  test("an empty object resolves to an empty null-prototype object", async () => {
    const { loop, P } = await loopPromise();
    let result: any;
    P.allKeyed({}).then((v: unknown) => {
      result = v;
    });
    loop.runUntilIdle();
    expect(Object.getPrototypeOf(result)).toBe(null);
    expect(Reflect.ownKeys(result)).toEqual([]);
  });

  test("a throwing getter rejects the result promise (IfAbruptRejectPromise)", async () => {
    const { loop, P } = await loopPromise();
    let reason: unknown;
    P.allKeyed({
      get a() {
        throw new RangeError("getter");
      },
    }).catch((e: unknown) => {
      reason = e;
    });
    loop.runUntilIdle();
    expect(reason).toBeInstanceOf(RangeError);
  });
});
