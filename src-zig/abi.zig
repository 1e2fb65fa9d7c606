//! The ABI: every export of zigloop.wasm lives here, and only here.
//!
//! Conventions at the boundary:
//! - Only i32, u32 and f64 cross it. Results that can fail are i32: a negative
//!   `Status` code, or zero / a non-negative payload (an id, a count).
//! - Batches ("every timer due now") are written into fixed buffers in linear
//!   memory (`zl_batch_ptr`) and returned as a count, so one call replaces many.
//! - Times are f64 microseconds (integers up to 2^53 are exact, so nothing rounds on
//!   the way across; see time.zig); delays are whole milliseconds.
//! - The module holds exactly one loop; every host loop instantiates its own module.
//! - Memory grows only inside zl_init, zl_timer_schedule, zl_immediate_push,
//!   zl_task_push and zl_microtask_push_batch; the host refreshes its views after them.
//!
//! `zig build bindings` reflects over the `pub` declarations of this file and
//! generates `src-ts/core/abi.generated.ts` (constants, the export signatures and
//! `ABI_CHECKSUM`); the host compares `zl_abi_checksum()` with it at load time.

const std = @import("std");
const builtin = @import("builtin");
const status_mod = @import("status.zig");
const Status = status_mod.Status;
const Error = status_mod.Error;
const loop_mod = @import("loop.zig");
const Loop = loop_mod.Loop;
const arena_mod = @import("arena.zig");
const histogram_mod = @import("histogram.zig");

/// The shipped module is ReleaseFast: the core's own safety checks are compiled
/// out (the unit and fuzz tests run with them, in ReleaseSafe), and `zl_verify`
/// checks every invariant on demand. A trap (an explicit `@trap`, such as
/// `zl_debug_trap`, or a wasm-level fault) reaches the host as a
/// WebAssembly.RuntimeError, which it turns into a `CoreTrapError` that marks only
/// that loop unusable. Panics lower to a bare trap: no message strings or
/// formatting code are linked in.
pub const panic = std.debug.no_panic;

/// Bump when an export's meaning changes; the generated checksum also covers it.
pub const abi_version: u32 = 4;

pub const Batch = loop_mod.Batch;
pub const Stat = loop_mod.Stat;
pub const Life = loop_mod.Life;
pub const HistogramWhich = loop_mod.Which;
pub const HistogramField = loop_mod.HistogramField;
pub const batch_capacity: u32 = loop_mod.batch_capacity;
pub const timers_max_limit: u32 = loop_mod.timers_max_limit;
pub const queue_max_limit: u32 = loop_mod.queue_max_limit;
pub const ring_capacity_min: u32 = loop_mod.ring_capacity_min;
pub const ring_capacity_max: u32 = loop_mod.ring_capacity_max;
pub const delay_ms_max: u32 = @import("time.zig").delay_ms_max;
/// The latest loop time (µs) the host may set: deadlines stay exact up to
/// `ticks_max` (2^53 µs), and the longest delay must still fit below it.
pub const time_us_limit: u64 = @import("time.zig").ticks_max - @as(u64, delay_ms_max) * @import("time.zig").ticks_per_ms;

/// u32 word offsets of the shared microtask ring state (`zl_microtask_ring`).
pub const RingWord = enum(u32) {
    head = @offsetOf(@import("microtask_ring.zig").Shared, "head") / 4,
    tail = @offsetOf(@import("microtask_ring.zig").Shared, "tail") / 4,
    overflow_len = @offsetOf(@import("microtask_ring.zig").Shared, "overflow_len") / 4,
    mask = @offsetOf(@import("microtask_ring.zig").Shared, "mask") / 4,
    slots = @offsetOf(@import("microtask_ring.zig").Shared, "slots") / 4,
};

/// u32 words of the shared microtask ring state (the host's view of it spans exactly these).
pub const ring_words: u32 = @sizeOf(@import("microtask_ring.zig").Shared) / 4;

/// What `zl_verify` returns: 0, or the first structure whose invariant failed.
pub const Invariant = enum(i32) {
    ok = 0,
    loop = 1,
    handle_table = 2,
    /// The timer engine (`timer_wheel.zig`; the name predates it and is kept for the ABI).
    timer_heap = 3,
    queue = 4,
    microtask_ring = 5,
    chunk_pool = 6,
    histogram = 7,
    arena = 8,
};

/// Every constant the host depends on, as one string. Its FNV-1a hash is the ABI checksum.
pub const constants_text: []const u8 = blk: {
    @setEvalBranchQuota(100_000);
    var text: []const u8 = std.fmt.comptimePrint("abi_version={d};batch_capacity={d};time_us_limit={d};ring_words={d};", .{ abi_version, batch_capacity, time_us_limit, ring_words });
    for (.{ Status, Batch, Stat, Life, HistogramWhich, HistogramField, Invariant, RingWord }) |E| {
        const info = @typeInfo(E).@"enum";
        for (info.field_names, info.field_values) |name, value| {
            text = text ++ @typeName(E) ++ "." ++ name ++ "=" ++ std.fmt.comptimePrint("{d}", .{value}) ++ ";";
        }
    }
    break :blk text;
};

pub const abi_checksum: u32 = blk: {
    @setEvalBranchQuota(100_000);
    break :blk std.hash.Fnv1a_32.hash(constants_text);
};

var the_loop: Loop = undefined;
var initialized: bool = false;

fn code(result: Error!void) i32 {
    result catch |err| return status_mod.from_error(err).code();
    return 0;
}

fn code_u32(result: Error!u32) i32 {
    const value = result catch |err| return status_mod.from_error(err).code();
    std.debug.assert(value <= std.math.maxInt(i32));
    return @intCast(value);
}

fn ready() ?*Loop {
    return if (initialized) &the_loop else null;
}

// ---- memory backing ------------------------------------------------------------

const is_wasm = builtin.cpu.arch.isWasm();
const wasm_page = 65536;

extern const __heap_base: u8;

fn wasm_grow(backing: *arena_mod.Backing, new_end: usize) bool {
    if (!is_wasm) unreachable;
    const end = @wasmMemorySize(0) * wasm_page;
    const pages = (new_end - end + wasm_page - 1) / wasm_page;
    if (@wasmMemoryGrow(0, pages) < 0) return false;
    backing.end = @wasmMemorySize(0) * wasm_page;
    return true;
}

fn native_grow(backing: *arena_mod.Backing, new_end: usize) bool {
    if (new_end > backing.limit) return false;
    backing.end = new_end;
    return true;
}

fn make_backing() ?arena_mod.Backing {
    if (is_wasm) {
        const end = @wasmMemorySize(0) * wasm_page;
        return .{ .base = @intFromPtr(&__heap_base), .end = end, .limit = std.math.maxInt(u32), .grow_fn = wasm_grow };
    }
    // Native builds (unit tests and the bindings generator) use a private region.
    const memory = std.heap.page_allocator.alloc(u8, 256 << 20) catch return null;
    const base = @intFromPtr(memory.ptr);
    return .{ .base = base, .end = base, .limit = base + memory.len, .grow_fn = native_grow };
}

// ---- exports ---------------------------------------------------------------------

pub export fn zl_abi_version() u32 {
    return abi_version;
}

pub export fn zl_abi_checksum() u32 {
    return abi_checksum;
}

/// Creates the loop. Capacities: live timers+immediates, queued tasks, queued
/// microtasks, and the microtask ring's slots (a power of two).
pub export fn zl_init(timers_max: u32, tasks_max: u32, microtasks_max: u32, ring_capacity: u32) i32 {
    if (initialized) return Status.not_initialized.code();
    const backing = make_backing() orelse return Status.out_of_memory.code();
    the_loop.init(backing, .{
        .timers_max = timers_max,
        .tasks_max = tasks_max,
        .microtasks_max = microtasks_max,
        .ring_capacity = ring_capacity,
    }) catch |err| return status_mod.from_error(err).code();
    initialized = true;
    return 0;
}

/// Address of a batch buffer (`Batch`), `batch_capacity` u32 entries. Never moves.
pub export fn zl_batch_ptr(batch: u32) u32 {
    const loop = ready() orelse return 0;
    const which = std.enums.fromInt(Batch, batch) orelse return 0;
    return @intCast(@intFromPtr(loop.batch_ptr(which)));
}

pub export fn zl_set_now(now_us: f64) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.set_now(now_us));
}

/// Arms a timer (repeating != 0: an interval) and returns its id, or a status.
pub export fn zl_timer_schedule(delay_ms: u32, repeating: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.timer_schedule(delay_ms, repeating != 0));
}

pub export fn zl_timer_cancel(id: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.timer_cancel(id));
}

pub export fn zl_timer_refresh(id: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.timer_refresh(id));
}

/// Like zl_timer_schedule, but the delay counts from `start_us` (a fresh clock reading).
pub export fn zl_timer_schedule_at(start_us: f64, delay_ms: u32, repeating: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.timer_schedule_at(start_us, delay_ms, repeating != 0));
}

/// After an interval's callback: a new start sequence for its next beat, and its delay.
/// `start_us` < 0 keeps the beat drift-free (counted from when it was due); otherwise
/// the next beat counts from `start_us` (Node re-inserts an interval from the time it ran).
pub export fn zl_timer_rearmed(id: u32, delay_ms: u32, start_us: f64) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.timer_rearmed(id, delay_ms, start_us));
}

/// The earliest armed deadline (µs), or +Infinity.
pub export fn zl_timers_next_deadline() f64 {
    const loop = ready() orelse return std.math.inf(f64);
    return loop.next_deadline_us();
}

/// The latest armed deadline (µs), or -Infinity. O(n): for test harnesses (runToLast).
pub export fn zl_timers_last_deadline() f64 {
    const loop = ready() orelse return -std.math.inf(f64);
    return loop.last_deadline_us();
}

pub export fn zl_timers_collect(max: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.timers_collect(max));
}

pub export fn zl_immediate_push() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.immediate_push());
}

pub export fn zl_immediate_cancel(id: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.immediate_cancel(id));
}

pub export fn zl_immediates_begin() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.immediates_begin());
}

pub export fn zl_immediates_collect(max: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.immediates_collect(max));
}

/// Queues a task. `force != 0`: the host's own task, accepted past capacity and while stopping.
pub export fn zl_task_push(slot: u32, force: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.task_push(slot, force != 0));
}

pub export fn zl_tasks_begin() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.tasks_begin());
}

pub export fn zl_tasks_collect(max: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.tasks_collect(max));
}

/// The ring's slow path: appends the first `count` values of the microtask input batch
/// (`Batch.microtasks`) to the overflow, in order. The host checked `microtasks_max`
/// when it accepted each job. Returns how many were appended: fewer than `count` only
/// when memory ran out (the rest stay the host's), or a status (closed, or memory ran out
/// before the first).
pub export fn zl_microtask_push_batch(count: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.microtask_push_batch(count));
}

/// Address of the shared ring state: u32 head, tail, overflow_len, mask, slots (address).
/// Fixed for the loop's lifetime. See microtask_ring.zig for the host's protocol.
pub export fn zl_microtask_ring() u32 {
    const loop = ready() orelse return 0;
    return @intCast(@intFromPtr(loop.microtask_shared()));
}

/// Moves the oldest overflow jobs into the ring when it is empty; returns how many.
pub export fn zl_microtasks_refill() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.microtasks_refill());
}

/// Starts a turn at `now_us` and collects up to `max` due timers: returns the count
/// (the timer batch is filled) or a status. Equals zl_set_now + zl_turn_begin +
/// zl_timers_collect.
pub export fn zl_turn_start(now_us: f64, max: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.turn_start(now_us, max));
}

pub export fn zl_turn_begin() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.turn_begin());
}

pub export fn zl_turn_end() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.turn_end());
}

/// Begins a graceful shutdown; returns the number of timers cancelled, or a status.
pub export fn zl_shutdown_begin() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code_u32(loop.shutdown_begin());
}

pub export fn zl_close() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    loop.close();
    return 0;
}

/// Makes a closed module like a freshly instantiated one, so the host can give it to its
/// next loop instead of instantiating again (which costs ~90 µs, most of a loop's
/// creation): every byte above the static data becomes zero, as it was at instantiation,
/// and zl_init may be called again. Memory keeps its size (Wasm memory cannot shrink).
/// Refused (`Status.illegal_transition`) until zl_close.
pub export fn zl_reset() i32 {
    if (initialized) {
        if (the_loop.life != .closed) return Status.illegal_transition.code();
        initialized = false;
    }
    if (is_wasm) {
        const base = @intFromPtr(&__heap_base);
        const end = @wasmMemorySize(0) * wasm_page;
        @memset(@as([*]u8, @ptrFromInt(base))[0 .. end - base], 0);
    }
    return 0;
}

/// A `Stat` value (counts, depths, peaks, lifecycle, now). NaN for an unknown stat.
pub export fn zl_stat(which: u32) f64 {
    const loop = ready() orelse return std.math.nan(f64);
    const stat = std.enums.fromInt(Stat, which) orelse return std.math.nan(f64);
    return loop.stat(stat);
}

pub export fn zl_metrics_enable(on: u32) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    loop.enable_metrics(on != 0);
    return 0;
}

/// Moves the clock metrics measure against; unlike zl_set_now it is allowed inside a turn.
pub export fn zl_metrics_clock(now_us: f64) i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    return code(loop.set_metrics_now(now_us));
}

pub export fn zl_metrics_reset() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    loop.metrics_reset();
    return 0;
}

/// A histogram summary field; min, max and mean in milliseconds. NaN for bad arguments.
pub export fn zl_histogram(which: u32, field: u32) f64 {
    const loop = ready() orelse return std.math.nan(f64);
    const w = std.enums.fromInt(HistogramWhich, which) orelse return std.math.nan(f64);
    const f = std.enums.fromInt(HistogramField, field) orelse return std.math.nan(f64);
    const histogram = loop.histogram(w) orelse return 0; // never enabled: empty
    const us_per_ms = 1000.0;
    return switch (f) {
        .count => @floatFromInt(histogram.count),
        .min => if (histogram.count == 0) 0 else @as(f64, @floatFromInt(histogram.min)) / us_per_ms,
        .max => @as(f64, @floatFromInt(histogram.max)) / us_per_ms,
        .mean => histogram.mean() / us_per_ms,
    };
}

/// The value (ms) at percentile `p` (0..100) of a histogram.
pub export fn zl_histogram_percentile(which: u32, p: f64) f64 {
    const loop = ready() orelse return std.math.nan(f64);
    const w = std.enums.fromInt(HistogramWhich, which) orelse return std.math.nan(f64);
    if (std.math.isNan(p)) return std.math.nan(f64);
    const histogram = loop.histogram(w) orelse return 0;
    return @as(f64, @floatFromInt(histogram.percentile(p))) / 1000.0;
}

/// Checks every invariant of every structure; returns an `Invariant` code.
pub export fn zl_verify() i32 {
    const loop = ready() orelse return Status.not_initialized.code();
    loop.verify() catch |err| {
        const invariant: Invariant = switch (err) {
            error.LoopCorrupt => .loop,
            error.HandleTableCorrupt => .handle_table,
            error.TimerWheelCorrupt => .timer_heap,
            error.QueueCorrupt => .queue,
            error.MicrotaskRingCorrupt => .microtask_ring,
            error.ChunkPoolCorrupt => .chunk_pool,
            error.HistogramCorrupt => .histogram,
            error.ArenaCorrupt => .arena,
        };
        return @intFromEnum(invariant);
    };
    return 0;
}

/// Traps on purpose. The host's fault tests use it to show that a trap marks
/// that loop unusable with a clear error while other loops keep running.
pub export fn zl_debug_trap() void {
    @trap();
}

test "the checksum covers every constant" {
    try std.testing.expect(constants_text.len > 100);
    try std.testing.expect(std.mem.indexOf(u8, constants_text, "status.Status.timers_full=-1;") != null);
}

test "exports work natively end to end" {
    try std.testing.expectEqual(@as(i32, 0), zl_init(1000, 1000, 1000, 64));
    try std.testing.expectEqual(Status.not_initialized.code(), zl_init(1000, 1000, 1000, 64));
    const id = zl_timer_schedule(5, 0);
    try std.testing.expect(id > 0);
    try std.testing.expectEqual(@as(f64, 5000), zl_timers_next_deadline());
    try std.testing.expectEqual(@as(i32, 0), zl_set_now(5000));
    try std.testing.expectEqual(@as(i32, 0), zl_turn_begin());
    try std.testing.expectEqual(@as(i32, 1), zl_timers_collect(16));
    const batch: [*]u32 = @ptrFromInt(zl_batch_ptr(@intFromEnum(Batch.timers)));
    try std.testing.expectEqual(@as(u32, @intCast(id)), batch[0]);
    try std.testing.expectEqual(Status.reentrant.code(), zl_turn_begin());
    try std.testing.expectEqual(@as(i32, 0), zl_turn_end());
    try std.testing.expectEqual(Status.stale_handle.code(), zl_timer_cancel(@intCast(id)));
    try std.testing.expectEqual(@as(i32, 0), zl_verify());
}
