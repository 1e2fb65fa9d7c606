/**
 * The memory layout of an ingress: one `SharedArrayBuffer` that producer threads
 * write into and the loop thread reads from. Every offset is a constant here;
 * producers (`producer.ts`) and the consumer (`ingress.ts`) both use these names,
 * and `checkLayout` verifies a buffer handed to `openIngress`.
 *
 * ```
 * 0      header            128 B  magic, version, lane count, lane size, state, lanes epoch
 *                                  (line 2) consumer state AWAKE/PARKED, wake sequence
 * 128    lane blocks       128 B per lane
 *          +0   producer line: tail (u31 byte counter | SEALED bit 31)
 *          +64  consumer line: head (u31 byte counter), lane state, generation
 * 128 + 128·L  data          laneBytes per lane (a power of two), records 8-byte aligned
 * ```
 *
 * One lane per producer (an SPSC byte ring): the producer writes a record at its tail
 * and publishes it with one compare-and-swap of the tail; the consumer reads from its
 * head and stores the head after each record. Head and tail sit on separate 64-byte
 * lines, so the two threads never write the same cache line on the fast path.
 *
 * A record: word 0 = `kind << 16 | tag` (tag: payload type, 0 = padding), word 1 =
 * payload length in bytes, then the payload padded to 8 bytes. A record that does not
 * fit before the end of the lane's data is preceded by a padding record that fills the
 * rest of it. The padding and the record are published by the same tail update.
 *
 * @module
 */

/** "ZLIG" as a little-endian u32. */
export const MAGIC = 0x47494c5a;
/** Bumped whenever anything below changes meaning. */
export const LAYOUT_VERSION = 1;

// ---- header (i32 indices) ------------------------------------------------------------
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_LANES = 2;
export const H_LANE_BYTES = 3;
/** Ingress state: OPEN, or CLOSED once the consumer sealed it (written by the consumer). */
export const H_STATE = 4;
/** Bumped (Atomics.add) whenever a lane is opened, closed by its producer, or freed. */
export const H_EPOCH = 5;
/** Consumer state: AWAKE or PARKED (own cache line: written by the consumer, CAS'd by producers). */
export const H_CONSUMER = 16;
/** The word the consumer waits on while parked; producers add 1 and notify. */
export const H_WAKE_SEQ = 17;
export const HEADER_BYTES = 128;

export const INGRESS_OPEN = 0;
export const INGRESS_CLOSED = 1;
export const CONSUMER_AWAKE = 0;
export const CONSUMER_PARKED = 1;

// ---- lane control block (i32 indices relative to the block) ----------------------------
export const LANE_BLOCK_BYTES = 128;
/** Producer line: the tail, a byte counter modulo 2^31; bit 31 set = sealed (no more records). */
export const L_TAIL = 0;
/** Consumer line: the head, a byte counter modulo 2^31 (everything before it was consumed). */
export const L_HEAD = 16;
/** Lane state (see LANE_*), CAS'd by openers, stored by the consumer. */
export const L_STATE = 17;
/** Incremented by every opener; part of the port id. */
export const L_GENERATION = 18;
/** Set by a producer waiting for space; the consumer clears it and notifies L_HEAD. */
export const L_WANT_SPACE = 19;

export const LANE_FREE = 0;
/** Claimed by an opener that is still initialising it. */
export const LANE_OPENING = 1;
export const LANE_OPEN = 2;
/** Its producer closed it; the consumer frees it once drained. */
export const LANE_CLOSED = 3;
/** Reclaimed by the ingress owner (the producer died): sealed; freed after a grace period. */
export const LANE_RETIRED = 4;

export const SEALED = 0x80000000 | 0;
export const COUNTER_MASK = 0x7fffffff;

// ---- records ---------------------------------------------------------------------------
export const RECORD_HEADER_BYTES = 8;
export const KIND_MAX = 0xfffe;
/** Reserved for the offload pool's results. */
export const KIND_OFFLOAD = 0xffff;

export const TAG_PAD = 0;
export const TAG_UNDEFINED = 1;
export const TAG_NULL = 2;
export const TAG_FALSE = 3;
export const TAG_TRUE = 4;
export const TAG_NUMBER = 5;
export const TAG_LATIN1 = 6;
export const TAG_UTF16 = 7;
/** Bytes written by `codec.ts` (any other value). */
export const TAG_ENCODED = 8;
/** Typed arrays: TAG_TYPED + index into TYPED_ARRAY_NAMES. */
export const TAG_TYPED = 16;
export const TYPED_ARRAY_NAMES = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

// ---- limits ----------------------------------------------------------------------------
export const LANES_MAX = 4096;
export const LANE_BYTES_MIN = 256;
export const LANE_BYTES_MAX = 1 << 26;

/** Rounds a payload length up to the record size. */
export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + ((payloadBytes + 7) & ~7);
}

/** The largest payload a lane of `laneBytes` accepts: half the lane, so a record always fits after a wrap. */
export function maxPayloadBytes(laneBytes: number): number {
  return laneBytes / 2 - RECORD_HEADER_BYTES;
}

/** i32 index of lane `lane`'s control word `field`. */
export function laneWord(lane: number, field: number): number {
  return (HEADER_BYTES + lane * LANE_BLOCK_BYTES) / 4 + field;
}

/** Byte offset of lane `lane`'s data. */
export function laneData(lanes: number, laneBytes: number, lane: number): number {
  return HEADER_BYTES + lanes * LANE_BLOCK_BYTES + lane * laneBytes;
}

export function bufferBytes(lanes: number, laneBytes: number): number {
  return HEADER_BYTES + lanes * (LANE_BLOCK_BYTES + laneBytes);
}

/** A port id: lane index and generation, a positive int32. */
export function portId(lane: number, generation: number): number {
  return (generation & 0x7ffff) * LANES_MAX + lane;
}

/** Writes a fresh header (the consumer, once). */
export function initHeader(i32: Int32Array, lanes: number, laneBytes: number): void {
  i32[H_MAGIC] = MAGIC;
  i32[H_VERSION] = LAYOUT_VERSION;
  i32[H_LANES] = lanes;
  i32[H_LANE_BYTES] = laneBytes;
  i32[H_STATE] = INGRESS_OPEN;
  i32[H_CONSUMER] = CONSUMER_AWAKE;
}

/**
 * Checks that `buffer` holds an ingress of this layout version; returns its lane count
 * and lane size.
 * @throws {TypeError} when it does not.
 */
export function checkLayout(buffer: unknown, action: string): { lanes: number; laneBytes: number } {
  if (typeof SharedArrayBuffer !== "function" || !(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `${action}: expected an ingress description ({ buffer: SharedArrayBuffer }) from createIngress().`,
    );
  }
  if (buffer.byteLength < HEADER_BYTES)
    throw new TypeError(
      `${action}: the buffer (${buffer.byteLength} B) is too small for an ingress.`,
    );
  const i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  if (Atomics.load(i32, H_MAGIC) !== MAGIC)
    throw new TypeError(`${action}: the buffer is not a zigloop ingress (wrong magic).`);
  const version = Atomics.load(i32, H_VERSION);
  if (version !== LAYOUT_VERSION) {
    throw new TypeError(
      `${action}: the ingress has layout version ${version}; this zigloop reads version ${LAYOUT_VERSION}.`,
    );
  }
  const lanes = Atomics.load(i32, H_LANES);
  const laneBytes = Atomics.load(i32, H_LANE_BYTES);
  if (!(lanes >= 1 && lanes <= LANES_MAX) || buffer.byteLength !== bufferBytes(lanes, laneBytes)) {
    throw new TypeError(
      `${action}: the ingress header is inconsistent (${lanes} lanes of ${laneBytes} B in ${buffer.byteLength} B).`,
    );
  }
  return { lanes, laneBytes };
}
