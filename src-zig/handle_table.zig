//! Handle table: one record for every live timer, interval and immediate, found
//! from its id in O(1).
//!
//! Ids come from one counter that runs 1, 2, ..., 2^31 - 1 and then wraps to 1, so
//! they are positive int32 values in JS. The record of id `i` lives at slot
//! `i & mask`; when the slot of the next candidate id is occupied, that candidate
//! is skipped. Hence:
//! - an id is never issued twice before the counter wraps (2^31 - 1 issues);
//! - lookup is one index plus one comparison: a stale or foreign id finds a free
//!   slot or a record with a different id and is reported stale, never confused
//!   with a live handle (this is the "generation" of a generational handle:
//!   `id >> log2(capacity)`);
//! - growth doubles the table and re-places each record at `id & new_mask`. Ids
//!   that are distinct modulo the old capacity are distinct modulo the new one,
//!   so re-placement never collides.
//!
//! The table grows before it would be more than 31/32 full. Allocation probes
//! consecutive slots; the expected number of probes at load `a` is 1 / (1 - a).
//!
//! Costs: `alloc` O(1) expected, `get`/`free` O(1), `grow_into` O(capacity).
//! Memory: 12 bytes per slot.

const std = @import("std");
const assert = std.debug.assert;

/// A timer's delay in whole milliseconds and whether it repeats, packed in 32 bits.
pub const Delay = packed struct(u32) {
    ms: u31,
    repeating: bool,
};

/// What a record is doing. Values below `State.first_special` are positions in
/// the timer heap: the record is an armed timer or interval.
pub const State = struct {
    pub const free: u32 = std.math.maxInt(u32);
    /// A one-shot timer handed to the host in the current batch, not yet run.
    pub const timer_due: u32 = free - 1;
    /// An immediate waiting in the immediate queue.
    pub const immediate_queued: u32 = free - 2;
    /// An immediate handed to the host in the current batch, not yet run.
    pub const immediate_due: u32 = free - 3;
    /// A due timer or immediate that was cleared before the host ran it. It keeps
    /// its slot until the batch is released so the host's mirror slot is not reused.
    pub const due_cancelled: u32 = free - 4;
    pub const first_special: u32 = due_cancelled;

    pub fn is_armed(state: u32) bool {
        return state < first_special;
    }
};

pub const Record = extern struct {
    id: u32,
    state: u32,
    delay: Delay,
};

comptime {
    assert(@sizeOf(Record) == 12);
}

pub const id_max: u32 = std.math.maxInt(i32);
pub const capacity_min: u32 = 16;

pub const HandleTable = struct {
    records: []Record,
    live: u32 = 0,
    /// The next candidate id; always in [1, id_max].
    next_id: u32 = 1,

    /// Takes ownership of `records` (length a power of two, at least `capacity_min`)
    /// and marks every slot free.
    pub fn init(records: []Record) HandleTable {
        assert(records.len >= capacity_min);
        assert(std.math.isPowerOfTwo(records.len));
        for (records) |*record| record.* = .{ .id = 0, .state = State.free, .delay = .{ .ms = 0, .repeating = false } };
        return .{ .records = records };
    }

    pub fn capacity(table: *const HandleTable) u32 {
        return @intCast(table.records.len);
    }

    pub fn mask(table: *const HandleTable) u32 {
        return table.capacity() - 1;
    }

    /// The most records a table of `capacity_slots` may hold.
    pub fn load_limit(capacity_slots: u32) u32 {
        return capacity_slots - capacity_slots / 32 - 1;
    }

    /// True when one more record would exceed the load limit.
    pub fn needs_growth(table: *const HandleTable) bool {
        return table.live + 1 > load_limit(table.capacity());
    }

    /// Issues a new id with the given state. The caller has ensured there is room.
    pub fn alloc(table: *HandleTable, state: u32, delay: Delay) u32 {
        assert(!table.needs_growth());
        const slot_mask = table.mask();
        var id = table.next_id;
        while (table.records[id & slot_mask].state != State.free) {
            id = next_candidate(id);
        }
        table.next_id = next_candidate(id);
        table.records[id & slot_mask] = .{ .id = id, .state = state, .delay = delay };
        table.live += 1;
        return id;
    }

    fn next_candidate(id: u32) u32 {
        return if (id == id_max) 1 else id + 1;
    }

    /// The live record of `id`, or null if `id` is not live.
    pub fn get(table: *HandleTable, id: u32) ?*Record {
        if (id == 0 or id > id_max) return null;
        const record = &table.records[id & table.mask()];
        if (record.state == State.free or record.id != id) return null;
        return record;
    }

    /// Records a new heap position (or state) for a live id. Hot path of heap sifts.
    pub fn set_state(table: *HandleTable, id: u32, state: u32) void {
        const record = &table.records[id & table.mask()];
        assert(record.id == id and record.state != State.free);
        record.state = state;
    }

    pub fn free(table: *HandleTable, id: u32) void {
        const record = table.get(id) orelse unreachable;
        record.state = State.free;
        table.live -= 1;
    }

    /// Frees every record (used by close).
    pub fn clear(table: *HandleTable) void {
        for (table.records) |*record| record.state = State.free;
        table.live = 0;
    }

    /// Re-places every live record into `new_records`, twice as large, and adopts it.
    /// `new_records` must not overlap the current records.
    pub fn grow_into(table: *HandleTable, new_records: []Record) void {
        assert(new_records.len == table.records.len * 2);
        const new_mask: u32 = @intCast(new_records.len - 1);
        for (new_records) |*record| record.* = .{ .id = 0, .state = State.free, .delay = .{ .ms = 0, .repeating = false } };
        for (table.records) |record| {
            if (record.state == State.free) continue;
            const slot = &new_records[record.id & new_mask];
            assert(slot.state == State.free);
            slot.* = record;
        }
        table.records = new_records;
    }

    /// Points the table at records that were moved (memmove) to a new address.
    pub fn rebase(table: *HandleTable, moved: []Record) void {
        assert(moved.len == table.records.len);
        table.records = moved;
    }

    pub const Invariant = error{HandleTableCorrupt};

    /// Checks every invariant; O(capacity).
    pub fn verify(table: *const HandleTable) Invariant!void {
        const slot_mask = table.mask();
        var live: u32 = 0;
        for (table.records, 0..) |record, slot| {
            if (record.state == State.free) continue;
            live += 1;
            if (record.id == 0 or record.id > id_max) return error.HandleTableCorrupt;
            if ((record.id & slot_mask) != slot) return error.HandleTableCorrupt;
        }
        if (live != table.live) return error.HandleTableCorrupt;
        if (table.next_id == 0 or table.next_id > id_max) return error.HandleTableCorrupt;
        if (table.live > load_limit(table.capacity())) return error.HandleTableCorrupt;
    }
};

const testing = std.testing;

fn one_shot(ms: u31) Delay {
    return .{ .ms = ms, .repeating = false };
}

test "ids are monotonic, skip occupied slots and are never reused before wrap" {
    var storage: [16]Record = undefined;
    var table = HandleTable.init(&storage);
    // Ids 1..15 take slots 1..15 (the load limit of 16 slots is 15).
    var id: u32 = 0;
    while (id < 15) {
        const next = table.alloc(State.timer_due, one_shot(1));
        try testing.expectEqual(id + 1, next);
        id = next;
    }
    try testing.expect(table.needs_growth());
    table.free(1);
    try testing.expectEqual(@as(u32, 16), table.alloc(State.timer_due, one_shot(1))); // slot 0
    table.free(3);
    // 17 -> slot 1 (free since id 1 was freed), then 18 -> slot 2 is held by id 2: skipped.
    try testing.expectEqual(@as(u32, 17), table.alloc(State.timer_due, one_shot(1)));
    table.free(16);
    try testing.expectEqual(@as(u32, 19), table.alloc(State.timer_due, one_shot(1))); // slot 3
    try table.verify();
}

test "a stale id is never confused with the live id in its slot" {
    var storage: [16]Record = undefined;
    var table = HandleTable.init(&storage);
    const first = table.alloc(State.timer_due, one_shot(0));
    table.free(first);
    var id = table.alloc(State.timer_due, one_shot(0));
    while (id & table.mask() != first & table.mask()) {
        table.free(id);
        id = table.alloc(State.timer_due, one_shot(0));
    }
    try testing.expect(id != first);
    try testing.expect(table.get(first) == null);
    try testing.expect(table.get(id) != null);
    try testing.expect(table.get(0) == null);
    try testing.expect(table.get(id_max + 1) == null);
}

test "growth re-places records without collisions and keeps lookups working" {
    var small: [16]Record = undefined;
    var large: [32]Record = undefined;
    var table = HandleTable.init(&small);
    var ids: [15]u32 = undefined;
    for (&ids) |*id| id.* = table.alloc(State.immediate_queued, one_shot(0));
    try testing.expect(table.needs_growth());
    table.grow_into(&large);
    try table.verify();
    for (ids) |id| try testing.expectEqual(id, table.get(id).?.id);
    try testing.expect(!table.needs_growth());
}

test "the counter wraps from 2^31-1 to 1" {
    var storage: [16]Record = undefined;
    var table = HandleTable.init(&storage);
    table.next_id = id_max;
    try testing.expectEqual(id_max, table.alloc(State.timer_due, one_shot(0)));
    try testing.expectEqual(@as(u32, 1), table.alloc(State.timer_due, one_shot(0)));
}

test "fuzz: handle table against a model" {
    const fuzz = @import("fuzz.zig");
    const ops = fuzz.ops_count();
    var prng = std.Random.DefaultPrng.init(fuzz.seed());
    const random = prng.random();
    const gpa = testing.allocator;

    var records = try gpa.alloc(Record, capacity_min);
    defer gpa.free(records);
    var table = HandleTable.init(records);
    var model: std.AutoArrayHashMapUnmanaged(u32, u32) = .empty; // id -> state
    defer model.deinit(gpa);
    var issued_max: u32 = 0;

    var op: usize = 0;
    while (op < ops) : (op += 1) {
        const roll = random.uintLessThan(u32, 100);
        if (roll < 50 and model.count() < 4000) {
            if (table.needs_growth()) {
                const bigger = try gpa.alloc(Record, records.len * 2);
                table.grow_into(bigger);
                gpa.free(records);
                records = bigger;
            }
            const state = random.uintLessThan(u32, 1000);
            const id = table.alloc(state, one_shot(0));
            try testing.expect(id > issued_max); // monotonic (no wrap in this run)
            issued_max = id;
            try model.put(gpa, id, state);
        } else if (roll < 85 and model.count() > 0) {
            const index = random.uintLessThan(usize, model.count());
            const id = model.keys()[index];
            table.free(id);
            _ = model.swapRemove(id);
            try testing.expect(table.get(id) == null);
        } else {
            // Look up a random id: live ones must match the model, others must be stale.
            const id = random.uintLessThan(u32, issued_max + 2);
            if (model.get(id)) |state| {
                try testing.expectEqual(state, table.get(id).?.state);
            } else {
                try testing.expect(table.get(id) == null);
            }
        }
        if (op % 1024 == 0) try table.verify();
    }
    try table.verify();
    try testing.expectEqual(@as(u32, @intCast(model.count())), table.live);
}
