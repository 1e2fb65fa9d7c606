//! Timer heap: a 4-ary min-heap of (deadline, sequence) entries with a back-index,
//! so any timer can be cancelled by id in O(log n).
//!
//! This was the core's timer engine until the timer wheel (`timer_wheel.zig`)
//! replaced it. It stays as the *reference*: the wheel's model fuzz checks every
//! pop and peek against it, and the native benchmark (`zig build bench`) measures
//! the wheel against it. It is not linked into the wasm.
//!
//! Order: earlier deadline first; for equal deadlines, the earlier *start sequence*
//! first. Every schedule, refresh and interval re-arm takes a new sequence number,
//! so equal deadlines fire in the order the timers were (re)started, as libuv's
//! `start_id` and the HTML "wait until ... started before this one" step require.
//! Sequence numbers are compared with wrapping arithmetic: ties are ordered
//! correctly while the live timers' sequences span fewer than 2^31 starts.
//!
//! Back-index: `positions[id & mask]` holds each timer's heap position (the old
//! 12-byte handle record's `state`); every move in the heap updates it. Removing from the middle moves
//! the last entry into the hole and sifts it *up or down*, whichever restores
//! order (the bug an older Zig std priority queue had; the fuzz test covers it).
//!
//! Four children per node: the tree is half as deep as a binary heap, and a node's
//! four children share one 64-byte cache line when the entries start 48 bytes past a
//! 64-byte boundary (`children_align_offset`; the loop lays the block out that way).
//! Pop is Floyd's bottom-up variant: the hole left by the root moves down to a leaf
//! along the smallest children (3 comparisons per level, none against the moved
//! entry), then the last entry sifts up from there, usually only a level or two,
//! since it came from the bottom.
//!
//! Costs: push O(log n), pop O(log n), remove_at O(log n), update_at O(log n),
//! peek O(1). Memory: 16 bytes per entry.

const std = @import("std");
const assert = std.debug.assert;
const time = @import("time.zig");

pub const Entry = extern struct {
    deadline: time.Ticks,
    seq: u32,
    id: u32,
};

comptime {
    assert(@sizeOf(Entry) == 16);
}

/// True when sequence `a` was issued before `b` (wrapping comparison).
pub fn seq_before(a: u32, b: u32) bool {
    return @as(i32, @bitCast(a -% b)) < 0;
}

/// Heap order: deadline, then start sequence.
pub fn before(a: Entry, b: Entry) bool {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return seq_before(a.seq, b.seq);
}

const arity = 4;

/// Where `entries` should start relative to a 64-byte boundary so that the children
/// of every node (indices 4i+1 .. 4i+4) fill exactly one cache line.
pub const children_align_offset = 64 - @sizeOf(Entry);

/// The back-index: heap position by `id & mask`, laid out like the 12-byte handle
/// record this heap was written for (id, position, delay), so the benchmark pays
/// for the same memory traffic the core did.
pub const Slot = extern struct {
    id: u32,
    pos: u32,
    delay: u32,
};

pub const BackIndex = struct {
    slots: []Slot,

    pub fn set_state(index: *BackIndex, id: u32, pos: u32) void {
        index.slots[id & (index.slots.len - 1)].pos = pos;
    }

    pub fn position(index: *const BackIndex, id: u32) u32 {
        return index.slots[id & (index.slots.len - 1)].pos;
    }
};

const HandleTable = BackIndex;

pub const TimerHeap = struct {
    entries: []Entry,
    len: u32 = 0,

    pub fn init(entries: []Entry) TimerHeap {
        return .{ .entries = entries };
    }

    pub fn peek(heap: *const TimerHeap) ?Entry {
        return if (heap.len == 0) null else heap.entries[0];
    }

    pub fn push(heap: *TimerHeap, table: *HandleTable, entry: Entry) void {
        assert(heap.len < heap.entries.len);
        const pos = heap.len;
        heap.len += 1;
        heap.sift_up(table, pos, entry);
    }

    pub fn pop(heap: *TimerHeap, table: *HandleTable) Entry {
        assert(heap.len > 0);
        const top = heap.entries[0];
        heap.len -= 1;
        if (heap.len == 0) return top;
        const last = heap.entries[heap.len];
        // Move the hole from the root to a leaf along the smallest children...
        var pos: u32 = 0;
        while (true) {
            const first = pos * arity + 1;
            if (first >= heap.len) break;
            const best = heap.min_child(first);
            heap.place(table, pos, heap.entries[best]);
            pos = best;
        }
        // ...then put the last entry there and sift it up.
        heap.sift_up(table, pos, last);
        return top;
    }

    /// Removes the entry at `pos` and returns it. Its record's state is left to the caller.
    pub fn remove_at(heap: *TimerHeap, table: *HandleTable, pos: u32) Entry {
        assert(pos < heap.len);
        const removed = heap.entries[pos];
        heap.len -= 1;
        if (pos != heap.len) {
            heap.settle(table, pos, heap.entries[heap.len]);
        }
        return removed;
    }

    /// Replaces the entry at `pos` (same id) with a new key and restores order.
    pub fn update_at(heap: *TimerHeap, table: *HandleTable, pos: u32, entry: Entry) void {
        assert(pos < heap.len);
        assert(heap.entries[pos].id == entry.id);
        heap.settle(table, pos, entry);
    }

    /// Puts `entry` at `pos` and sifts it up or down, whichever order requires.
    fn settle(heap: *TimerHeap, table: *HandleTable, pos: u32, entry: Entry) void {
        if (pos > 0 and before(entry, heap.entries[(pos - 1) / arity])) {
            heap.sift_up(table, pos, entry);
        } else {
            heap.sift_down(table, pos, entry);
        }
    }

    /// The position of the earliest of the (up to `arity`) siblings starting at `first`.
    inline fn min_child(heap: *const TimerHeap, first: u32) u32 {
        const end = @min(first + arity, heap.len);
        var best = first;
        var child = first + 1;
        while (child < end) : (child += 1) {
            if (before(heap.entries[child], heap.entries[best])) best = child;
        }
        return best;
    }

    fn sift_up(heap: *TimerHeap, table: *HandleTable, start: u32, entry: Entry) void {
        var pos = start;
        while (pos > 0) {
            const parent = (pos - 1) / arity;
            const above = heap.entries[parent];
            if (!before(entry, above)) break;
            heap.place(table, pos, above);
            pos = parent;
        }
        heap.place(table, pos, entry);
    }

    fn sift_down(heap: *TimerHeap, table: *HandleTable, start: u32, entry: Entry) void {
        var pos = start;
        while (true) {
            const first = pos * arity + 1;
            if (first >= heap.len) break;
            const best = heap.min_child(first);
            if (!before(heap.entries[best], entry)) break;
            heap.place(table, pos, heap.entries[best]);
            pos = best;
        }
        heap.place(table, pos, entry);
    }

    inline fn place(heap: *TimerHeap, table: *HandleTable, pos: u32, entry: Entry) void {
        heap.entries[pos] = entry;
        table.set_state(entry.id, pos);
    }

    /// Points the heap at entries that were moved or extended.
    pub fn rebase(heap: *TimerHeap, entries: []Entry) void {
        assert(entries.len >= heap.len);
        heap.entries = entries;
    }

    pub const Invariant = error{TimerHeapCorrupt};

    /// Checks heap order and that every entry's record points back at it. O(n).
    pub fn verify(heap: *const TimerHeap, table: *HandleTable) Invariant!void {
        if (heap.len > heap.entries.len) return error.TimerHeapCorrupt;
        var pos: u32 = 0;
        while (pos < heap.len) : (pos += 1) {
            const entry = heap.entries[pos];
            if (pos > 0 and before(entry, heap.entries[(pos - 1) / arity])) return error.TimerHeapCorrupt;
            if (table.position(entry.id) != pos) return error.TimerHeapCorrupt;
        }
    }
};

const testing = std.testing;

const Fixture = struct {
    slots: [64]Slot = undefined,
    entries: [64]Entry = undefined,
    table: HandleTable = undefined,
    heap: TimerHeap = undefined,
    seq: u32 = 0,
    next_id: u32 = 1,

    fn init(f: *Fixture) void {
        f.table = .{ .slots = &f.slots };
        f.heap = TimerHeap.init(&f.entries);
    }

    fn add(f: *Fixture, deadline: time.Ticks) u32 {
        const id = f.next_id;
        f.next_id += 1;
        f.seq +%= 1;
        f.heap.push(&f.table, .{ .deadline = deadline, .seq = f.seq, .id = id });
        return id;
    }

    fn pop_id(f: *Fixture) u32 {
        return f.heap.pop(&f.table).id;
    }
};

test "equal deadlines pop in start order" {
    var f: Fixture = .{};
    f.init();
    const a = f.add(10);
    const b = f.add(5);
    const c = f.add(10);
    const d = f.add(5);
    try testing.expectEqual(b, f.pop_id());
    try testing.expectEqual(d, f.pop_id());
    try testing.expectEqual(a, f.pop_id());
    try testing.expectEqual(c, f.pop_id());
}

test "removing from the middle sifts up when the moved entry is smaller" {
    // Inserted in heap order, so the array is exactly this (4 children per node):
    //   0: 0 | 1..4: 100 10 10 10 | 5..8 (under 100): 200 201 202 203 | 9..12 (under 10): 11 12 13 14
    var f: Fixture = .{};
    f.init();
    var ids: [13]u32 = undefined;
    const deadlines = [_]time.Ticks{ 0, 100, 10, 10, 10, 200, 201, 202, 203, 11, 12, 13, 14 };
    for (deadlines, 0..) |deadline, i| ids[i] = f.add(deadline);
    for (ids, 0..) |id, i| try testing.expectEqual(@as(u32, @intCast(i)), f.table.position(id));
    // Remove position 5: the last entry (14) moves under 100 and must sift up.
    _ = f.heap.remove_at(&f.table, 5);
    try f.heap.verify(&f.table);
    try testing.expectEqual(@as(u32, 1), f.table.position(ids[12]));
}

test "sequence comparison wraps" {
    try testing.expect(seq_before(std.math.maxInt(u32), 0));
    try testing.expect(!seq_before(0, std.math.maxInt(u32)));
    try testing.expect(seq_before(5, 6));
}

test "fuzz: timer heap against a sorted model, cancel from the middle included" {
    const fuzz = @import("fuzz.zig");
    const ops = fuzz.ops_count();
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0x7157);
    const random = prng.random();
    const gpa = testing.allocator;

    const capacity = 1024;
    const slots = try gpa.alloc(Slot, capacity);
    defer gpa.free(slots);
    const entries = try gpa.alloc(Entry, capacity);
    defer gpa.free(entries);
    var table: HandleTable = .{ .slots = slots };
    var heap = TimerHeap.init(entries);
    var model: std.ArrayListUnmanaged(Entry) = .empty;
    defer model.deinit(gpa);
    var seq: u32 = std.math.maxInt(u32) - 5000; // exercise sequence wrap-around
    var next_id: u32 = 1;

    var op: usize = 0;
    while (op < ops) : (op += 1) {
        const roll = random.uintLessThan(u32, 100);
        if (roll < 45 and model.items.len < capacity / 2) {
            // Few distinct deadlines, so ties are frequent. Ids are unique modulo the
            // capacity while fewer than capacity/2 are live and they advance by one.
            const deadline = random.uintLessThan(u64, 64);
            while (live_slot(model.items, next_id, capacity)) next_id += 1;
            const id = next_id;
            next_id += 1;
            seq +%= 1;
            const entry: Entry = .{ .deadline = deadline, .seq = seq, .id = id };
            heap.push(&table, entry);
            try model.append(gpa, entry);
        } else if (roll < 70 and model.items.len > 0) {
            // Cancel a random live timer (usually from the middle).
            const index = random.uintLessThan(usize, model.items.len);
            const victim = model.swapRemove(index);
            const removed = heap.remove_at(&table, table.position(victim.id));
            try testing.expectEqual(victim.id, removed.id);
        } else if (roll < 85 and model.items.len > 0) {
            // Re-key a random timer (refresh / interval re-arm).
            const index = random.uintLessThan(usize, model.items.len);
            seq +%= 1;
            model.items[index].deadline = random.uintLessThan(u64, 64);
            model.items[index].seq = seq;
            const entry = model.items[index];
            heap.update_at(&table, table.position(entry.id), entry);
        } else if (model.items.len > 0) {
            // Pop the minimum: it must be the model's minimum.
            var best: usize = 0;
            for (model.items, 0..) |entry, i| {
                if (before(entry, model.items[best])) best = i;
            }
            const expected = model.swapRemove(best);
            const got = heap.pop(&table);
            try testing.expectEqual(expected.id, got.id);
        }
        try testing.expectEqual(@as(u32, @intCast(model.items.len)), heap.len);
        if (op % 512 == 0) try heap.verify(&table);
    }
    try heap.verify(&table);
}

fn live_slot(live: []const Entry, id: u32, capacity: u32) bool {
    for (live) |entry| {
        if (entry.id & (capacity - 1) == id & (capacity - 1)) return true;
    }
    return false;
}
