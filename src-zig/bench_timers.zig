//! Native benchmark of timer engines: `zig build bench` (ReleaseFast, this machine).
//!
//!   zig build bench                         every workload at N = 1e3, 1e4, 1e5, 1e6
//!   zig build bench -- quick                fewer, shorter rounds
//!   zig build bench -- tune                 wheel variants (bucket span, buckets per level, inbox)
//!   zig build bench -- 1e6 fire cancel      only those sizes / workloads
//!
//! Every engine (`src-zig/bench/*_engine.zig`) issues its own ids with the core's scheme
//! and keeps exact (deadline, start sequence) order. Before timing, all engines run one
//! seeded mixed stream and must pop the same ids in the same order. Then, per workload
//! and N, every engine is filled to N live timers, warmed up for N operations, and
//! timed in rounds that rotate which engine goes first, on the thread's CPU clock (the
//! machine is shared: time spent descheduled is not counted); the table shows the median ns
//! per operation and, per round, the speed-up over the 4-ary heap (median, range).
//!
//! Workloads (one op; N stays N throughout):
//!   hold          pop one due timer and schedule one, in 1 ms turns; delays 1..2N/64 ms
//!                 (~64 due per turn: the core suite's holdTurns)
//!   hold_shared   the same with 4 durations (0.5, 0.75, 1.25, 1.5 x N/64 ms), started
//!                 spread over the past as in the steady state (~16 timers per deadline)
//!   strict        time jumps to the next deadline; one pop + one schedule; delays 1..1e9 ms
//!   cancel        schedule one far timer (1e7..2e7 ms) and cancel a random live one
//!   cancel_shared the same with 4 far durations
//!   fire          N far timers pending; B = min(4096, N/2) timers of 1..8 ms scheduled,
//!                 time moves 9 ms, all B collected, then the next deadline read (as the
//!                 host does after every turn): schedule + fire of one timer
//!   fire_shared   the same over 4 far durations
//!   pair          schedule one 1000 ms timer and cancel it, N far timers pending

const std = @import("std");
const engine = @import("bench/engine.zig");
const Ticks = engine.Ticks;
const timer_wheel = @import("timer_wheel.zig");
const HeapEngine = @import("bench/heap_engine.zig").HeapEngine;
const WheelEngine = @import("bench/wheel_engine.zig").WheelEngine;
const PairingEngine = @import("bench/pairing_engine.zig").PairingEngine;
const DurationEngine = @import("bench/duration_engine.zig").DurationEngine;

const Workload = enum { hold, hold_shared, strict, cancel, cancel_shared, fire, fire_shared, pair };

const main_engines = .{ HeapEngine, WheelEngine(.{}, "wheel (core)"), PairingEngine, DurationEngine };
const tune_engines = .{
    HeapEngine,
    WheelEngine(.{}, "wheel 2^10 x256 inbox 512"),
    WheelEngine(.{ .tick_shift = 8 }, "wheel 2^8 x256"),
    WheelEngine(.{ .tick_shift = 12 }, "wheel 2^12 x256"),
    WheelEngine(.{ .slot_bits = 6 }, "wheel 2^10 x64"),
    WheelEngine(.{ .inbox_capacity = 64 }, "wheel inbox 64"),
    WheelEngine(.{ .staging_capacity = 1 }, "wheel, no staging"),
};

const far_min_ms: u32 = 10_000_000;
const far_span_ms: u32 = 10_000_000;
const far_shared = [_]u32{ 10_000_000, 12_000_000, 15_000_000, 20_000_000 };
const probe_max_ms: u32 = 8;

const Settings = struct {
    rounds: u32,
    ops: u32,
    sizes: []const u32,
    workloads: []const Workload,
};

pub fn main(init: std.process.Init) !void {
    const io = init.io;
    var buffer: [16 * 1024]u8 = undefined;
    var stdout_writer = std.Io.File.stdout().writer(io, &buffer);
    const out = &stdout_writer.interface;
    const allocator = std.heap.page_allocator;

    var sizes_buffer: [8]u32 = undefined;
    var workloads_buffer: [16]Workload = undefined;
    var sizes: std.ArrayListUnmanaged(u32) = .initBuffer(&sizes_buffer);
    var workloads: std.ArrayListUnmanaged(Workload) = .initBuffer(&workloads_buffer);
    var quick = false;
    var tune = false;
    var args = try init.minimal.args.iterateAllocator(allocator);
    _ = args.next();
    while (args.next()) |arg| {
        if (std.mem.eql(u8, arg, "quick")) quick = true else if (std.mem.eql(u8, arg, "tune")) tune = true else if (std.meta.stringToEnum(Workload, arg)) |w| workloads.appendAssumeCapacity(w) else {
            const value = try std.fmt.parseFloat(f64, arg);
            sizes.appendAssumeCapacity(@intFromFloat(value));
        }
    }
    if (sizes.items.len == 0) sizes.appendSliceAssumeCapacity(&.{ 1_000, 10_000, 100_000, 1_000_000 });
    if (workloads.items.len == 0) workloads.appendSliceAssumeCapacity(std.enums.values(Workload));
    const settings: Settings = .{ .rounds = if (quick) 3 else 7, .ops = if (quick) 50_000 else 200_000, .sizes = sizes.items, .workloads = workloads.items };

    if (tune) try run_all(tune_engines, allocator, io, out, settings) else try run_all(main_engines, allocator, io, out, settings);
    try out.flush();
}

fn run_all(comptime engines: anytype, allocator: std.mem.Allocator, io: std.Io, out: *std.Io.Writer, settings: Settings) !void {
    try cross_check(engines, allocator);
    try out.writeAll("Cross-check passed: every engine popped the same 200,000-operation stream in the same order.\n\n");
    try out.flush();
    for (settings.workloads) |workload| {
        try out.print("### {s}\n\n| N |", .{@tagName(workload)});
        inline for (engines) |E| try out.print(" {s} |", .{E.name});
        try out.writeAll("\n|---:|");
        inline for (engines) |_| try out.writeAll("---|");
        try out.writeAll("\n");
        for (settings.sizes) |n| {
            try out.print("| {d} |", .{n});
            try compare(engines, allocator, io, out, workload, n, settings);
            try out.writeAll("\n");
            try out.flush();
        }
        try out.writeAll("\n");
    }
    try memory_table(engines, out, settings.sizes);
}

fn memory_table(comptime engines: anytype, out: *std.Io.Writer, sizes: []const u32) !void {
    try out.writeAll("### bytes per live timer (per-slot memory x capacity / N)\n\n| N |");
    inline for (engines) |E| try out.print(" {s} |", .{E.name});
    try out.writeAll("\n|---:|");
    inline for (engines) |_| try out.writeAll("---|");
    try out.writeAll("\n");
    for (sizes) |n| {
        try out.print("| {d} |", .{n});
        const capacity = engine.capacity_for(n);
        inline for (engines) |E| {
            const per_slot: f64 = E.bytes_per_slot;
            try out.print(" {d:.1} |", .{per_slot * @as(f64, @floatFromInt(capacity)) / @as(f64, @floatFromInt(n))});
        }
        try out.writeAll("\n");
    }
    try out.writeAll("\n");
}

/// One (workload, N): every engine filled and warmed, then timed in rotated rounds.
fn compare(comptime engines: anytype, allocator: std.mem.Allocator, io: std.Io, out: *std.Io.Writer, workload: Workload, n: u32, settings: Settings) !void {
    const count = engines.len;
    var runners: [count]*anyopaque = undefined;
    inline for (engines, 0..) |E, i| {
        const runner = try allocator.create(Runner(E));
        try runner.setup(allocator, workload, n);
        runner.run(workload, n); // warm up: reach the steady state
        runners[i] = runner;
    }
    var samples: [count][16]f64 = undefined;
    for (0..settings.rounds) |round| {
        inline for (engines, 0..) |E, k| {
            const i = (k + round) % count;
            _ = E;
            inline for (engines, 0..) |F, j| {
                if (j == i) {
                    const runner: *Runner(F) = @ptrCast(@alignCast(runners[j]));
                    const start = std.Io.Clock.cpu_thread.now(io);
                    runner.run(workload, settings.ops);
                    const elapsed = start.durationTo(std.Io.Clock.cpu_thread.now(io));
                    samples[j][round] = @as(f64, @floatFromInt(elapsed.nanoseconds)) / @as(f64, @floatFromInt(settings.ops));
                }
            }
        }
    }
    inline for (engines, 0..) |E, j| {
        const runner: *Runner(E) = @ptrCast(@alignCast(runners[j]));
        std.debug.assert(runner.e.len() == runner.expected_len);
        const ns = median(samples[j][0..settings.rounds]);
        if (j == 0) {
            try out.print(" {d:.1} ns |", .{ns});
        } else {
            var ratios: [16]f64 = undefined;
            for (0..settings.rounds) |r| ratios[r] = samples[0][r] / samples[j][r];
            const range = ratios[0..settings.rounds];
            try out.print(" {d:.1} ns ({d:.2}x, {d:.2}–{d:.2}) |", .{ ns, median(range), std.mem.min(f64, range), std.mem.max(f64, range) });
        }
        runner.teardown(allocator);
        allocator.destroy(runner);
    }
}

fn median(values: []const f64) f64 {
    var sorted: [16]f64 = undefined;
    @memcpy(sorted[0..values.len], values);
    std.mem.sort(f64, sorted[0..values.len], {}, std.sort.asc(f64));
    return sorted[values.len / 2];
}

/// One engine plus the workload's state, with the same seeded streams for every engine.
fn Runner(comptime E: type) type {
    return struct {
        const Self = @This();
        e: E,
        live: []u32,
        expected_len: u32 = 0,
        now: Ticks = 0,
        prng: std.Random.DefaultPrng,
        n: u32 = 0,
        batch: [512]u32 = undefined,
        checksum: u64 = 0,

        fn setup(r: *Self, allocator: std.mem.Allocator, workload: Workload, n: u32) !void {
            r.* = .{ .e = undefined, .live = try allocator.alloc(u32, n), .prng = .init(0x5eed ^ n), .n = n };
            try r.e.init(allocator, engine.capacity_for(n + probes_for(n)));
            r.expected_len = n;
            if (workload == .hold_shared) return r.setup_spread(allocator);
            for (r.live) |*id| id.* = r.e.schedule(r.now, r.delay(workload));
        }

        /// The steady state of `hold_shared`: each timer was started at a random time
        /// within its duration before now (started in time order), so about 16 timers
        /// share each deadline instead of N/4.
        fn setup_spread(r: *Self, allocator: std.mem.Allocator) !void {
            const Start = struct { at: Ticks, delay: u32 };
            const starts = try allocator.alloc(Start, r.n);
            defer allocator.free(starts);
            const span_ms = @max(1, (r.n / 64) * 6 / 4);
            for (starts) |*start| {
                const delay_ms = r.delay(.hold_shared);
                const ago_ms = r.random().uintLessThan(u32, delay_ms);
                start.* = .{ .at = @as(Ticks, span_ms - ago_ms) * engine.ticks_per_ms, .delay = delay_ms };
            }
            std.mem.sort(Start, starts, {}, struct {
                fn less(_: void, a: Start, b: Start) bool {
                    return a.at < b.at;
                }
            }.less);
            for (starts, r.live) |start, *id| id.* = r.e.schedule(start.at, start.delay);
            r.now = @as(Ticks, span_ms) * engine.ticks_per_ms;
        }

        fn teardown(r: *Self, allocator: std.mem.Allocator) void {
            r.e.deinit(allocator);
            allocator.free(r.live);
        }

        fn random(r: *Self) std.Random {
            return r.prng.random();
        }

        fn delay(r: *Self, workload: Workload) u32 {
            const rand = r.random();
            const hold_max = @max(1, 2 * r.n / 64 - 1);
            return switch (workload) {
                .hold => rand.intRangeAtMost(u32, 1, hold_max),
                .hold_shared => @max(1, (r.n / 64) * ([_]u32{ 2, 3, 5, 6 })[rand.uintLessThan(u32, 4)] / 4),
                .strict => rand.intRangeAtMost(u32, 1, 1_000_000_000),
                .cancel, .fire, .pair => far_min_ms + rand.uintLessThan(u32, far_span_ms),
                .cancel_shared, .fire_shared => far_shared[rand.uintLessThan(u32, far_shared.len)],
            };
        }

        fn run(r: *Self, workload: Workload, ops: u32) void {
            switch (workload) {
                .hold, .hold_shared => r.run_turns(workload, ops),
                .strict => r.run_strict(ops),
                .cancel, .cancel_shared => r.run_cancel(workload, ops),
                .fire, .fire_shared => r.run_fire(ops),
                .pair => r.run_pair(ops),
            }
        }

        fn run_turns(r: *Self, workload: Workload, ops: u32) void {
            var done: u32 = 0;
            while (done < ops) {
                r.now += engine.ticks_per_ms;
                var popped: u32 = 0;
                while (true) {
                    const count = r.e.collect(r.now, &r.batch);
                    for (r.batch[0..count]) |id| r.checksum +%= id;
                    popped += count;
                    if (count < r.batch.len) break;
                }
                for (0..popped) |_| _ = r.e.schedule(r.now, r.delay(workload));
                done += @max(popped, 1);
            }
        }

        fn run_strict(r: *Self, ops: u32) void {
            var done: u32 = 0;
            while (done < ops) {
                r.now = r.e.next_deadline(r.now).?;
                const count = r.e.collect(r.now, &r.batch);
                for (r.batch[0..count]) |id| r.checksum +%= id;
                for (0..count) |_| _ = r.e.schedule(r.now, r.delay(.strict));
                done += count;
            }
        }

        fn run_cancel(r: *Self, workload: Workload, ops: u32) void {
            for (0..ops) |_| {
                const fresh = r.e.schedule(r.now, r.delay(workload));
                const victim = r.random().uintLessThan(u32, r.n);
                r.e.cancel(r.live[victim]);
                r.live[victim] = fresh;
            }
        }

        fn run_fire(r: *Self, ops: u32) void {
            const block = probes_for(r.n);
            var done: u32 = 0;
            while (done < ops) {
                for (0..block) |_| _ = r.e.schedule(r.now, 1 + r.random().uintLessThan(u32, probe_max_ms));
                r.now += (probe_max_ms + 1) * engine.ticks_per_ms;
                var fired: u32 = 0;
                while (true) {
                    const count = r.e.collect(r.now, &r.batch);
                    for (r.batch[0..count]) |id| r.checksum +%= id;
                    fired += count;
                    if (count < r.batch.len) break;
                }
                std.debug.assert(fired == block);
                _ = r.e.next_deadline(r.now); // as the host does after every turn, to arm its timer
                done += block;
            }
        }

        fn run_pair(r: *Self, ops: u32) void {
            for (0..ops) |_| r.e.cancel(r.e.schedule(r.now, 1000));
        }
    };
}

fn probes_for(n: u32) u32 {
    return @max(1, @min(4096, n / 2));
}

/// Every engine runs one seeded mix of schedule, cancel and advance-and-collect, with
/// frequent equal deadlines; the popped ids must agree exactly.
fn cross_check(comptime engines: anytype, allocator: std.mem.Allocator) !void {
    var streams: [engines.len]std.ArrayListUnmanaged(u32) = @splat(.empty);
    defer for (&streams) |*stream| stream.deinit(allocator);
    inline for (engines, 0..) |E, i| {
        var e: E = undefined;
        try e.init(allocator, 4096);
        defer e.deinit(allocator);
        var prng = std.Random.DefaultPrng.init(0xc0ffee);
        const rand = prng.random();
        var live: std.ArrayListUnmanaged(u32) = .empty;
        defer live.deinit(allocator);
        var now: Ticks = 0;
        var batch: [512]u32 = undefined;
        for (0..200_000) |_| {
            const roll = rand.uintLessThan(u32, 100);
            if (roll < 50 and live.items.len < 2000) {
                const delay_ms = if (rand.boolean()) rand.uintLessThan(u32, 20) else rand.uintLessThan(u32, 100_000);
                try live.append(allocator, e.schedule(now, delay_ms));
            } else if (roll < 70 and live.items.len > 0) {
                e.cancel(live.swapRemove(rand.uintLessThan(usize, live.items.len)));
            } else {
                now += if (rand.uintLessThan(u32, 8) == 0) (if (e.next_deadline(now)) |d| d - @min(d, now) else 0) else rand.uintLessThan(Ticks, 3000);
                const count = e.collect(now, &batch);
                for (batch[0..count]) |id| {
                    try streams[i].append(allocator, id);
                    for (live.items, 0..) |item, k| if (item == id) {
                        _ = live.swapRemove(k);
                        break;
                    };
                }
            }
        }
    }
    for (streams[1..]) |stream| {
        if (!std.mem.eql(u32, stream.items, streams[0].items)) return error.EnginesDisagree;
    }
}
