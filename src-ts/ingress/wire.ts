/**
 * Both ends of one lane: `LaneWriter` (the producer: reserve, write, publish with one
 * compare-and-swap of the tail, wake a parked consumer) and the payload encoding shared
 * by producers and consumers (`writeValue`, `readValue`). Used by the ingress (workers
 * produce, the loop consumes) and by the offload pool's request channels (the loop
 * produces, a worker consumes). Layout: `layout.ts`.
 *
 * Guarantees of one lane:
 * - FIFO: records become visible in the order they were published.
 * - All or nothing: a record's bytes are written before the compare-and-swap that
 *   publishes it (a sequentially consistent atomic, so the reader's atomic load of the
 *   tail sees every byte written before it). A producer that dies before that CAS
 *   leaves nothing visible; one that dies after it left a whole record.
 * - No overwrite: a writer never writes past the consumer's head; when there is no
 *   room, `reserve` returns -1.
 * - Sealing: the consumer sets bit 31 of the tail; every later CAS fails, so a record
 *   is either published before the seal (and counted by the consumer) or refused.
 *
 * @module
 */

import { Decoder, Encoder } from "./codec.ts";
import {
  CONSUMER_AWAKE,
  CONSUMER_PARKED,
  COUNTER_MASK,
  H_CONSUMER,
  H_WAKE_SEQ,
  L_HEAD,
  L_TAIL,
  L_WANT_SPACE,
  laneData,
  laneWord,
  maxPayloadBytes,
  RECORD_HEADER_BYTES,
  recordBytes,
  SEALED,
  TAG_ENCODED,
  TAG_FALSE,
  TAG_LATIN1,
  TAG_NULL,
  TAG_NUMBER,
  TAG_PAD,
  TAG_TRUE,
  TAG_TYPED,
  TAG_UNDEFINED,
  TAG_UTF16,
  TYPED_ARRAY_NAMES,
} from "./layout.ts";

type TypedArray = Exclude<ArrayBufferView, DataView>;

/** Typed views of one shared buffer (all start at byte 0). */
export interface Views {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly f64: Float64Array;
}

export function makeViews(buffer: SharedArrayBuffer): Views {
  return {
    buffer,
    i32: new Int32Array(buffer),
    u8: new Uint8Array(buffer),
    u16: new Uint16Array(buffer, 0, buffer.byteLength >> 1),
    f64: new Float64Array(buffer, 0, buffer.byteLength >> 3),
  };
}

/** Wakes the consumer if it is parked (or about to park); one notify per park. */
export function wakeConsumer(i32: Int32Array): void {
  if (
    Atomics.compareExchange(i32, H_CONSUMER, CONSUMER_PARKED, CONSUMER_AWAKE) === CONSUMER_PARKED
  ) {
    Atomics.add(i32, H_WAKE_SEQ, 1);
    Atomics.notify(i32, H_WAKE_SEQ, 1);
  }
}

const typedIndex = new Map<Function, number>();
for (const [index, name] of TYPED_ARRAY_NAMES.entries()) {
  const Ctor = (globalThis as unknown as Record<string, Function | undefined>)[name];
  if (typeof Ctor === "function") typedIndex.set(Ctor, index);
}

const typedNameIndex = new Map<string, number>(
  TYPED_ARRAY_NAMES.map((name, index) => [name, index]),
);

/** The TYPED_ARRAY_NAMES index of a typed array (subclasses like Node's Buffer included), else undefined. */
export function typedArrayIndex(view: ArrayBufferView): number | undefined {
  const index = typedIndex.get(view.constructor);
  if (index !== undefined) return index;
  const tag = (view as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
  return tag === undefined ? undefined : typedNameIndex.get(tag);
}

/**
 * The producer end of a lane. Not thread-safe by design: exactly one thread writes a
 * lane (a port is a JavaScript object, which never crosses threads).
 */
export class LaneWriter {
  readonly views: Views;
  readonly laneBytes: number;
  /** Largest payload one record carries (half the lane minus a header). */
  readonly maxPayload: number;
  readonly #i32: Int32Array;
  readonly #tailIndex: number;
  readonly #headIndex: number;
  readonly #wantIndex: number;
  readonly #data: number;
  readonly #mask: number;
  /** The tail this writer published last (u31). */
  #tail: number;
  /** The consumer's head as last read (u31); refreshed only when the lane looks full. */
  #head: number;
  /** Where the record reserved last starts (after a padding record, if one was needed). */
  #start = 0;
  #sealed = false;
  #encoder: Encoder | undefined;

  constructor(views: Views, lanes: number, laneBytes: number, lane: number, tail: number) {
    this.views = views;
    this.#i32 = views.i32;
    this.laneBytes = laneBytes;
    this.maxPayload = maxPayloadBytes(laneBytes);
    this.#tailIndex = laneWord(lane, L_TAIL);
    this.#headIndex = laneWord(lane, L_HEAD);
    this.#wantIndex = laneWord(lane, L_WANT_SPACE);
    this.#data = laneData(lanes, laneBytes, lane);
    this.#mask = laneBytes - 1;
    this.#tail = tail;
    this.#head = Atomics.load(this.#i32, this.#headIndex);
  }

  /** Whether the consumer sealed this lane (every later publish fails). */
  get sealed(): boolean {
    if (!this.#sealed && (Atomics.load(this.#i32, this.#tailIndex) & SEALED) !== 0)
      this.#sealed = true;
    return this.#sealed;
  }

  /** Bytes published and not yet consumed, as far as this writer knows. */
  get used(): number {
    this.#head = Atomics.load(this.#i32, this.#headIndex);
    return (this.#tail - this.#head) & COUNTER_MASK;
  }

  /**
   * Reserves `bytes` (a record size, 8-aligned) at the tail; returns the byte offset in
   * the shared buffer where the record goes, or -1 when the lane has no room. Writes a
   * padding record first when the record would cross the end of the lane's data.
   */
  reserve(bytes: number): number {
    const tail = this.#tail;
    const off = tail & this.#mask;
    const toEnd = this.laneBytes - off;
    const need = bytes <= toEnd ? bytes : toEnd + bytes;
    if (((tail - this.#head) & COUNTER_MASK) + need > this.laneBytes) {
      this.#head = Atomics.load(this.#i32, this.#headIndex);
      if (((tail - this.#head) & COUNTER_MASK) + need > this.laneBytes) return -1;
    }
    if (bytes <= toEnd) {
      this.#start = tail;
      return this.#data + off;
    }
    const i32 = this.#i32;
    const at = (this.#data + off) >> 2;
    i32[at] = TAG_PAD;
    i32[at + 1] = toEnd - RECORD_HEADER_BYTES;
    this.#start = (tail + toEnd) & COUNTER_MASK;
    return this.#data;
  }

  /**
   * Publishes the record reserved last (`bytes` long, at most what was reserved) and
   * wakes the consumer if it is parked. Returns false when the lane was sealed: the
   * record was not published and never will be.
   */
  commit(bytes: number): boolean {
    const i32 = this.#i32;
    const next = (this.#start + bytes) & COUNTER_MASK;
    const seen = Atomics.compareExchange(i32, this.#tailIndex, this.#tail, next);
    if (seen !== this.#tail) {
      this.#sealed = true;
      return false;
    }
    this.#tail = next;
    if (Atomics.load(i32, H_CONSUMER) === CONSUMER_PARKED) wakeConsumer(i32);
    return true;
  }

  /**
   * Writes one record (`kind`, `value`) and publishes it. Returns 1 when published,
   * 0 when there is no room now, -1 when the lane is sealed.
   * @throws {RangeError} for a payload larger than `maxPayload`.
   * @throws {TypeError} for a value that cannot be sent.
   */
  write(kind: number, value: unknown): 1 | 0 | -1 {
    if (this.#sealed) return -1;
    const v = this.views;
    let at: number;
    let bytes: number;
    switch (typeof value) {
      case "number":
        at = this.reserve(16);
        if (at < 0) return this.#noRoom();
        v.i32[at >> 2] = (kind << 16) | TAG_NUMBER;
        v.i32[(at >> 2) + 1] = 8;
        v.f64[(at >> 3) + 1] = value;
        bytes = 16;
        break;
      case "string":
        return this.#writeString(kind, value);
      case "undefined":
      case "boolean":
        at = this.reserve(RECORD_HEADER_BYTES);
        if (at < 0) return this.#noRoom();
        v.i32[at >> 2] =
          (kind << 16) | (value === undefined ? TAG_UNDEFINED : value ? TAG_TRUE : TAG_FALSE);
        v.i32[(at >> 2) + 1] = 0;
        bytes = RECORD_HEADER_BYTES;
        break;
      case "object": {
        if (value === null) {
          at = this.reserve(RECORD_HEADER_BYTES);
          if (at < 0) return this.#noRoom();
          v.i32[at >> 2] = (kind << 16) | TAG_NULL;
          v.i32[(at >> 2) + 1] = 0;
          bytes = RECORD_HEADER_BYTES;
          break;
        }
        const index = ArrayBuffer.isView(value) ? typedArrayIndex(value) : undefined;
        if (index !== undefined)
          return this.#writeBytes(kind, TAG_TYPED + index, value as TypedArray);
        return this.writeEncoded(kind, value);
      }
      default:
        return this.writeEncoded(kind, value);
    }
    return this.commit(bytes) ? 1 : -1;
  }

  /** No room: 0, or -1 when the lane was sealed meanwhile (a full lane is checked for the seal, so a waiting producer learns of it). */
  #noRoom(): 0 | -1 {
    return this.sealed ? -1 : 0;
  }

  /** Writes `value` with the structured codec (any cloneable value). */
  writeEncoded(kind: number, value: unknown): 1 | 0 | -1 {
    const encoded = (this.#encoder ??= new Encoder()).encode(value);
    return this.#writeBytes(kind, TAG_ENCODED, encoded);
  }

  /**
   * Writes a record whose payload is three u32 words and then `bytes` (the offload pool's
   * calls: sequence, call id, function id, encoded arguments).
   */
  writeWords(kind: number, a: number, b: number, c: number, bytes: Uint8Array): 1 | 0 | -1 {
    if (this.#sealed) return -1;
    const length = 12 + bytes.byteLength;
    this.#checkSize(length);
    const size = recordBytes(length);
    const at = this.reserve(size);
    if (at < 0) return this.#noRoom();
    const i32 = this.views.i32;
    const w = at >> 2;
    i32[w] = (kind << 16) | TAG_ENCODED;
    i32[w + 1] = length;
    i32[w + 2] = a;
    i32[w + 3] = b;
    i32[w + 4] = c;
    this.views.u8.set(bytes, at + RECORD_HEADER_BYTES + 12);
    return this.commit(size) ? 1 : -1;
  }

  /** Writes `bytes` (already encoded) with `tag`. */
  #writeBytes(kind: number, tag: number, source: ArrayBufferView): 1 | 0 | -1 {
    const length = source.byteLength;
    this.#checkSize(length);
    const bytes = recordBytes(length);
    const at = this.reserve(bytes);
    if (at < 0) return this.#noRoom();
    const v = this.views;
    v.i32[at >> 2] = (kind << 16) | tag;
    v.i32[(at >> 2) + 1] = length;
    v.u8.set(
      source instanceof Uint8Array
        ? source
        : new Uint8Array(source.buffer, source.byteOffset, length),
      at + RECORD_HEADER_BYTES,
    );
    return this.commit(bytes) ? 1 : -1;
  }

  /** Latin-1 (one byte per code unit) when every code unit is < 256, else UTF-16: lossless either way. */
  #writeString(kind: number, value: string): 1 | 0 | -1 {
    const length = value.length;
    this.#checkSize(length * 2);
    // Room for the UTF-16 form; the Latin-1 form, when it applies, publishes less.
    const at = this.reserve(recordBytes(length * 2));
    if (at < 0) return this.#noRoom();
    const v = this.views;
    const u8 = v.u8;
    const start = at + RECORD_HEADER_BYTES;
    let i = 0;
    for (; i < length; i++) {
      const unit = value.charCodeAt(i);
      if (unit > 0xff) break;
      u8[start + i] = unit;
    }
    let tag = TAG_LATIN1;
    let payload = length;
    if (i < length) {
      tag = TAG_UTF16;
      payload = length * 2;
      const u16 = v.u16;
      const base = start >> 1;
      for (let j = 0; j < length; j++) u16[base + j] = value.charCodeAt(j);
    }
    v.i32[at >> 2] = (kind << 16) | tag;
    v.i32[(at >> 2) + 1] = payload;
    return this.commit(recordBytes(payload)) ? 1 : -1;
  }

  #checkSize(payload: number): void {
    if (payload > this.maxPayload) {
      throw new RangeError(
        `Cannot post a ${payload}-byte payload: a lane of ${this.laneBytes} B carries at most ${this.maxPayload} B per message ` +
          "(createIngress({ laneBytes }) sets the lane size).",
      );
    }
  }

  /**
   * Waits until the consumer frees room or `deadline` (performance.now()) passes; returns
   * false on timeout. It blocks in Atomics.wait at once and the consumer notifies once half
   * the lane is free, so a full producer sleeps through half a lane of messages and leaves
   * the CPU to the loop. (A spin before sleeping was tried: on 2 cores, producers that spin
   * take the core the loop needs; with 100 producers the loop waited 20x longer for a CPU.)
   */
  waitForRoom(deadline: number): boolean {
    const i32 = this.#i32;
    Atomics.store(i32, this.#wantIndex, 1);
    const head = Atomics.load(i32, this.#headIndex);
    if (head !== this.#head) {
      this.#head = head; // it moved: let the caller retry
      return true;
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) return false;
    Atomics.wait(i32, this.#headIndex, head, remaining === Infinity ? undefined : remaining);
    this.#head = Atomics.load(i32, this.#headIndex);
    return true;
  }
}

/** The size of the record at byte `at` (header included), from its length word. */
export function recordSizeAt(i32: Int32Array, at: number): number {
  return recordBytes(i32[(at >> 2) + 1]!);
}

const decoders = new WeakMap<Views, Decoder>();
const CHUNK = 4096;

/**
 * Reads the payload of the record at byte `at` (header included) into a value of this
 * realm: numbers, strings, fresh (non-shared) typed arrays, decoded structured values.
 */
export function readValue(v: Views, at: number): unknown {
  const tag = v.i32[at >> 2]! & 0xff;
  const length = v.i32[(at >> 2) + 1]!;
  const start = at + RECORD_HEADER_BYTES;
  switch (tag) {
    case TAG_NUMBER:
      return v.f64[(at >> 3) + 1];
    case TAG_LATIN1:
      return length <= CHUNK
        ? String.fromCharCode.apply(
            null,
            v.u8.subarray(start, start + length) as unknown as number[],
          )
        : chunked(v.u8, start, length);
    case TAG_UTF16:
      return length <= CHUNK * 2
        ? String.fromCharCode.apply(
            null,
            v.u16.subarray(start >> 1, (start + length) >> 1) as unknown as number[],
          )
        : chunked(v.u16, start >> 1, length >> 1);
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_ENCODED: {
      let decoder = decoders.get(v);
      if (decoder === undefined) decoders.set(v, (decoder = new Decoder()));
      return decoder.decode(v.u8.subarray(start, start + length));
    }
    default: {
      const name = TYPED_ARRAY_NAMES[tag - TAG_TYPED];
      if (name === undefined)
        throw new RangeError(`Corrupt ingress record: unknown payload tag ${tag}.`);
      const Ctor = (globalThis as unknown as Record<string, new (length: number) => TypedArray>)[
        name
      ]!;
      const copy = new Ctor(
        length / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT,
      );
      new Uint8Array(copy.buffer).set(v.u8.subarray(start, start + length));
      return copy;
    }
  }
}

function chunked(units: Uint8Array | Uint16Array, start: number, count: number): string {
  let out = "";
  for (let i = 0; i < count; i += CHUNK) {
    out += String.fromCharCode.apply(
      null,
      units.subarray(start + i, start + Math.min(count, i + CHUNK)) as unknown as number[],
    );
  }
  return out;
}

/**
 * The consumer end of one lane when records are handled one at a time in order (the
 * offload pool's workers reading their requests): `next()` finds the next record,
 * `consume()` gives its room back. Parking: `park(timeoutMs)` blocks the thread with
 * Atomics.wait, `parkAsync()` waits with Atomics.waitAsync; both use the PARKED protocol
 * of `wakeConsumer`.
 */
export class LaneReader {
  readonly views: Views;
  readonly #i32: Int32Array;
  readonly #tailIndex: number;
  readonly #headIndex: number;
  readonly #data: number;
  readonly #mask: number;
  #head: number;
  #tail = 0;
  /** The record `next()` returned, and where the one after it starts. */
  #next = 0;

  constructor(views: Views, lanes: number, laneBytes: number, lane: number) {
    this.views = views;
    this.#i32 = views.i32;
    this.#tailIndex = laneWord(lane, L_TAIL);
    this.#headIndex = laneWord(lane, L_HEAD);
    this.#data = laneData(lanes, laneBytes, lane);
    this.#mask = laneBytes - 1;
    this.#head = this.#tail = Atomics.load(this.#i32, this.#headIndex);
  }

  /** Whether the producer sealed the lane and everything before the seal was consumed. */
  get finished(): boolean {
    const tail = Atomics.load(this.#i32, this.#tailIndex);
    return (tail & SEALED) !== 0 && (tail & COUNTER_MASK) === this.#head;
  }

  /** Byte offset of the next record (padding skipped), or -1 when none is published. */
  next(): number {
    const i32 = this.#i32;
    for (;;) {
      if (this.#head === this.#tail) {
        this.#tail = Atomics.load(i32, this.#tailIndex) & COUNTER_MASK;
        if (this.#head === this.#tail) return -1;
      }
      const at = this.#data + (this.#head & this.#mask);
      const next = (this.#head + recordBytes(i32[(at >> 2) + 1]!)) & COUNTER_MASK;
      if ((i32[at >> 2]! & 0xff) !== TAG_PAD) {
        this.#next = next;
        return at;
      }
      this.#head = next;
    }
  }

  /** Gives the room of the record `next()` returned back to the producer. */
  consume(): void {
    this.#head = this.#next;
    Atomics.store(this.#i32, this.#headIndex, this.#head);
  }

  /** Blocks until a producer wakes this consumer or `timeoutMs` passes (workers only). */
  park(timeoutMs: number): void {
    const i32 = this.#i32;
    const seq = Atomics.load(i32, H_WAKE_SEQ);
    Atomics.store(i32, H_CONSUMER, CONSUMER_PARKED);
    if (this.next() < 0) Atomics.wait(i32, H_WAKE_SEQ, seq, timeoutMs);
    Atomics.store(i32, H_CONSUMER, CONSUMER_AWAKE);
  }

  /** Like `park`, without blocking the thread (its event loop keeps running). */
  async parkAsync(timeoutMs: number): Promise<void> {
    const i32 = this.#i32;
    const seq = Atomics.load(i32, H_WAKE_SEQ);
    Atomics.store(i32, H_CONSUMER, CONSUMER_PARKED);
    if (this.next() < 0) {
      const waitAsync = (
        Atomics as unknown as {
          waitAsync?: (
            a: Int32Array,
            i: number,
            v: number,
            t: number,
          ) => { async: boolean; value: unknown };
        }
      ).waitAsync;
      if (typeof waitAsync === "function") {
        const result = waitAsync(i32, H_WAKE_SEQ, seq, timeoutMs);
        if (result.async) await result.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 4)));
      }
    }
    Atomics.store(i32, H_CONSUMER, CONSUMER_AWAKE);
  }
}
