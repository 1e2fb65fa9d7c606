//! Chunk pool: fixed-size 4 KiB chunks for the task queues and the microtask
//! overflow, recycled through an intrusive free list.
//!
//! Chunks never move once handed out. When the free list is empty the pool asks
//! its `Source` for a slab of fresh memory (the arena grows linear memory) and
//! carves it into chunks. Memory is never returned to the source: a drained
//! queue's chunks go back on the free list and are reused by the next burst, so
//! steady-state operation allocates nothing.
//!
//! Costs: acquire O(1) (amortized over slab refills), release O(1).

const std = @import("std");
const assert = std.debug.assert;

pub const chunk_bytes = 4096;
pub const chunk_align = 16;

/// The header every chunk starts with; the payload follows at `header_bytes`.
pub const Chunk = extern struct {
    next: ?*Chunk,
};

pub const header_bytes = 16;

comptime {
    assert(@sizeOf(Chunk) <= header_bytes);
}

/// Where fresh chunk memory comes from. `grow` returns a slab whose length is a
/// multiple of `chunk_bytes`, aligned to `chunk_align`, or null when memory is exhausted.
pub const Source = struct {
    context: *anyopaque,
    grow: *const fn (context: *anyopaque) ?[]align(chunk_align) u8,
};

pub const ChunkPool = struct {
    source: Source,
    free_list: ?*Chunk = null,
    free_count: u32 = 0,
    /// Chunks ever received from the source.
    total_count: u32 = 0,

    pub fn init(source: Source) ChunkPool {
        return .{ .source = source };
    }

    pub fn in_use(pool: *const ChunkPool) u32 {
        return pool.total_count - pool.free_count;
    }

    pub fn acquire(pool: *ChunkPool) ?*Chunk {
        if (pool.free_list == null) {
            const slab = pool.source.grow(pool.source.context) orelse return null;
            assert(slab.len > 0 and slab.len % chunk_bytes == 0);
            var offset: usize = 0;
            while (offset < slab.len) : (offset += chunk_bytes) {
                const chunk: *Chunk = @ptrCast(@alignCast(slab.ptr + offset));
                pool.total_count += 1;
                pool.release(chunk);
            }
        }
        const chunk = pool.free_list.?;
        pool.free_list = chunk.next;
        pool.free_count -= 1;
        chunk.next = null;
        return chunk;
    }

    pub fn release(pool: *ChunkPool, chunk: *Chunk) void {
        chunk.next = pool.free_list;
        pool.free_list = chunk;
        pool.free_count += 1;
    }

    pub const Invariant = error{ChunkPoolCorrupt};

    pub fn verify(pool: *const ChunkPool) Invariant!void {
        var count: u32 = 0;
        var cursor = pool.free_list;
        while (cursor) |chunk| : (cursor = chunk.next) {
            count += 1;
            if (count > pool.total_count) return error.ChunkPoolCorrupt; // a cycle
        }
        if (count != pool.free_count) return error.ChunkPoolCorrupt;
    }
};

/// A `Source` over the testing allocator, for unit tests. Frees all slabs on deinit.
pub const TestSource = struct {
    slabs: std.ArrayListUnmanaged([]align(chunk_align) u8) = .empty,
    chunks_per_slab: usize = 2,
    /// When set, `grow` fails after this many slabs (to test exhaustion).
    slab_limit: ?usize = null,

    pub fn source(test_source: *TestSource) Source {
        return .{ .context = test_source, .grow = grow };
    }

    fn grow(context: *anyopaque) ?[]align(chunk_align) u8 {
        const test_source: *TestSource = @ptrCast(@alignCast(context));
        if (test_source.slab_limit) |limit| {
            if (test_source.slabs.items.len >= limit) return null;
        }
        const gpa = std.testing.allocator;
        const slab = gpa.alignedAlloc(u8, .fromByteUnits(chunk_align), chunk_bytes * test_source.chunks_per_slab) catch return null;
        test_source.slabs.append(gpa, slab) catch {
            gpa.free(slab);
            return null;
        };
        return slab;
    }

    pub fn deinit(test_source: *TestSource) void {
        const gpa = std.testing.allocator;
        for (test_source.slabs.items) |slab| gpa.free(slab);
        test_source.slabs.deinit(gpa);
    }
};

test "chunks are recycled and the pool grows only when empty" {
    var test_source: TestSource = .{};
    defer test_source.deinit();
    var pool = ChunkPool.init(test_source.source());
    const a = pool.acquire().?;
    const b = pool.acquire().?;
    try std.testing.expectEqual(@as(u32, 2), pool.total_count);
    pool.release(a);
    const c = pool.acquire().?;
    try std.testing.expectEqual(a, c);
    try std.testing.expectEqual(@as(u32, 2), pool.in_use());
    _ = pool.acquire().?; // needs a new slab
    try std.testing.expectEqual(@as(u32, 4), pool.total_count);
    pool.release(b);
    try pool.verify();
}

test "an exhausted source makes acquire fail and leaves the pool usable" {
    var test_source: TestSource = .{ .slab_limit = 1 };
    defer test_source.deinit();
    var pool = ChunkPool.init(test_source.source());
    const a = pool.acquire().?;
    _ = pool.acquire().?;
    try std.testing.expect(pool.acquire() == null);
    pool.release(a);
    try std.testing.expect(pool.acquire() != null);
    try pool.verify();
}

test "fuzz: chunk pool against a model of owned chunks" {
    const fuzz = @import("fuzz.zig");
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0xc4c4);
    const random = prng.random();
    const gpa = std.testing.allocator;
    var test_source: TestSource = .{ .chunks_per_slab = 3 };
    defer test_source.deinit();
    var pool = ChunkPool.init(test_source.source());
    var owned: std.ArrayListUnmanaged(*Chunk) = .empty;
    defer owned.deinit(gpa);
    const ops = fuzz.ops_count();
    var op: usize = 0;
    while (op < ops) : (op += 1) {
        if (random.boolean() and owned.items.len < 500) {
            const chunk = pool.acquire().?;
            // Never hand out a chunk that is still owned.
            for (owned.items) |other| try std.testing.expect(other != chunk);
            // Chunks stay writable across their whole size.
            const bytes: [*]u8 = @ptrCast(chunk);
            bytes[chunk_bytes - 1] = @truncate(op);
            try owned.append(gpa, chunk);
        } else if (owned.items.len > 0) {
            pool.release(owned.swapRemove(random.uintLessThan(usize, owned.items.len)));
        }
        try std.testing.expectEqual(@as(u32, @intCast(owned.items.len)), pool.in_use());
        if (op % 1024 == 0) try pool.verify();
    }
    try pool.verify();
}
