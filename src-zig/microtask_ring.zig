//! Microtask queue: a power-of-two ring with a chunked overflow that keeps FIFO order.
//!
//! The ring holds the common case (a checkpoint's worth of jobs) in one fixed
//! array. When it is full, new jobs go to an overflow `ChunkedFifo`. Invariant:
//! every job in the ring is older than every job in the overflow. It holds because
//! a push goes to the ring only while the overflow is empty, and a pop refills the
//! empty ring from the *front* of the overflow.
//!
//! Head and tail are free-running u32 counters; `tail - head` is the ring length.
//!
//! Shared with the host. `Shared` (head, tail, overflow length, mask) sits at a fixed
//! address, and so do the slots, so the host's hot path pushes and pops in linear
//! memory without a call, as a producer/consumer on a shared ring:
//! - push: if `overflow_len == 0` and `tail - head < capacity`, write the slot and
//!   then `tail + 1`; otherwise stage the job in the input batch, and append
//!   staged jobs to the overflow one batch per call (`zl_microtask_push_batch`);
//! - pop: if `head != tail`, read the slot and write `head + 1`; otherwise, if
//!   `overflow_len > 0`, call the core (`zl_microtasks_refill`) to move the oldest
//!   overflow jobs into the empty ring.
//! The core's own `push`/`pop` follow the same rules, so host and core can be mixed.
//!
//! Costs: push O(1), pop O(1) amortized (a refill moves up to one ring of jobs).

const std = @import("std");
const assert = std.debug.assert;
const chunk_pool = @import("chunk_pool.zig");
const ChunkPool = chunk_pool.ChunkPool;
const ChunkedFifo = @import("task_queue.zig").ChunkedFifo;

/// The ring state the host reads and writes in place (see the file comment).
pub const Shared = extern struct {
    head: u32 = 0,
    tail: u32 = 0,
    /// Jobs in the overflow. While non-zero, new jobs must go to the overflow.
    overflow_len: u32 = 0,
    /// Capacity - 1 (capacity is a power of two).
    mask: u32 = 0,
    /// Address of the slots.
    slots: u32 = 0,
};

pub const MicrotaskRing = struct {
    slots: []u32,
    shared: Shared,
    overflow: ChunkedFifo(u32) = .{},

    pub fn init(slots: []u32) MicrotaskRing {
        assert(std.math.isPowerOfTwo(slots.len));
        return .{ .slots = slots, .shared = .{
            .mask = @intCast(slots.len - 1),
            .slots = @truncate(@intFromPtr(slots.ptr)),
        } };
    }

    fn mask(ring: *const MicrotaskRing) u32 {
        return ring.shared.mask;
    }

    pub fn ring_len(ring: *const MicrotaskRing) u32 {
        return ring.shared.tail -% ring.shared.head;
    }

    pub fn len(ring: *const MicrotaskRing) u32 {
        return ring.ring_len() + ring.overflow.len;
    }

    pub fn push(ring: *MicrotaskRing, pool: *ChunkPool, value: u32) error{OutOfMemory}!void {
        if (ring.overflow.len == 0 and ring.ring_len() < ring.slots.len) {
            ring.slots[ring.shared.tail & ring.mask()] = value;
            ring.shared.tail +%= 1;
            return;
        }
        try ring.overflow.push(pool, value);
        ring.shared.overflow_len = ring.overflow.len;
    }

    pub fn pop(ring: *MicrotaskRing, pool: *ChunkPool) ?u32 {
        if (ring.shared.head == ring.shared.tail) {
            if (ring.refill(pool) == 0) return null;
        }
        const value = ring.slots[ring.shared.head & ring.mask()];
        ring.shared.head +%= 1;
        return value;
    }

    /// Moves the oldest overflow jobs into the ring if it is empty; returns how many.
    pub fn refill(ring: *MicrotaskRing, pool: *ChunkPool) u32 {
        if (ring.ring_len() != 0) return 0;
        var moved: u32 = 0;
        while (ring.ring_len() < ring.slots.len) {
            const value = ring.overflow.pop(pool) orelse break;
            ring.slots[ring.shared.tail & ring.mask()] = value;
            ring.shared.tail +%= 1;
            moved += 1;
        }
        ring.shared.overflow_len = ring.overflow.len;
        return moved;
    }

    pub fn release_all(ring: *MicrotaskRing, pool: *ChunkPool) void {
        ring.shared.head = ring.shared.tail;
        ring.overflow.release_all(pool);
        ring.shared.overflow_len = 0;
    }

    pub const Invariant = error{MicrotaskRingCorrupt};

    pub fn verify(ring: *const MicrotaskRing) Invariant!void {
        if (ring.ring_len() > ring.slots.len) return error.MicrotaskRingCorrupt;
        if (ring.shared.overflow_len != ring.overflow.len) return error.MicrotaskRingCorrupt;
        if (ring.shared.mask != ring.slots.len - 1) return error.MicrotaskRingCorrupt;
        ring.overflow.verify() catch return error.MicrotaskRingCorrupt;
    }
};

const testing = std.testing;

test "overflow keeps FIFO order when the ring fills and drains" {
    var source: chunk_pool.TestSource = .{};
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var slots: [16]u32 = undefined;
    var ring = MicrotaskRing.init(&slots);
    var i: u32 = 0;
    while (i < 100) : (i += 1) try ring.push(&pool, i);
    try testing.expectEqual(@as(u32, 84), ring.overflow.len);
    // Pop a few, push more: the new ones must still come after the overflow.
    i = 0;
    while (i < 20) : (i += 1) try testing.expectEqual(i, ring.pop(&pool).?);
    try ring.push(&pool, 1000);
    while (i < 100) : (i += 1) try testing.expectEqual(i, ring.pop(&pool).?);
    try testing.expectEqual(@as(u32, 1000), ring.pop(&pool).?);
    try testing.expect(ring.pop(&pool) == null);
    try ring.verify();
}

test "fuzz: microtask ring against a model" {
    const fuzz = @import("fuzz.zig");
    const ops = fuzz.ops_count();
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0x3177);
    const random = prng.random();
    var source: chunk_pool.TestSource = .{ .chunks_per_slab = 1 };
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var slots: [32]u32 = undefined;
    var ring = MicrotaskRing.init(&slots);
    var model: std.Deque(u32) = .empty;
    defer model.deinit(testing.allocator);
    var next: u32 = 0;
    var op: usize = 0;
    while (op < ops) : (op += 1) {
        // Alternate between bursts that overflow the ring and drains.
        const filling = (op / 2000) % 2 == 0;
        const push = random.uintLessThan(u32, 10) < @as(u32, if (filling) 7 else 3);
        if (push) {
            try ring.push(&pool, next);
            try model.pushBack(testing.allocator, next);
            next +%= 1;
        } else {
            const expected = model.popFront();
            const got = ring.pop(&pool);
            if (expected) |value| try testing.expectEqual(value, got.?) else try testing.expect(got == null);
        }
        try testing.expectEqual(@as(u32, @intCast(model.len)), ring.len());
        if (op % 991 == 0) try ring.verify();
    }
    try ring.verify();
}
