//! Benchmark engine "wheel": the core's engine (`timer_wheel.zig` over the handle
//! table's 28-byte records), driven exactly as loop.zig drives it.

const std = @import("std");
const engine = @import("engine.zig");
const Ticks = engine.Ticks;
const handle_table = @import("../handle_table.zig");
const timer_wheel = @import("../timer_wheel.zig");
const State = handle_table.State;

pub fn WheelEngine(comptime config: timer_wheel.Config, comptime label: []const u8) type {
    return struct {
        const Self = @This();
        const Wheel = timer_wheel.TimerWheelType(config);
        pub const name = label;
        /// The record and its occupancy bit.
        pub const bytes_per_slot = @sizeOf(handle_table.Record) + 1.0 / 8.0;

        memory: []align(8) u8,
        records: []handle_table.Record,
        table: handle_table.HandleTable,
        wheel: *Wheel,
        seq: u32 = 0,

        pub fn init(self: *Self, allocator: std.mem.Allocator, capacity: u32) !void {
            const memory = try allocator.alignedAlloc(u8, .fromByteUnits(8), handle_table.storage_bytes(capacity));
            const storage = handle_table.storage_at(memory.ptr, capacity);
            const wheel = try allocator.create(Wheel);
            self.* = .{ .memory = memory, .records = storage.records, .table = handle_table.HandleTable.init(storage), .wheel = wheel };
            wheel.init(storage.records);
        }

        pub fn deinit(self: *Self, allocator: std.mem.Allocator) void {
            allocator.destroy(self.wheel);
            allocator.free(self.memory);
        }

        pub fn schedule(self: *Self, now: Ticks, delay_ms: u32) u32 {
            const slot = self.table.alloc_slot(State.timer_due, .{ .ms = @intCast(delay_ms), .repeating = false });
            const record = &self.records[slot];
            record.deadline = now + @as(Ticks, delay_ms) * engine.ticks_per_ms;
            record.seq = self.seq;
            self.seq +%= 1;
            self.wheel.insert(slot);
            return record.id;
        }

        pub fn cancel(self: *Self, id: u32) void {
            const record = self.table.get(id).?;
            const slot = self.table.slot_of(record);
            self.wheel.remove(slot);
            self.table.free_slot(slot);
        }

        pub fn collect(self: *Self, now: Ticks, out: []u32) u32 {
            var count: u32 = 0;
            while (count < out.len) {
                const slot = self.wheel.first(now) orelse break;
                const id = self.records[slot].id;
                self.wheel.remove(slot);
                self.table.free(id);
                out[count] = id;
                count += 1;
            }
            return count;
        }

        pub fn next_deadline(self: *Self, now: Ticks) ?Ticks {
            const slot = self.wheel.peek(now) orelse return null;
            return self.records[slot].deadline;
        }

        pub fn len(self: *const Self) u32 {
            return self.wheel.len();
        }
    };
}
