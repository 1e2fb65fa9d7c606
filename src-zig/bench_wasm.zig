//! One benchmarked timer engine as a WebAssembly module, for `bench/engines.mjs`:
//! `zig build bench-wasm` builds one module per engine into zig-out/bench/ (the engine is
//! chosen at compile time, so no module pays for dispatch). The exports are the
//! smallest surface a host would call per timer: schedule, cancel, advance, collect.

const std = @import("std");
const options = @import("bench_options");
const engine = @import("bench/engine.zig");
const Ticks = engine.Ticks;

const Engine = switch (options.engine) {
    .heap => @import("bench/heap_engine.zig").HeapEngine,
    .wheel => @import("bench/wheel_engine.zig").WheelEngine(.{}, "wheel (core)"),
    .pairing => @import("bench/pairing_engine.zig").PairingEngine,
    .durations => @import("bench/duration_engine.zig").DurationEngine,
};

pub const panic = std.debug.no_panic;

var the_engine: Engine = undefined;
var now: Ticks = 0;
var batch: [512]u32 = undefined;

/// Creates the engine with room for `live` timers; returns its capacity in slots.
export fn be_init(live: u32) u32 {
    const capacity = engine.capacity_for(live);
    the_engine.init(std.heap.wasm_allocator, capacity) catch return 0;
    return capacity;
}

export fn be_bytes_per_slot() f64 {
    return Engine.bytes_per_slot;
}

export fn be_schedule(delay_ms: u32) u32 {
    return the_engine.schedule(now, delay_ms);
}

export fn be_cancel(id: u32) void {
    the_engine.cancel(id);
}

export fn be_advance(ms: u32) void {
    now += @as(Ticks, ms) * engine.ticks_per_ms;
}

/// Pops up to 512 timers due now into the batch; returns how many.
export fn be_collect() u32 {
    return the_engine.collect(now, &batch);
}

/// The next deadline in ticks (as f64), or +inf: what the host reads after every turn.
export fn be_next_deadline() f64 {
    const deadline = the_engine.next_deadline(now) orelse return std.math.inf(f64);
    return @floatFromInt(deadline);
}

export fn be_batch() u32 {
    return @intCast(@intFromPtr(&batch));
}

export fn be_len() u32 {
    return the_engine.len();
}
