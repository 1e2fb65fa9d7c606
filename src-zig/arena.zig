//! Arena: the layout of linear memory above the core's static data.
//!
//!   base                                                              end
//!   | fixed (microtask ring) | chunk slabs ->   | gap | timer block   |
//!
//! - fixed: carved once by `Loop.init`, sized from the options.
//! - chunk slabs: grow upward and never move (queued items are addressed by pointer).
//! - timer block: the handle table (28-byte records, which also hold the timer
//!   wheel's links, then the occupancy bitmap), addressed only by index.
//!   It is the one region that moves: it grows in place at the top of memory, and
//!   moves up (a single memmove) when the chunk region needs its room. The owner
//!   re-points its two slices after a move.
//!
//! Memory grows (`memory.grow`) only inside calls that can allocate (init, schedule,
//! push); the host refreshes its typed-array views after those. WebAssembly memory
//! never shrinks; freed chunks and handle slots are reused instead.

const std = @import("std");
const assert = std.debug.assert;

/// Alignment of every region: a cache line, so each region starts on a line boundary
/// (the handle records, the chunk slabs).
pub const block_align = 64;

/// The memory the arena lays out. `end` moves up when `grow` succeeds.
pub const Backing = struct {
    base: usize,
    end: usize,
    limit: usize,
    grow_fn: *const fn (backing: *Backing, new_end: usize) bool,

    /// Ensures memory reaches `new_end`. False when the engine refuses.
    pub fn ensure(backing: *Backing, new_end: usize) bool {
        if (new_end <= backing.end) return true;
        if (new_end > backing.limit) return false;
        return backing.grow_fn(backing, new_end);
    }
};

pub fn align_up(value: usize, alignment: usize) usize {
    return std.mem.alignForward(usize, value, alignment);
}

pub const Arena = struct {
    backing: Backing,
    fixed_end: usize,
    chunks_end: usize,
    timer_start: usize,
    timer_len: usize = 0,
    /// Set once the chunk region or the timer block exists; no fixed allocations after.
    sealed: bool = false,
    /// Bytes copied by timer-block moves (observable cost of the layout).
    moved_bytes: u64 = 0,
    moves: u32 = 0,

    pub fn init(backing: Backing) Arena {
        const base = align_up(backing.base, block_align);
        return .{ .backing = backing, .fixed_end = base, .chunks_end = base, .timer_start = base };
    }

    pub fn alloc_fixed(arena: *Arena, bytes: usize) ?[*]align(block_align) u8 {
        assert(!arena.sealed);
        const start = arena.fixed_end;
        const end = align_up(start + bytes, block_align);
        if (!arena.backing.ensure(end)) return null;
        arena.fixed_end = end;
        arena.chunks_end = end;
        arena.timer_start = end;
        return @ptrFromInt(start);
    }

    /// Creates the timer block above the (empty) chunk region.
    pub fn init_timer_block(arena: *Arena, bytes: usize) ?[*]align(block_align) u8 {
        assert(!arena.sealed);
        arena.sealed = true;
        arena.timer_start = arena.chunks_end;
        if (!arena.backing.ensure(arena.timer_start + bytes)) return null;
        arena.timer_len = bytes;
        return @ptrFromInt(arena.timer_start);
    }

    pub fn timer_block(arena: *const Arena) [*]align(block_align) u8 {
        return @ptrFromInt(arena.timer_start);
    }

    /// Grows the timer block in place to `bytes`. Its start does not move.
    pub fn grow_timer_block(arena: *Arena, bytes: usize) bool {
        assert(bytes >= arena.timer_len);
        if (!arena.backing.ensure(arena.timer_start + bytes)) return false;
        arena.timer_len = bytes;
        return true;
    }

    pub const ChunkGrowth = struct {
        slab: []align(block_align) u8,
        /// True when the timer block moved to make room; its owner must re-point.
        timer_block_moved: bool,
    };

    /// Extends the chunk region by `bytes`, moving the timer block up if it is in the way.
    pub fn grow_chunks(arena: *Arena, bytes: usize) ?ChunkGrowth {
        assert(arena.sealed);
        assert(bytes % block_align == 0);
        const slab_start = arena.chunks_end;
        const slab_end = slab_start + bytes;
        var moved = false;
        if (slab_end > arena.timer_start) {
            const new_start = align_up(slab_end, block_align);
            if (!arena.backing.ensure(new_start + arena.timer_len)) return null;
            const source: [*]u8 = @ptrFromInt(arena.timer_start);
            const target: [*]u8 = @ptrFromInt(new_start);
            // Regions may overlap and the target is higher: copy from the end.
            std.mem.copyBackwards(u8, target[0..arena.timer_len], source[0..arena.timer_len]);
            arena.timer_start = new_start;
            arena.moved_bytes += arena.timer_len;
            arena.moves += 1;
            moved = true;
        }
        arena.chunks_end = slab_end;
        const slab: [*]align(block_align) u8 = @ptrFromInt(slab_start);
        return .{ .slab = slab[0..bytes], .timer_block_moved = moved };
    }

    /// Bytes of linear memory the arena spans (fixed, chunks, gap and timer block).
    pub fn span_bytes(arena: *const Arena) usize {
        return arena.timer_start + arena.timer_len - align_up(arena.backing.base, block_align);
    }

    pub const Invariant = error{ArenaCorrupt};

    pub fn verify(arena: *const Arena) Invariant!void {
        if (arena.fixed_end > arena.chunks_end) return error.ArenaCorrupt;
        if (arena.chunks_end > arena.timer_start) return error.ArenaCorrupt;
        if (arena.timer_start % block_align != 0) return error.ArenaCorrupt;
        if (arena.timer_start + arena.timer_len > arena.backing.end) return error.ArenaCorrupt;
    }
};

/// A backing over a host allocation, for native tests: growth only moves `end`.
pub const TestBacking = struct {
    memory: []align(4096) u8,

    pub fn create(bytes: usize) !TestBacking {
        const memory = try std.heap.page_allocator.alignedAlloc(u8, .fromByteUnits(4096), bytes);
        return .{ .memory = memory };
    }

    pub fn destroy(test_backing: *TestBacking) void {
        std.heap.page_allocator.free(test_backing.memory);
    }

    pub fn backing(test_backing: *TestBacking, initial: usize) Backing {
        const base = @intFromPtr(test_backing.memory.ptr);
        return .{ .base = base, .end = base + initial, .limit = base + test_backing.memory.len, .grow_fn = grow };
    }

    fn grow(self: *Backing, new_end: usize) bool {
        // Round to 64 KiB pages like memory.grow.
        const page = 65536;
        const end = self.base + align_up(new_end - self.base, page);
        if (end > self.limit) return false;
        self.end = end;
        return true;
    }
};

test "the timer block moves up when chunks need room, keeping its bytes" {
    var test_backing = try TestBacking.create(1 << 20);
    defer test_backing.destroy();
    var arena = Arena.init(test_backing.backing(0));
    _ = arena.alloc_fixed(100).?;
    const block = arena.init_timer_block(256).?;
    for (0..256) |i| block[i] = @truncate(i);
    const growth = arena.grow_chunks(4096).?;
    try std.testing.expect(growth.timer_block_moved);
    const moved = arena.timer_block();
    for (0..256) |i| try std.testing.expectEqual(@as(u8, @truncate(i)), moved[i]);
    try std.testing.expect(@intFromPtr(growth.slab.ptr) + growth.slab.len <= arena.timer_start);
    try arena.verify();
}

test "growth fails cleanly at the limit" {
    var test_backing = try TestBacking.create(1 << 16);
    defer test_backing.destroy();
    var arena = Arena.init(test_backing.backing(0));
    _ = arena.init_timer_block(1024).?;
    try std.testing.expect(!arena.grow_timer_block(1 << 17));
    try std.testing.expect(arena.grow_chunks(1 << 16) == null);
    try arena.verify();
}
