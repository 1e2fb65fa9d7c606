/**
 * One lane, single-threaded: the record format (every payload type round-trips, padding
 * at the wrap), back-pressure (a full lane refuses and overwrites nothing), sealing (a
 * sealed lane refuses, and what was published before stays), all-or-nothing visibility
 * (a record written but not committed is never seen), and the structured codec.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decoder, Encoder } from "../../src-ts/ingress/codec.ts";
import {
  bufferBytes,
  COUNTER_MASK,
  initHeader,
  L_HEAD,
  L_STATE,
  L_TAIL,
  LANE_OPEN,
  laneWord,
  SEALED,
} from "../../src-ts/ingress/layout.ts";
import { LaneReader, LaneWriter, makeViews, readValue } from "../../src-ts/ingress/wire.ts";

function lane(laneBytes = 256) {
  const buffer = new SharedArrayBuffer(bufferBytes(1, laneBytes));
  const views = makeViews(buffer);
  initHeader(views.i32, 1, laneBytes);
  Atomics.store(views.i32, laneWord(0, L_STATE), LANE_OPEN);
  const writer = new LaneWriter(views, 1, laneBytes, 0, 0);
  const reader = new LaneReader(views, 1, laneBytes, 0);
  const drain = (): Array<[number, unknown]> => {
    const out: Array<[number, unknown]> = [];
    for (let at = reader.next(); at >= 0; at = reader.next()) {
      out.push([views.i32[at >> 2]! >>> 16, readValue(views, at)]);
      reader.consume();
    }
    return out;
  };
  return { views, writer, reader, drain };
}

describe("ingress lane: records", () => {
  it("every direct payload type round-trips, as a fresh value of this realm", () => {
    const { writer, drain } = lane(4096);
    const values: unknown[] = [
      0,
      -0,
      1.5,
      NaN,
      -Infinity,
      2 ** 53,
      "",
      "latin-1 ÿ é",
      "utf-16 \u{1f600} \u4e2d",
      "lone surrogate \ud800 kept",
      true,
      false,
      null,
      undefined,
      new Uint8Array([1, 2, 255]),
      new Int32Array([-1, 2 ** 31 - 1]),
      new Float64Array([Math.PI, -0]),
      new BigInt64Array([-(2n ** 63n)]),
      new Uint8Array(new ArrayBuffer(16), 3, 5).fill(7), // a slice of a bigger buffer
    ];
    for (const [i, value] of values.entries()) expect(writer.write(i, value)).toBe(1);
    const out = drain();
    expect(out.map(([kind]) => kind)).toEqual(values.map((_, i) => i));
    for (const [i, [, value]] of out.entries()) {
      expect(value).toEqual(values[i]);
      if (ArrayBuffer.isView(value)) {
        expect(value.buffer).toBeInstanceOf(ArrayBuffer); // not shared
        expect(value.constructor).toBe((values[i] as object).constructor);
      }
    }
    expect(Object.is(out[1]![1], -0)).toBe(true);
  });

  it("Node Buffers (a Uint8Array subclass) go as Uint8Array", () => {
    const { writer, drain } = lane();
    expect(writer.write(1, Buffer.from("abc"))).toBe(1);
    expect(drain()[0]![1]).toEqual(new Uint8Array([97, 98, 99]));
  });

  it("a record that does not fit before the end wraps after a padding record", () => {
    const { writer, drain, views } = lane(256);
    // 15 numbers = 240 B; drain them so head = tail = 240, then a 32-byte string wraps.
    for (let i = 0; i < 15; i++) expect(writer.write(1, i)).toBe(1);
    expect(drain().length).toBe(15);
    expect(writer.write(2, "0123456789abcdefXYZ")).toBe(1);
    const tail = Atomics.load(views.i32, laneWord(0, L_TAIL));
    expect(tail).toBe(256 + 32); // 16 B of padding, then the record from offset 0
    expect(drain()).toEqual([[2, "0123456789abcdefXYZ"]]);
  });

  it("a full lane refuses (returns 0) and overwrites nothing; room returns as the consumer reads", () => {
    const { writer, reader, views, drain } = lane(256);
    let accepted = 0;
    while (writer.write(1, accepted) === 1) accepted++;
    expect(accepted).toBe(16); // 16 x 16 B
    expect(writer.write(1, 99)).toBe(0);
    expect(writer.write(1, 99)).toBe(0);
    // One consumed record frees 16 B: exactly one more fits.
    expect(readValue(views, reader.next())).toBe(0);
    reader.consume();
    expect(writer.write(1, 16)).toBe(1);
    expect(writer.write(1, 17)).toBe(0);
    expect(drain().map(([, v]) => v)).toEqual([...Array.from({ length: 16 }, (_, i) => i + 1)]);
  });

  it("too large a payload is a RangeError that names the limit; nothing is written", () => {
    const { writer, drain } = lane(256);
    expect(() => writer.write(1, new Uint8Array(121))).toThrow(/carries at most 120 B/);
    expect(() => writer.write(1, "x".repeat(61))).toThrow(RangeError);
    expect(drain()).toEqual([]);
  });

  it("a record reserved and written but never committed (its producer died) is never visible", () => {
    const { writer, drain, views } = lane(256);
    expect(writer.write(1, 1)).toBe(1);
    const at = writer.reserve(16);
    views.i32[at >> 2] = (1 << 16) | 5;
    views.i32[(at >> 2) + 1] = 8;
    views.f64[(at >> 3) + 1] = 666;
    // no commit: the producer "dies" here
    expect(drain()).toEqual([[1, 1]]);
    expect(drain()).toEqual([]);
  });

  it("sealing: a publish after the seal fails (-1); records published before it stay readable", () => {
    const { writer, drain, views } = lane(256);
    expect(writer.write(1, 1)).toBe(1);
    const tailIndex = laneWord(0, L_TAIL);
    const tail = Atomics.load(views.i32, tailIndex);
    Atomics.store(views.i32, tailIndex, tail | SEALED);
    expect(writer.write(1, 2)).toBe(-1);
    expect(writer.sealed).toBe(true);
    expect(writer.write(1, 3)).toBe(-1);
    expect(drain()).toEqual([[1, 1]]);
  });

  it("counters wrap modulo 2^31 without losing a record", () => {
    const laneBytes = 256;
    const buffer = new SharedArrayBuffer(bufferBytes(1, laneBytes));
    const views = makeViews(buffer);
    initHeader(views.i32, 1, laneBytes);
    const start = COUNTER_MASK + 1 - 64; // 64 B before the wrap
    Atomics.store(views.i32, laneWord(0, L_TAIL), start);
    Atomics.store(views.i32, laneWord(0, L_HEAD), start);
    const writer = new LaneWriter(views, 1, laneBytes, 0, start);
    const reader = new LaneReader(views, 1, laneBytes, 0);
    const seen: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      expect(writer.write(1, i)).toBe(1);
      const at = reader.next();
      seen.push(readValue(views, at));
      reader.consume();
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Atomics.load(views.i32, laneWord(0, L_TAIL))).toBeLessThan(start);
  });

  it("model: random writes and reads against an array, across many wraps", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant("read" as const),
            fc.string({ maxLength: 40 }),
            fc.double(),
            fc.uint8Array({ maxLength: 60 }),
          ),
          {
            maxLength: 300,
          },
        ),
        (ops) => {
          const { writer, reader, views } = lane(256);
          const model: unknown[] = [];
          let kind = 0;
          for (const op of ops) {
            if (op === "read") {
              const at = reader.next();
              if (model.length === 0) {
                expect(at).toBe(-1);
                continue;
              }
              expect(views.i32[at >> 2]! >>> 16).toBe((kind - model.length) & 0xffff);
              expect(readValue(views, at)).toEqual(model.shift());
              reader.consume();
            } else {
              const status = writer.write(kind & 0xffff, op);
              if (status === 1) {
                model.push(op);
                kind++;
              } else {
                expect(status).toBe(0);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("ingress codec: structured values", () => {
  const roundTrip = (value: unknown) => {
    const bytes = new Encoder().encode(value).slice();
    return new Decoder().decode(bytes);
  };

  it("arrays, objects, Map, Set, Date, RegExp, BigInt, buffers, holes", () => {
    const value = {
      a: [1, "two", [3], { four: 4 }],
      m: new Map<unknown, unknown>([
        [1, "a"],
        ["b", [2]],
      ]),
      s: new Set([1, "x"]),
      d: new Date(1234567890),
      r: /a+b/gi,
      big: -(2n ** 70n),
      ab: new Uint16Array([1, 65535]).buffer,
      dv: new DataView(new Uint8Array([9, 8]).buffer),
      // biome-ignore lint/suspicious/noSparseArray: the codec must keep an array's holes
      holes: [1, , 3],
      nested: { deep: { deeper: [null, undefined, true, -0] } },
    };
    const out = roundTrip(value) as typeof value;
    expect(out).toEqual(value);
    expect(1 in out.holes).toBe(false);
    expect(Object.is(out.nested.deep.deeper[3], -0)).toBe(true);
  });

  it("shared references and cycles are kept", () => {
    const shared = { x: 1 };
    const value: Record<string, unknown> = { a: shared, b: shared };
    value.self = value;
    const out = roundTrip(value) as Record<string, unknown>;
    expect(out.a).toBe(out.b);
    expect(out.self).toBe(out);
  });

  it("errors: constructor by name, message, stack, cause, code, AggregateError's errors", () => {
    const cause = new TypeError("inner");
    const error = Object.assign(new RangeError("outer", { cause }), { code: "E_X", extra: [1] });
    const out = roundTrip(error) as RangeError & { code: string; extra: number[] };
    expect(out).toBeInstanceOf(RangeError);
    expect(out.message).toBe("outer");
    expect(out.stack).toBe(error.stack);
    expect(out.cause).toBeInstanceOf(TypeError);
    expect((out.cause as Error).message).toBe("inner");
    expect(out.code).toBe("E_X");
    expect(out.extra).toEqual([1]);
    const custom = new Error("custom");
    custom.name = "MyError";
    const outCustom = roundTrip(custom) as Error;
    expect(outCustom).toBeInstanceOf(Error);
    expect(outCustom.name).toBe("MyError");
    const aggregate = roundTrip(new AggregateError([new Error("a")], "many")) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0].message).toBe("a");
  });

  it("functions, symbols and promises cannot be sent: TypeError", () => {
    const encoder = new Encoder();
    expect(() => encoder.encode(() => 1)).toThrow(TypeError);
    expect(() => encoder.encode({ s: Symbol("x") })).toThrow(/symbol/);
    expect(() => encoder.encode(Promise.resolve(1))).toThrow(/promise/);
    // The encoder is reusable after a failure.
    expect(new Decoder().decode(encoder.encode([1]).slice())).toEqual([1]);
  });

  it("model: JSON-like values round-trip", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(roundTrip(value)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});
