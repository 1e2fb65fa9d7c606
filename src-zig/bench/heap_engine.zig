//! Benchmark engine "heap": the core's engine before the timer wheel, rebuilt from the
//! reference heap. A 12-byte record per slot (id, heap position, delay) and 16-byte heap
//! entries laid out so each node's four children share a cache line, as loop.zig did.

const std = @import("std");
const engine = @import("engine.zig");
const Ticks = engine.Ticks;
const reference = @import("../timer_heap.zig");

pub const HeapEngine = struct {
    pub const name = "heap (4-ary, before)";
    pub const bytes_per_slot = @sizeOf(reference.Slot) + @sizeOf(reference.Entry);
    const pad = reference.children_align_offset / @sizeOf(reference.Entry);

    slots: []reference.Slot,
    entries_memory: []align(64) reference.Entry,
    index: reference.BackIndex,
    heap: reference.TimerHeap,
    next_id: u32 = 1,
    seq: u32 = 0,

    pub fn init(self: *HeapEngine, allocator: std.mem.Allocator, capacity: u32) !void {
        const slots = try allocator.alloc(reference.Slot, capacity);
        for (slots) |*slot| slot.* = .{ .id = 0, .pos = free, .delay = 0 };
        const memory = try allocator.alignedAlloc(reference.Entry, .fromByteUnits(64), capacity + 4);
        self.* = .{
            .slots = slots,
            .entries_memory = memory,
            .index = .{ .slots = slots },
            .heap = reference.TimerHeap.init(memory[pad .. pad + capacity]),
        };
    }

    pub fn deinit(self: *HeapEngine, allocator: std.mem.Allocator) void {
        allocator.free(self.slots);
        allocator.free(self.entries_memory);
    }

    const free = std.math.maxInt(u32);

    fn is_free(slot: *const reference.Slot) bool {
        return slot.pos == free;
    }

    pub fn schedule(self: *HeapEngine, now: Ticks, delay_ms: u32) u32 {
        const id = engine.alloc_id(reference.Slot, self.slots, &self.next_id, is_free);
        self.slots[id & (self.slots.len - 1)].delay = delay_ms;
        self.seq +%= 1;
        self.heap.push(&self.index, .{ .deadline = now + @as(Ticks, delay_ms) * engine.ticks_per_ms, .seq = self.seq, .id = id });
        return id;
    }

    pub fn cancel(self: *HeapEngine, id: u32) void {
        const slot = &self.slots[id & (self.slots.len - 1)];
        std.debug.assert(slot.id == id and slot.pos != free);
        _ = self.heap.remove_at(&self.index, slot.pos);
        slot.pos = free;
    }

    pub fn collect(self: *HeapEngine, now: Ticks, out: []u32) u32 {
        var count: u32 = 0;
        while (count < out.len) {
            const top = self.heap.peek() orelse break;
            if (top.deadline > now) break;
            _ = self.heap.pop(&self.index);
            self.slots[top.id & (self.slots.len - 1)].pos = free;
            out[count] = top.id;
            count += 1;
        }
        return count;
    }

    pub fn next_deadline(self: *HeapEngine, now: Ticks) ?Ticks {
        _ = now;
        return if (self.heap.peek()) |top| top.deadline else null;
    }

    pub fn len(self: *const HeapEngine) u32 {
        return self.heap.len;
    }
};
