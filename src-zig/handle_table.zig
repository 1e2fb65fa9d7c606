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
//! The table grows before it would be more than 31/32 full. An occupancy bitmap (one
//! bit per slot) finds the next free slot a word at a time, so issuing an id costs
//! about the same at 3% and at 97% load (probing the 28-byte records one by one cost
//! ~23 records, 10 cache lines, at 95%).
//! Growth doubles the table in place: the record in slot `s` either stays or moves
//! to `s + old_capacity` (the bit of its id that the new mask adds), a slot that is
//! free by construction, so no scratch memory is needed.
//!
//! A record carries everything the timer engine needs (`timer_wheel.zig`): the
//! key (deadline, start sequence), the delay, and two links. The links double as
//! the record's state: `next` holds a `State` value when the record is not linked
//! into one of the wheel's lists.
//!
//! Costs: `alloc` O(1) expected, `get`/`free` O(1), `grow_in_place` O(capacity).
//! Memory: 28 bytes per slot plus one bit (`storage_bytes`).

const std = @import("std");
const assert = std.debug.assert;
const time = @import("time.zig");

/// A timer's delay in whole milliseconds and whether it repeats, packed in 32 bits.
pub const Delay = packed struct(u32) {
    ms: u31,
    repeating: bool,
};

/// What a record is doing, as held in `Record.next`. Values below
/// `State.first_special` are list links: the record is an armed timer in a wheel
/// bucket or in the near list. `in_inbox` and `staged` are armed timers too.
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
    /// An armed timer in the wheel's inbox heap (`Record.prev` is its position).
    pub const in_inbox: u32 = free - 5;
    /// An armed timer in the wheel's staging array, not yet placed (`Record.prev` is
    /// its index there).
    pub const staged: u32 = free - 6;
    /// Values below this are list links.
    pub const first_special: u32 = staged;

    /// True for an armed timer or interval (linked, in the inbox, or staged).
    pub fn is_armed(state: u32) bool {
        return state <= in_inbox;
    }
};

/// Largest slot index a link can hold; `link_nil` marks "no record" in list heads.
pub const link_nil: u32 = 1 << 30;

pub const Record = extern struct {
    /// When the armed timer is due (ticks); meaningless in other states.
    deadline: time.Ticks align(4),
    id: u32,
    /// Start sequence of the armed timer: ties on `deadline` go to the earlier one.
    seq: u32,
    delay: Delay,
    /// A `State`, or the next record's slot in the list this one is linked into.
    next: u32,
    /// The previous record's slot in its list, or its position in the wheel's inbox or
    /// staging array (`State.in_inbox`, `State.staged`).
    prev: u32,
};

comptime {
    assert(@sizeOf(Record) == 28);
    assert(link_nil < State.first_special);
}

pub const id_max: u32 = std.math.maxInt(i32);
pub const capacity_min: u32 = 16;
/// The largest table: slot indices must stay below `link_nil`.
pub const capacity_max: u32 = 1 << 27;

/// The memory of a table: the records, then the occupancy bitmap (bit = slot in use;
/// the bits past `capacity` in a one-word bitmap are set).
pub const Storage = struct {
    records: []Record,
    occupied: []u64,
};

fn bitmap_words(capacity: u32) u32 {
    return @max(1, capacity / 64);
}

/// Bytes of a table of `capacity` slots laid out by `storage_at`.
pub fn storage_bytes(capacity: u32) usize {
    return @as(usize, capacity) * @sizeOf(Record) + @as(usize, bitmap_words(capacity)) * 8;
}

/// Lays a table of `capacity` slots out at `memory` (8-byte aligned).
pub fn storage_at(memory: [*]align(8) u8, capacity: u32) Storage {
    const records: [*]Record = @ptrCast(memory);
    const bitmap: [*]u64 = @ptrCast(@alignCast(memory + @as(usize, capacity) * @sizeOf(Record)));
    return .{ .records = records[0..capacity], .occupied = bitmap[0..bitmap_words(capacity)] };
}

/// Frees records wholesale: all-ones bytes make `next` equal `State.free` (and the id
/// 0xFFFFFFFF, above `id_max`, which no handle has). One memory.fill instead of a loop.
fn free_all(records: []Record) void {
    @memset(std.mem.sliceAsBytes(records), 0xff);
}

comptime {
    assert(State.free == std.math.maxInt(u32) and std.math.maxInt(u32) > id_max);
}

pub const HandleTable = struct {
    records: []Record,
    occupied: []u64,
    live: u32 = 0,
    /// The next candidate id; always in [1, id_max].
    next_id: u32 = 1,

    /// Takes ownership of `storage` (a power of two of slots, at least `capacity_min`)
    /// and marks every slot free.
    pub fn init(storage: Storage) HandleTable {
        assert(storage.records.len >= capacity_min);
        assert(std.math.isPowerOfTwo(storage.records.len));
        assert(storage.occupied.len == bitmap_words(@intCast(storage.records.len)));
        free_all(storage.records);
        var table: HandleTable = .{ .records = storage.records, .occupied = storage.occupied };
        table.rebuild_bitmap();
        return table;
    }

    noinline fn rebuild_bitmap(table: *HandleTable) void {
        @memset(table.occupied, 0);
        if (table.records.len < 64) table.occupied[0] = ~@as(u64, 0) << @intCast(table.records.len);
        for (table.records, 0..) |record, slot| {
            if (record.next != State.free) table.occupied[slot / 64] |= bit(@intCast(slot));
        }
    }

    fn bit(slot: u32) u64 {
        return @as(u64, 1) << @intCast(slot % 64);
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
        return table.records[table.alloc_slot(state, delay)].id;
    }

    /// Like `alloc`, returning the new record's slot (its id is `records[slot].id`).
    pub inline fn alloc_slot(table: *HandleTable, state: u32, delay: Delay) u32 {
        assert(!table.needs_growth());
        const slot_mask = table.mask();
        const start = table.next_id & slot_mask;
        var slot = start;
        var id = table.next_id;
        if (table.records[start].next != State.free) {
            slot = table.free_slot_from(start);
            // The candidates next_id, next_id + 1, ... name the slots start, start + 1,
            // ...: the first free slot names the id a slot-by-slot probe would issue.
            id = table.next_id + ((slot -% start) & slot_mask);
            if (id > id_max) {
                id = table.probe_past_wrap();
                slot = id & slot_mask;
            }
        }
        assert(table.records[slot].next == State.free);
        table.next_id = next_candidate(id);
        const record = &table.records[slot];
        record.id = id;
        record.next = state;
        record.delay = delay;
        table.occupied[slot / 64] |= bit(slot);
        table.live += 1;
        return slot;
    }

    /// The first free slot at or after `start`, wrapping around. One exists (load limit).
    fn free_slot_from(table: *const HandleTable, start: u32) u32 {
        const words: u32 = @intCast(table.occupied.len);
        var index = start / 64;
        var free_bits = ~table.occupied[index] & (~@as(u64, 0) << @intCast(start % 64));
        while (free_bits == 0) {
            index = if (index + 1 == words) 0 else index + 1;
            free_bits = ~table.occupied[index];
        }
        return index * 64 + @ctz(free_bits);
    }

    /// The slot-by-slot probe, for the ids around the counter's wrap from id_max to 1.
    noinline fn probe_past_wrap(table: *const HandleTable) u32 {
        var id = table.next_id;
        while (table.records[id & table.mask()].next != State.free) id = next_candidate(id);
        return id;
    }

    fn next_candidate(id: u32) u32 {
        return if (id == id_max) 1 else id + 1;
    }

    /// The live record of `id`, or null if `id` is not live.
    pub fn get(table: *HandleTable, id: u32) ?*Record {
        if (id == 0 or id > id_max) return null;
        const record = &table.records[id & table.mask()];
        if (record.next == State.free or record.id != id) return null;
        return record;
    }

    /// The slot of a live id (`get(id)` must have succeeded).
    pub fn slot_of_id(table: *const HandleTable, id: u32) u32 {
        return id & table.mask();
    }

    /// The slot of a live record (the index the timer wheel's links use).
    pub fn slot_of(table: *const HandleTable, record: *const Record) u32 {
        const slot: u32 = @intCast(record - table.records.ptr);
        assert(slot < table.records.len);
        return slot;
    }

    pub fn free(table: *HandleTable, id: u32) void {
        const record = table.get(id) orelse unreachable;
        table.free_slot(table.slot_of(record));
    }

    /// Frees the live record in `slot`.
    pub fn free_slot(table: *HandleTable, slot: u32) void {
        assert(table.records[slot].next != State.free);
        table.records[slot].next = State.free;
        table.occupied[slot / 64] &= ~bit(slot);
        table.live -= 1;
    }

    /// Frees every record (used by close).
    pub noinline fn clear(table: *HandleTable) void {
        free_all(table.records);
        table.live = 0;
        table.rebuild_bitmap();
    }

    /// Doubles the table in place. `extended` starts where the records start, with
    /// twice the slots; its upper half (which overlays the old bitmap) is overwritten.
    /// Each live record stays in slot `s` or moves to `s + old_capacity`, which is free.
    /// Links between records are the owner's to re-point
    /// (`timer_wheel.TimerWheel.relink_after_growth`).
    pub noinline fn grow_in_place(table: *HandleTable, extended: Storage) void {
        const old_capacity = table.capacity();
        const records = extended.records;
        assert(records.len == @as(usize, old_capacity) * 2);
        assert(records.ptr == table.records.ptr);
        free_all(records[old_capacity..]);
        for (records[0..old_capacity], 0..) |*record, slot| {
            if (record.next == State.free or record.id & old_capacity == 0) continue;
            records[slot + old_capacity] = record.*;
            record.next = State.free;
        }
        table.records = records;
        table.occupied = extended.occupied;
        table.rebuild_bitmap();
    }

    /// Points the table at storage that was moved (memmove) to a new address.
    pub fn rebase(table: *HandleTable, moved: Storage) void {
        assert(moved.records.len == table.records.len);
        table.records = moved.records;
        table.occupied = moved.occupied;
    }

    pub const Invariant = error{HandleTableCorrupt};

    /// Checks every invariant; O(capacity).
    pub noinline fn verify(table: *const HandleTable) Invariant!void {
        const slot_mask = table.mask();
        var live: u32 = 0;
        if (table.records.len > capacity_max) return error.HandleTableCorrupt;
        if (table.occupied.len != bitmap_words(table.capacity())) return error.HandleTableCorrupt;
        if (table.capacity() < 64 and table.occupied[0] >> @intCast(table.capacity()) != ~@as(u64, 0) >> @intCast(table.capacity())) return error.HandleTableCorrupt;
        for (table.records, 0..) |record, slot| {
            const marked = table.occupied[slot / 64] & bit(@intCast(slot)) != 0;
            if (marked != (record.next != State.free)) return error.HandleTableCorrupt;
            if (record.next == State.free) continue;
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

/// A table's storage in test memory: `capacity` slots, room to double `doublings` times.
fn TestStorage(comptime capacity: u32, comptime doublings: u5) type {
    const largest = capacity << doublings;
    return struct {
        memory: [storage_bytes(largest)]u8 align(8) = undefined,

        fn at(self: *@This(), slots: u32) Storage {
            return storage_at(&self.memory, slots);
        }
    };
}

test "ids are monotonic, skip occupied slots and are never reused before wrap" {
    var storage: TestStorage(16, 0) = .{};
    var table = HandleTable.init(storage.at(16));
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
    var storage: TestStorage(16, 0) = .{};
    var table = HandleTable.init(storage.at(16));
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
    var storage: TestStorage(16, 1) = .{};
    var table = HandleTable.init(storage.at(16));
    var ids: [15]u32 = undefined;
    for (&ids) |*id| id.* = table.alloc(State.immediate_queued, one_shot(0));
    try testing.expect(table.needs_growth());
    table.grow_in_place(storage.at(32));
    try table.verify();
    for (ids) |id| try testing.expectEqual(id, table.get(id).?.id);
    try testing.expect(!table.needs_growth());
}

test "the counter wraps from 2^31-1 to 1" {
    var storage: TestStorage(16, 0) = .{};
    var table = HandleTable.init(storage.at(16));
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

    // Room for the largest table the run can reach (4,000 live records), grown in place.
    const memory = try gpa.alignedAlloc(u8, .fromByteUnits(8), storage_bytes(8192));
    defer gpa.free(memory);
    var table = HandleTable.init(storage_at(memory.ptr, capacity_min));
    var model: std.AutoArrayHashMapUnmanaged(u32, u32) = .empty; // id -> state
    defer model.deinit(gpa);
    var issued_max: u32 = 0;

    var op: usize = 0;
    while (op < ops) : (op += 1) {
        const roll = random.uintLessThan(u32, 100);
        if (roll < 50 and model.count() < 4000) {
            if (table.needs_growth()) table.grow_in_place(storage_at(memory.ptr, table.capacity() * 2));
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
                try testing.expectEqual(state, table.get(id).?.next);
            } else {
                try testing.expect(table.get(id) == null);
            }
        }
        if (op % 1024 == 0) try table.verify();
    }
    try table.verify();
    try testing.expectEqual(@as(u32, @intCast(model.count())), table.live);
}
