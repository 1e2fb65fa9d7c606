//! The interface every benchmarked timer engine implements, and the helpers they share.
//!
//! An engine owns its records and issues its own ids (the core's scheme: a counter,
//! slot `id & mask`, occupied slots skipped), so the comparison includes what each
//! design costs in bookkeeping, not only its ordered structure. Every engine keeps
//! exact (deadline, start sequence) order; `bench_timers.zig` checks them against
//! each other on a seeded stream before timing anything.
//!
//!   init(engine, allocator, capacity)    capacity: slots, a power of two, fixed
//!   deinit(engine, allocator)
//!   schedule(engine, now, delay_ms) u32  due at now + delay_ms * 1000 ticks; the id
//!   cancel(engine, id)                   a live id
//!   collect(engine, now, out) u32        pops timers due by `now`, in order, into `out`
//!   next_deadline(engine, now) ?Ticks    exact
//!   len(engine) u32
//!   bytes_per_slot                       per-slot memory (declaration)

const std = @import("std");
pub const Ticks = @import("../time.zig").Ticks;
pub const ticks_per_ms = @import("../time.zig").ticks_per_ms;

/// The slots a table needs for `live` timers under the core's 31/32 load limit.
pub fn capacity_for(live: u32) u32 {
    var capacity: u32 = 16;
    while (capacity - capacity / 32 - 1 < live + 1) capacity *= 2;
    return capacity;
}

/// The core's id scheme over any record type with `id: u32` and a free test.
pub fn alloc_id(comptime Node: type, nodes: []Node, next_id: *u32, comptime is_free: fn (*const Node) bool) u32 {
    const mask: u32 = @intCast(nodes.len - 1);
    var id = next_id.*;
    while (!is_free(&nodes[id & mask])) id = if (id == std.math.maxInt(i32)) 1 else id + 1;
    next_id.* = if (id == std.math.maxInt(i32)) 1 else id + 1;
    nodes[id & mask].id = id;
    return id;
}

pub fn seq_before(a: u32, b: u32) bool {
    return @as(i32, @bitCast(a -% b)) < 0;
}
