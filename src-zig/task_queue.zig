//! Chunked FIFO: the ingress queue for tasks (and, with another element type, for
//! immediates and the microtask overflow).
//!
//! A singly linked list of fixed-size chunks from the `ChunkPool`. Items are
//! written at the tail chunk and read from the head chunk; a chunk that has been
//! read completely goes back to the pool. Nothing is ever moved or copied, and
//! steady-state push/pop allocates nothing (the last chunk is kept when the queue
//! drains, so an alternating push/pop never touches the pool).
//!
//! `pushed` and `popped` count items over the queue's lifetime. A phase snapshot
//! (`pushed` at the start of a phase) lets the loop run exactly the items queued
//! before the phase began, in order, while new items wait for the next turn.
//!
//! Costs: push O(1), pop O(1). Memory: one 4 KiB chunk per `per_chunk` items.

const std = @import("std");
const assert = std.debug.assert;
const chunk_pool = @import("chunk_pool.zig");
const Chunk = chunk_pool.Chunk;
const ChunkPool = chunk_pool.ChunkPool;

/// A task or immediate waiting in a queue: what to run and when it was queued.
pub const Queued = extern struct {
    /// A host slot (tasks) or a handle id (immediates).
    value: u32,
    /// The low 32 bits of the loop time (ticks) when it was queued; task latency
    /// is the wrapping difference, valid for waits under 71 minutes.
    queued_at: u32,
};

pub fn ChunkedFifo(comptime T: type) type {
    return struct {
        const Self = @This();

        pub const per_chunk: u32 = (chunk_pool.chunk_bytes - chunk_pool.header_bytes) / @sizeOf(T);

        head: ?*Chunk = null,
        /// Index of the next item to read in `head`.
        head_index: u32 = 0,
        tail: ?*Chunk = null,
        /// Index of the next free cell in `tail`.
        tail_index: u32 = 0,
        len: u32 = 0,
        pushed: u64 = 0,
        popped: u64 = 0,

        fn items(chunk: *Chunk) *[per_chunk]T {
            const bytes: [*]u8 = @ptrCast(chunk);
            return @ptrCast(@alignCast(bytes + chunk_pool.header_bytes));
        }

        pub fn push(queue: *Self, pool: *ChunkPool, item: T) error{OutOfMemory}!void {
            if (queue.tail == null or queue.tail_index == per_chunk) {
                const chunk = pool.acquire() orelse return error.OutOfMemory;
                if (queue.tail) |tail| {
                    tail.next = chunk;
                } else {
                    queue.head = chunk;
                    queue.head_index = 0;
                }
                queue.tail = chunk;
                queue.tail_index = 0;
            }
            items(queue.tail.?)[queue.tail_index] = item;
            queue.tail_index += 1;
            queue.len += 1;
            queue.pushed += 1;
        }

        pub fn pop(queue: *Self, pool: *ChunkPool) ?T {
            if (queue.len == 0) return null;
            var head = queue.head.?;
            if (queue.head_index == per_chunk) {
                // The head chunk is read out; the next one holds the oldest item.
                const next = head.next.?;
                pool.release(head);
                head = next;
                queue.head = next;
                queue.head_index = 0;
            }
            const item = items(head)[queue.head_index];
            queue.head_index += 1;
            queue.len -= 1;
            queue.popped += 1;
            if (queue.len == 0) {
                // Drained: keep this chunk and start over at its beginning.
                assert(head == queue.tail.?);
                queue.head_index = 0;
                queue.tail_index = 0;
            }
            return item;
        }

        pub fn peek(queue: *const Self) ?T {
            if (queue.len == 0) return null;
            if (queue.head_index == per_chunk) return items(queue.head.?.next.?)[0];
            return items(queue.head.?)[queue.head_index];
        }

        /// Returns every chunk to the pool and empties the queue (close).
        pub fn release_all(queue: *Self, pool: *ChunkPool) void {
            var cursor = queue.head;
            while (cursor) |chunk| {
                cursor = chunk.next;
                pool.release(chunk);
            }
            queue.popped += queue.len;
            queue.* = .{ .pushed = queue.pushed, .popped = queue.popped };
        }

        pub fn chunk_count(queue: *const Self) u32 {
            var count: u32 = 0;
            var cursor = queue.head;
            while (cursor) |chunk| : (cursor = chunk.next) count += 1;
            return count;
        }

        pub const Invariant = error{QueueCorrupt};

        /// Checks that the chunk chain holds exactly `len` items. O(chunks).
        pub fn verify(queue: *const Self) Invariant!void {
            if (queue.pushed - queue.popped != queue.len) return error.QueueCorrupt;
            if (queue.head == null) {
                if (queue.tail != null or queue.len != 0) return error.QueueCorrupt;
                return;
            }
            const chunks = queue.chunk_count();
            if (chunks == 0) return error.QueueCorrupt;
            var last = queue.head.?;
            while (last.next) |next| last = next;
            if (last != queue.tail.?) return error.QueueCorrupt;
            if (queue.head_index > per_chunk or queue.tail_index > per_chunk) return error.QueueCorrupt;
            const capacity_used: u64 = @as(u64, chunks - 1) * per_chunk + queue.tail_index;
            if (capacity_used < queue.head_index) return error.QueueCorrupt;
            if (capacity_used - queue.head_index != queue.len) return error.QueueCorrupt;
        }
    };
}

const testing = std.testing;

test "items come out in the order they went in, across chunks" {
    var source: chunk_pool.TestSource = .{};
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var queue: ChunkedFifo(u32) = .{};
    const count = ChunkedFifo(u32).per_chunk * 3 + 7;
    var i: u32 = 0;
    while (i < count) : (i += 1) try queue.push(&pool, i);
    try queue.verify();
    i = 0;
    while (i < count) : (i += 1) try testing.expectEqual(i, queue.pop(&pool).?);
    try testing.expect(queue.pop(&pool) == null);
    try queue.verify();
    // Drained: all but one chunk went back to the pool.
    try testing.expectEqual(@as(u32, 1), pool.in_use());
}

test "alternating push and pop never touches the pool" {
    var source: chunk_pool.TestSource = .{};
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var queue: ChunkedFifo(Queued) = .{};
    var i: u32 = 0;
    while (i < 10_000) : (i += 1) {
        try queue.push(&pool, .{ .value = i, .queued_at = 0 });
        try testing.expectEqual(i, queue.pop(&pool).?.value);
    }
    try testing.expectEqual(@as(u32, 1), pool.total_count / @as(u32, @intCast(source.chunks_per_slab)));
}

test "push fails cleanly when memory is exhausted and the queue stays usable" {
    var source: chunk_pool.TestSource = .{ .slab_limit = 1, .chunks_per_slab = 1 };
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var queue: ChunkedFifo(u32) = .{};
    var i: u32 = 0;
    while (i < ChunkedFifo(u32).per_chunk) : (i += 1) try queue.push(&pool, i);
    try testing.expectError(error.OutOfMemory, queue.push(&pool, 99));
    try queue.verify();
    try testing.expectEqual(@as(u32, 0), queue.pop(&pool).?);
    try testing.expectEqual(ChunkedFifo(u32).per_chunk - 1, queue.len);
}

test "fuzz: chunked fifo against a model" {
    const fuzz = @import("fuzz.zig");
    const ops = fuzz.ops_count();
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0xf1f0);
    const random = prng.random();
    var source: chunk_pool.TestSource = .{ .chunks_per_slab = 1 };
    defer source.deinit();
    var pool = ChunkPool.init(source.source());
    var queue: ChunkedFifo(Queued) = .{};
    var model: std.Deque(u32) = .empty;
    defer model.deinit(testing.allocator);
    var next: u32 = 0;
    var op: usize = 0;
    while (op < ops) : (op += 1) {
        // Bursty: long runs of pushes, then long runs of pops, to cross chunk edges often.
        const phase = (op / 3000) % 2 == 0;
        const push = if (phase) random.uintLessThan(u32, 10) < 7 else random.uintLessThan(u32, 10) < 3;
        if (push) {
            try queue.push(&pool, .{ .value = next, .queued_at = next *% 3 });
            try model.pushBack(testing.allocator, next);
            next +%= 1;
        } else {
            const expected = model.popFront();
            const got = queue.pop(&pool);
            if (expected) |value| {
                try testing.expectEqual(value, got.?.value);
                try testing.expectEqual(value *% 3, got.?.queued_at);
            } else {
                try testing.expect(got == null);
            }
        }
        try testing.expectEqual(@as(u32, @intCast(model.len)), queue.len);
        if (op % 997 == 0) {
            try queue.verify();
            try pool.verify();
            if (queue.peek()) |item| try testing.expectEqual(model.at(0), item.value);
        }
    }
    queue.release_all(&pool);
    try testing.expectEqual(@as(u32, 0), pool.in_use());
}
