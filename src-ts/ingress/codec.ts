/**
 * A small structured encoding for values that are not one of the ingress's direct
 * payloads (numbers, strings, typed arrays, booleans, null, undefined): arrays, plain
 * objects, Map, Set, Date, RegExp, BigInt, ArrayBuffer, DataView and errors (name,
 * message, stack, cause, AggregateError's errors and their own enumerable properties),
 * with shared references and cycles preserved, like the structured clone algorithm.
 * Functions and symbols throw a `TypeError` (a DataCloneError in structured clone).
 *
 * Decoded values are made in the decoding realm: an error thrown in a worker arrives on
 * the loop as an instance of the loop realm's constructor of the same name (TypeError,
 * RangeError, ...), else `Error` with that `name`, and keeps the worker's `stack`.
 *
 * Format: one tag byte per value, then its fields; numbers and lengths little-endian.
 *
 * @module
 */

import { TYPED_ARRAY_NAMES } from "./layout.ts";

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_NUMBER = 4;
const T_INT32 = 5;
const T_BIGINT = 6;
const T_STRING = 7;
const T_ARRAY = 8;
const T_OBJECT = 9;
const T_DATE = 10;
const T_REGEXP = 11;
const T_MAP = 12;
const T_SET = 13;
const T_ERROR = 14;
const T_TYPED = 15;
const T_ARRAY_BUFFER = 16;
const T_DATA_VIEW = 17;
const T_REF = 18;
const T_HOLE = 19;

const TYPED_CONSTRUCTORS = TYPED_ARRAY_NAMES;
const ERROR_NAMES = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
]);

type TypedArray = Exclude<ArrayBufferView, DataView>;

/** Appends encoded values to a growable byte buffer (reused between calls). */
export class Encoder {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  #refs = new Map<object, number>();

  /**
   * Encodes `value`; returns a view of the encoder's own buffer, valid until the next call.
   * @throws {TypeError} for functions, symbols and other values that cannot be cloned.
   */
  encode(value: unknown): Uint8Array {
    this.#length = 0;
    this.#refs.clear();
    try {
      this.#value(value);
    } finally {
      this.#refs.clear();
    }
    return this.#bytes.subarray(0, this.#length);
  }

  #reserve(bytes: number): number {
    const at = this.#length;
    const need = at + bytes;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = need;
    return at;
  }

  // The offset is taken before the view is read: #reserve may replace the buffer.
  #u8(value: number): void {
    const at = this.#reserve(1);
    this.#bytes[at] = value;
  }

  #u32(value: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value, true);
  }

  #f64(value: number): void {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, value, true);
  }

  #string(value: string): void {
    const length = value.length;
    this.#u32(length);
    const at = this.#reserve(length * 2);
    const view = this.#view;
    for (let i = 0; i < length; i++) view.setUint16(at + i * 2, value.charCodeAt(i), true);
  }

  #raw(bytes: Uint8Array): void {
    this.#u32(bytes.byteLength);
    const at = this.#reserve(bytes.byteLength);
    this.#bytes.set(bytes, at);
  }

  #value(value: unknown): void {
    switch (typeof value) {
      case "undefined":
        this.#u8(T_UNDEFINED);
        return;
      case "boolean":
        this.#u8(value ? T_TRUE : T_FALSE);
        return;
      case "number":
        if ((value | 0) === value && !Object.is(value, -0)) {
          this.#u8(T_INT32);
          const at = this.#reserve(4);
          this.#view.setInt32(at, value, true);
        } else {
          this.#u8(T_NUMBER);
          this.#f64(value);
        }
        return;
      case "bigint":
        this.#u8(T_BIGINT);
        this.#string(value.toString(16));
        return;
      case "string":
        this.#u8(T_STRING);
        this.#string(value);
        return;
      case "object":
        if (value === null) {
          this.#u8(T_NULL);
          return;
        }
        this.#object(value);
        return;
      default:
        throw new TypeError(
          `Cannot send a ${typeof value} to another thread (${describe(value)}): it cannot be cloned.`,
        );
    }
  }

  #object(value: object): void {
    const ref = this.#refs.get(value);
    if (ref !== undefined) {
      this.#u8(T_REF);
      this.#u32(ref);
      return;
    }
    this.#refs.set(value, this.#refs.size);
    if (Array.isArray(value)) {
      this.#u8(T_ARRAY);
      this.#u32(value.length);
      for (let i = 0; i < value.length; i++) {
        if (i in value) this.#value(value[i]);
        else this.#u8(T_HOLE);
      }
      return;
    }
    if (ArrayBuffer.isView(value)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      if (value instanceof DataView) {
        this.#u8(T_DATA_VIEW);
      } else {
        const tag = (value as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
        const index = TYPED_CONSTRUCTORS.indexOf(tag as (typeof TYPED_CONSTRUCTORS)[number]);
        if (index < 0)
          throw new TypeError(`Cannot send a ${tag ?? "typed array"} to another thread.`);
        this.#u8(T_TYPED);
        this.#u8(index);
      }
      this.#raw(bytes);
      return;
    }
    if (value instanceof ArrayBuffer) {
      this.#u8(T_ARRAY_BUFFER);
      this.#raw(new Uint8Array(value));
      return;
    }
    if (value instanceof Date) {
      this.#u8(T_DATE);
      this.#f64(value.getTime());
      return;
    }
    if (value instanceof RegExp) {
      this.#u8(T_REGEXP);
      this.#string(value.source);
      this.#string(value.flags);
      return;
    }
    if (value instanceof Map) {
      this.#u8(T_MAP);
      this.#u32(value.size);
      for (const [k, v] of value) {
        this.#value(k);
        this.#value(v);
      }
      return;
    }
    if (value instanceof Set) {
      this.#u8(T_SET);
      this.#u32(value.size);
      for (const v of value) this.#value(v);
      return;
    }
    if (isError(value)) {
      this.#error(value);
      return;
    }
    if (typeof (value as { then?: unknown }).then === "function") {
      throw new TypeError("Cannot send a promise to another thread: await it first.");
    }
    this.#u8(T_OBJECT);
    this.#properties(value, []);
  }

  #error(error: Error): void {
    this.#u8(T_ERROR);
    let name = "Error";
    try {
      name = String(error.name);
    } catch {
      // a throwing getter: keep "Error"
    }
    this.#string(name);
    this.#string(String(error.message ?? ""));
    const stack = (error as { stack?: unknown }).stack;
    this.#value(typeof stack === "string" ? stack : undefined);
    const hasCause = Object.hasOwn(error, "cause");
    this.#u8(hasCause ? 1 : 0);
    if (hasCause) this.#value((error as { cause?: unknown }).cause);
    const errors = (error as { errors?: unknown }).errors;
    this.#value(Array.isArray(errors) ? errors : undefined);
    this.#properties(error, ["name", "message", "stack", "cause", "errors"]);
  }

  #properties(value: object, skip: string[]): void {
    const keys = Object.keys(value).filter((key) => !skip.includes(key));
    this.#u32(keys.length);
    for (const key of keys) {
      this.#string(key);
      this.#value((value as Record<string, unknown>)[key]);
    }
  }
}

/** Reads values written by {@linkcode Encoder} from any byte view (shared or not). */
export class Decoder {
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  #at = 0;
  #refs: unknown[] = [];

  /** Decodes the value in `bytes` (a view, possibly of shared memory). */
  decode(bytes: Uint8Array): unknown {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = 0;
    this.#refs = [];
    try {
      return this.#value();
    } finally {
      this.#refs = [];
      this.#bytes = new Uint8Array(0);
    }
  }

  #u8(): number {
    if (this.#at >= this.#bytes.length)
      throw new RangeError("Corrupt encoded value: read past its end.");
    return this.#bytes[this.#at++]!;
  }

  #u32(): number {
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  #f64(): number {
    const value = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return value;
  }

  #string(): string {
    const length = this.#u32();
    const view = this.#view;
    let at = this.#at;
    this.#at += length * 2;
    if (this.#at > this.#bytes.length)
      throw new RangeError("Corrupt encoded value: a string runs past its end.");
    let out = "";
    const CHUNK = 4096;
    const units = new Array<number>(Math.min(length, CHUNK));
    for (let start = 0; start < length; start += CHUNK) {
      const n = Math.min(CHUNK, length - start);
      units.length = n;
      for (let i = 0; i < n; i++, at += 2) units[i] = view.getUint16(at, true);
      out += String.fromCharCode.apply(null, units);
    }
    return out;
  }

  #raw(): Uint8Array {
    const length = this.#u32();
    const copy = new Uint8Array(length);
    copy.set(this.#bytes.subarray(this.#at, this.#at + length));
    this.#at += length;
    return copy;
  }

  #value(): unknown {
    const tag = this.#u8();
    switch (tag) {
      case T_UNDEFINED:
      case T_HOLE:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT32: {
        const value = this.#view.getInt32(this.#at, true);
        this.#at += 4;
        return value;
      }
      case T_NUMBER:
        return this.#f64();
      case T_BIGINT: {
        const text = this.#string();
        return text.startsWith("-") ? -BigInt(`0x${text.slice(1)}`) : BigInt(`0x${text}`);
      }
      case T_STRING:
        return this.#string();
      case T_REF: {
        const index = this.#u32();
        if (index >= this.#refs.length)
          throw new RangeError("Corrupt encoded value: a reference to nothing.");
        return this.#refs[index];
      }
      default:
        return this.#object(tag);
    }
  }

  #object(tag: number): unknown {
    const refs = this.#refs;
    switch (tag) {
      case T_ARRAY: {
        const length = this.#u32();
        const array: unknown[] = new Array(length);
        refs.push(array);
        for (let i = 0; i < length; i++) {
          if (this.#bytes[this.#at] === T_HOLE) this.#at++;
          else array[i] = this.#value();
        }
        return array;
      }
      case T_OBJECT: {
        const object: Record<string, unknown> = {};
        refs.push(object);
        this.#properties(object);
        return object;
      }
      case T_DATE: {
        const date = new Date(this.#f64());
        refs.push(date);
        return date;
      }
      case T_REGEXP: {
        const source = this.#string();
        const regexp = new RegExp(source, this.#string());
        refs.push(regexp);
        return regexp;
      }
      case T_MAP: {
        const map = new Map();
        refs.push(map);
        for (let n = this.#u32(); n > 0; n--) {
          const key = this.#value();
          map.set(key, this.#value());
        }
        return map;
      }
      case T_SET: {
        const set = new Set();
        refs.push(set);
        for (let n = this.#u32(); n > 0; n--) set.add(this.#value());
        return set;
      }
      case T_TYPED: {
        const index = this.#u8();
        const name = TYPED_CONSTRUCTORS[index];
        if (name === undefined)
          throw new RangeError(`Corrupt encoded value: typed array type ${index}.`);
        const bytes = this.#raw();
        const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBuffer) => TypedArray>)[
          name
        ]!;
        const array = new Ctor(bytes.buffer as ArrayBuffer);
        refs.push(array);
        return array;
      }
      case T_ARRAY_BUFFER: {
        const buffer = this.#raw().buffer;
        refs.push(buffer);
        return buffer;
      }
      case T_DATA_VIEW: {
        const view = new DataView(this.#raw().buffer);
        refs.push(view);
        return view;
      }
      case T_ERROR:
        return this.#error();
      default:
        throw new RangeError(`Corrupt encoded value: unknown tag ${tag}.`);
    }
  }

  #error(): Error {
    const name = this.#string();
    const message = this.#string();
    const Ctor = ERROR_NAMES.has(name)
      ? (globalThis as unknown as Record<string, ErrorConstructor>)[name]!
      : Error;
    const error = name === "AggregateError" ? new AggregateError([], message) : new Ctor(message);
    this.#refs.push(error);
    if (!ERROR_NAMES.has(name)) {
      Object.defineProperty(error, "name", {
        value: name,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    const stack = this.#value();
    if (typeof stack === "string") {
      Object.defineProperty(error, "stack", {
        value: stack,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    if (this.#u8() === 1) {
      Object.defineProperty(error, "cause", {
        value: this.#value(),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    const errors = this.#value();
    if (Array.isArray(errors)) {
      Object.defineProperty(error, "errors", {
        value: errors,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    this.#properties(error as unknown as Record<string, unknown>);
    return error;
  }

  #properties(target: Record<string, unknown>): void {
    for (let n = this.#u32(); n > 0; n--) {
      const key = this.#string();
      const value = this.#value();
      if (key === "__proto__")
        Object.defineProperty(target, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      else target[key] = value;
    }
  }
}

function isError(value: object): value is Error {
  if (value instanceof Error) return true;
  // An error from another realm (a vm context): the brand check of Error.prototype.toString is not enough;
  // Object.prototype.toString says "[object Error]" for every error object.
  return Object.prototype.toString.call(value) === "[object Error]";
}

function describe(value: unknown): string {
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol") return value.toString();
  return typeof value;
}
