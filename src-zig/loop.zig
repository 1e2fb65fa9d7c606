//! The loop: lifecycle state machine, the turn and its phases, and the structures
//! they drive, all in linear memory.
//!
//! A turn, as the host runs it:
//!   set_now(t)                  the host read its clock once (outside any turn)
//!   turn_begin()                snapshot: timers started from now on wait for the next turn
//!   timers_collect(n)...        every timer due at t, in (deadline, start) order, in batches;
//!                               intervals are re-armed here, drift-free
//!   tasks_begin(); tasks_collect(n)...            tasks queued before the phase began
//!   immediates_begin(); immediates_collect(n)...  immediates queued before the phase began
//!   turn_end()
//! After every task the host runs a microtask checkpoint: it pops the microtask ring in
//! place (see microtask_ring.zig) and calls `microtasks_refill` only when the ring is
//! empty and the overflow is not.
//!
//! Lifecycle (`Life`), with `in_turn` orthogonal to it:
//!   open --shutdown_begin--> stopping --close--> closed
//!   open --close--> closed;  closed is final; close is idempotent.
//! `stopping` refuses new timers, tasks and immediates (microtasks are still
//! accepted so checkpoints complete), cancels every timer, and still runs the
//! tasks and immediates that were already queued. Illegal transitions return a
//! status; nothing is corrupted by them.
//!
//! Batches: a collected timer or immediate keeps its handle slot (state *_due)
//! until the next collect of its kind or `turn_end`, so the host's mirror slot
//! cannot be reused while the host may still run it. Clearing it meanwhile
//! marks it `due_cancelled`; the host checks its own slot before running.

const std = @import("std");
const assert = std.debug.assert;
const status = @import("status.zig");
const Error = status.Error;
const time = @import("time.zig");
const Ticks = time.Ticks;
const handle_table = @import("handle_table.zig");
const HandleTable = handle_table.HandleTable;
const State = handle_table.State;
const Record = handle_table.Record;
const timer_wheel = @import("timer_wheel.zig");
const TimerWheel = timer_wheel.TimerWheel;
const chunk_pool = @import("chunk_pool.zig");
const ChunkPool = chunk_pool.ChunkPool;
const task_queue = @import("task_queue.zig");
const ChunkedFifo = task_queue.ChunkedFifo;
const Queued = task_queue.Queued;
const microtask_ring = @import("microtask_ring.zig");
const MicrotaskRing = microtask_ring.MicrotaskRing;
const Histogram = @import("histogram.zig").Histogram;
const arena_mod = @import("arena.zig");
const Arena = arena_mod.Arena;
const Backing = arena_mod.Backing;

/// Entries per output batch (timers, tasks, immediates, microtasks each have one).
pub const batch_capacity = 512;

/// Upper bounds for the options (the handle table must stay addressable by
/// 31-bit ids and fit in a 4 GiB memory).
pub const timers_max_limit: u32 = 1 << 25;
pub const queue_max_limit: u32 = 1 << 30;
pub const ring_capacity_min: u32 = 16;
pub const ring_capacity_max: u32 = 1 << 20;

pub const Options = struct {
    /// Live timers, intervals and immediates together.
    timers_max: u32,
    tasks_max: u32,
    microtasks_max: u32,
    /// Microtask ring slots; a power of two. Jobs beyond it use the overflow.
    ring_capacity: u32,

    pub fn validate(options: Options) Error!void {
        if (options.timers_max == 0 or options.timers_max > timers_max_limit) return error.InvalidArgument;
        if (options.tasks_max == 0 or options.tasks_max > queue_max_limit) return error.InvalidArgument;
        if (options.microtasks_max == 0 or options.microtasks_max > queue_max_limit) return error.InvalidArgument;
        if (!std.math.isPowerOfTwo(options.ring_capacity)) return error.InvalidArgument;
        if (options.ring_capacity < ring_capacity_min or options.ring_capacity > ring_capacity_max) return error.InvalidArgument;
    }
};

pub const Life = enum(u32) { open = 0, stopping = 1, closed = 2 };

/// The output buffers the host reads after a collect call.
/// The fixed buffers of `batch_ptr`: three the core fills during a turn, and one the host
/// fills (`microtasks`: overflow jobs for `microtask_push_batch`).
pub const Batch = enum(u32) { timers = 0, tasks = 1, immediates = 2, microtasks = 3 };

/// Numbers the host can read with `stat`. Counters are totals since init or the last
/// `metrics_reset`; depths are current; peaks are maxima since the last reset.
pub const Stat = enum(u32) {
    timers_armed = 0,
    immediates_queued = 1,
    tasks_queued = 2,
    microtasks_queued = 3,
    handles_live = 4,
    handles_capacity = 5,
    chunks_in_use = 6,
    chunks_total = 7,
    arena_bytes = 8,
    timer_block_moves = 9,
    timers_fired = 10,
    tasks_run = 11,
    immediates_run = 12,
    timers_scheduled = 13,
    peak_timers = 14,
    peak_immediates = 15,
    peak_tasks = 16,
    peak_microtasks = 17,
    life = 18,
    in_turn = 19,
    now_us = 20,
};

pub const Which = enum(u32) { task_latency = 0, timer_lateness = 1 };

pub const HistogramField = enum(u32) { count = 0, min = 1, max = 2, mean = 3 };

const Counters = struct {
    timers_fired: u64 = 0,
    tasks_run: u64 = 0,
    immediates_run: u64 = 0,
    timers_scheduled: u64 = 0,
    peak_timers: u32 = 0,
    peak_immediates: u32 = 0,
    peak_tasks: u32 = 0,
    peak_microtasks: u32 = 0,
};

/// The timer block holds only the handle table (records, then its occupancy bitmap):
/// the timer wheel links its lists through the records. It doubles in place
/// (`HandleTable.grow_in_place`).
fn timer_block_bytes(capacity: u32) usize {
    return handle_table.storage_bytes(capacity);
}

pub const Loop = struct {
    arena: Arena,
    options: Options,
    life: Life = .open,
    in_turn: bool = false,
    /// The host's latest time, rounded down (due checks) and up (new deadlines).
    now: Ticks = 0,
    now_ceil: Ticks = 0,
    /// The time latency and lateness are measured against. `set_now` moves it; the host
    /// may also move it inside a turn (`set_metrics_now`) before each collect, so a task
    /// waiting behind a slow one in the same turn is measured when it starts.
    metrics_now: Ticks = 0,
    next_seq: u32 = 0,
    turn_seq_limit: u32 = 0,

    handles: HandleTable,
    timers: TimerWheel,
    immediates_queued: u32 = 0,
    /// Records held only to protect the host's mirror slot (due, or due and cleared).
    /// They do not count against `timers_max`: a timer that re-arms itself from its
    /// own callback fits in a capacity of one.
    due_count: u32 = 0,

    pool: ChunkPool,
    tasks: ChunkedFifo(Queued) = .{},
    immediates: ChunkedFifo(Queued) = .{},
    microtasks: MicrotaskRing,
    tasks_limit: u64 = 0,
    immediates_limit: u64 = 0,
    slab_bytes: usize = 16 * chunk_pool.chunk_bytes,

    out_timers: [batch_capacity]u32 = undefined,
    out_timers_len: u32 = 0,
    out_tasks: [batch_capacity]u32 = undefined,
    out_immediates: [batch_capacity]u32 = undefined,
    out_immediates_len: u32 = 0,
    in_microtasks: [batch_capacity]u32 = undefined,

    metrics_enabled: bool = false,
    /// The histograms are reset the first time metrics are enabled, not at init: 19 KB of
    /// buckets a loop without metrics never touches (so never makes resident).
    histograms_ready: bool = false,
    task_latency: Histogram = undefined,
    timer_lateness: Histogram = undefined,
    counters: Counters = .{},

    /// Initializes `loop` in place (it is large: histograms and batch buffers).
    pub fn init(loop: *Loop, backing: Backing, options: Options) Error!void {
        try options.validate();
        var arena = Arena.init(backing);
        const ring_memory = arena.alloc_fixed(@as(usize, options.ring_capacity) * @sizeOf(u32)) orelse return error.OutOfMemory;
        const ring_slots: [*]u32 = @ptrCast(ring_memory);
        const block = arena.init_timer_block(timer_block_bytes(handle_table.capacity_min)) orelse return error.OutOfMemory;
        loop.* = .{
            .arena = arena,
            .options = options,
            .handles = HandleTable.init(handle_table.storage_at(block, handle_table.capacity_min)),
            .timers = undefined,
            .pool = undefined,
            .microtasks = MicrotaskRing.init(ring_slots[0..options.ring_capacity]),
        };
        loop.timers.init(loop.handles.records);
        loop.pool = ChunkPool.init(.{ .context = loop, .grow = grow_chunks });
    }

    /// Metrics on or off; the histograms come into use the first time they are on.
    pub fn enable_metrics(loop: *Loop, on: bool) void {
        if (on and !loop.histograms_ready) {
            loop.task_latency.reset();
            loop.timer_lateness.reset();
            loop.histograms_ready = true;
        }
        loop.metrics_enabled = on;
    }

    /// Chunk source: a slab from the arena, twice the previous one (64 KiB first).
    fn grow_chunks(context: *anyopaque) ?[]align(chunk_pool.chunk_align) u8 {
        const loop: *Loop = @ptrCast(@alignCast(context));
        const growth = loop.arena.grow_chunks(loop.slab_bytes) orelse return null;
        loop.slab_bytes = @min(loop.slab_bytes * 2, 16 << 20);
        if (growth.timer_block_moved) {
            const block = loop.arena.timer_block();
            const capacity = loop.handles.capacity();
            loop.handles.rebase(handle_table.storage_at(block, capacity));
            loop.timers.rebase(loop.handles.records);
        }
        return growth.slab;
    }

    // ---- lifecycle -------------------------------------------------------------

    fn accepting(loop: *const Loop) Error!void {
        switch (loop.life) {
            .open => {},
            .stopping => return error.Stopping,
            .closed => return error.Closed,
        }
    }

    pub fn turn_begin(loop: *Loop) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (loop.in_turn) return error.Reentrant;
        loop.in_turn = true;
        loop.turn_seq_limit = loop.next_seq;
    }

    /// `set_now(now_us)`, `turn_begin()` and `timers_collect(max)` in one call: the start
    /// of every turn, one boundary crossing instead of three.
    pub fn turn_start(loop: *Loop, now_us: f64, max: u32) Error!u32 {
        if (loop.life != .closed and loop.in_turn) return error.Reentrant;
        try loop.set_now(now_us);
        try loop.turn_begin();
        return loop.timers_collect(max);
    }

    pub fn turn_end(loop: *Loop) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.IllegalTransition;
        loop.release_timer_batch();
        loop.release_immediate_batch();
        loop.in_turn = false;
    }

    /// Starts a graceful shutdown: refuse new work and cancel every timer.
    /// Returns the number of timers cancelled.
    pub fn shutdown_begin(loop: *Loop) Error!u32 {
        switch (loop.life) {
            .open => {},
            .stopping => return error.Stopping,
            .closed => return error.Closed,
        }
        loop.life = .stopping;
        var cancelled: u32 = loop.timers.len();
        for (loop.handles.records, 0..) |record, slot| {
            if (State.is_armed(record.next)) loop.handles.free_slot(@intCast(slot));
        }
        loop.timers.clear();
        // Collected but not yet run timers are cancelled too.
        for (loop.out_timers[0..loop.out_timers_len]) |id| {
            const record = loop.handles.get(id) orelse continue;
            if (record.next == State.timer_due) {
                record.next = State.due_cancelled;
                cancelled += 1;
            }
        }
        return cancelled;
    }

    /// Stops at once and releases everything. Idempotent.
    pub fn close(loop: *Loop) void {
        if (loop.life == .closed) return;
        loop.life = .closed;
        loop.in_turn = false;
        loop.timers.clear();
        loop.handles.clear();
        loop.immediates_queued = 0;
        loop.due_count = 0;
        loop.out_timers_len = 0;
        loop.out_immediates_len = 0;
        loop.tasks.release_all(&loop.pool);
        loop.immediates.release_all(&loop.pool);
        loop.microtasks.release_all(&loop.pool);
    }

    /// Sets the loop time from the host clock. Only between turns; time never goes back.
    pub fn set_now(loop: *Loop, now_us: f64) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (loop.in_turn) return error.IllegalTransition;
        const floor = time.now_ticks(now_us) orelse return error.InvalidArgument;
        const ceil = time.now_ticks_ceil(now_us).?;
        loop.now = @max(loop.now, floor);
        loop.now_ceil = @max(loop.now_ceil, ceil);
        loop.metrics_now = @max(loop.metrics_now, loop.now);
    }

    /// Moves only the clock metrics measure against (allowed inside a turn).
    pub fn set_metrics_now(loop: *Loop, now_us: f64) Error!void {
        if (loop.life == .closed) return error.Closed;
        const floor = time.now_ticks(now_us) orelse return error.InvalidArgument;
        loop.metrics_now = @max(loop.metrics_now, floor);
    }

    fn take_seq(loop: *Loop) u32 {
        const seq = loop.next_seq;
        loop.next_seq +%= 1;
        return seq;
    }

    // ---- timers ----------------------------------------------------------------

    fn ensure_handle_room(loop: *Loop) Error!void {
        if (loop.handles.live - loop.due_count >= loop.options.timers_max) return error.TimersFull;
        if (loop.handles.needs_growth()) try loop.grow_handles();
    }

    /// Doubles the handle table in place (the timer block grows at the top of memory).
    noinline fn grow_handles(loop: *Loop) Error!void {
        const old_capacity = loop.handles.capacity();
        if (old_capacity >= handle_table.capacity_max) return error.OutOfMemory;
        if (!loop.arena.grow_timer_block(timer_block_bytes(old_capacity * 2))) return error.OutOfMemory;
        loop.handles.grow_in_place(handle_table.storage_at(loop.arena.timer_block(), old_capacity * 2));
        loop.timers.relink_after_growth(loop.handles.records, old_capacity);
    }

    /// Arms a timer `delay_ms` from now; returns its id.
    pub fn timer_schedule(loop: *Loop, delay_ms: u32, repeating: bool) Error!u32 {
        try loop.accepting();
        if (delay_ms > time.delay_ms_max) return error.InvalidArgument;
        try loop.ensure_handle_room();
        const delay: handle_table.Delay = .{ .ms = @intCast(delay_ms), .repeating = repeating };
        const slot = loop.handles.alloc_slot(State.timer_due, delay);
        const record = &loop.handles.records[slot];
        record.deadline = time.deadline_ticks(loop.now_ceil, delay_ms);
        record.seq = loop.take_seq();
        loop.timers.insert(slot);
        loop.counters.peak_timers = @max(loop.counters.peak_timers, loop.timers.len());
        loop.counters.timers_scheduled += 1;
        loop.counters.peak_timers = @max(loop.counters.peak_timers, loop.timers.len());
        return record.id;
    }

    /// Clears a timer or interval. Stale ids and immediates' ids are `StaleHandle`.
    pub fn timer_cancel(loop: *Loop, id: u32) Error!void {
        if (loop.life == .closed) return error.Closed;
        const record = loop.handles.get(id) orelse return error.StaleHandle;
        if (State.is_armed(record.next)) {
            const slot = loop.handles.slot_of_id(id);
            // Most timers cleared are cleared in the host task that set them: still staged.
            if (record.next == State.staged) loop.timers.unstage(slot) else loop.timers.remove(slot);
            loop.handles.free_slot(slot);
        } else if (record.next == State.timer_due) {
            record.next = State.due_cancelled;
        } else {
            return error.StaleHandle;
        }
    }

    /// Restarts a timer with its delay counted from now (Node's `timeout.refresh()`).
    /// Works on an armed timer and on a one-shot that is due or running.
    pub fn timer_refresh(loop: *Loop, id: u32) Error!void {
        try loop.accepting();
        const record = loop.handles.get(id) orelse return error.StaleHandle;
        const slot = loop.handles.slot_of(record);
        if (State.is_armed(record.next)) {
            loop.timers.remove(slot);
        } else if (record.next == State.timer_due) {
            loop.due_count -= 1;
        } else {
            return error.StaleHandle;
        }
        record.deadline = time.deadline_ticks(loop.now_ceil, record.delay.ms);
        record.seq = loop.take_seq();
        loop.timers.insert(slot);
        // A due one is armed again, like a new timer: there may be more armed than ever.
        loop.counters.peak_timers = @max(loop.counters.peak_timers, loop.timers.len());
    }

    /// After an interval's callback ran: give its next beat a new start sequence, so
    /// timers created during the callback for the same deadline run before it (Node
    /// re-inserts the interval after the callback; HTML re-runs the timer
    /// initialization steps after it), and optionally change its delay (HTML's
    /// nesting clamp; `delay_ms` equal to the current delay changes nothing).
    /// `start_us` < 0: the deadline stays drift-free, moved only by a delay change.
    /// Otherwise the next beat counts from `start_us` (never earlier than the loop
    /// time), as Node's interval does: lateness accumulates.
    pub fn timer_rearmed(loop: *Loop, id: u32, delay_ms: u32, start_us: f64) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (delay_ms > time.delay_ms_max) return error.InvalidArgument;
        const record = loop.handles.get(id) orelse return error.StaleHandle;
        if (!State.is_armed(record.next)) return error.StaleHandle;
        const start: ?Ticks = if (start_us >= 0) time.now_ticks_ceil(start_us) orelse return error.InvalidArgument else null;
        const slot = loop.handles.slot_of(record);
        loop.timers.remove(slot);
        if (start) |start_ticks| {
            record.deadline = time.deadline_ticks(@max(loop.now_ceil, start_ticks), delay_ms);
            record.delay.ms = @intCast(delay_ms);
        } else if (delay_ms != record.delay.ms) {
            const old_ticks = @as(Ticks, record.delay.ms) * time.ticks_per_ms;
            const base = if (record.deadline >= old_ticks) record.deadline - old_ticks else 0;
            record.deadline = time.deadline_ticks(base, delay_ms);
            record.delay.ms = @intCast(delay_ms);
        }
        record.seq = loop.take_seq();
        loop.timers.insert(slot);
    }

    /// Arms a timer whose delay counts from `start_us` (a fresh clock reading, HTML's
    /// "current high resolution time") instead of the loop time of this turn. Allowed
    /// inside a turn; `start_us` earlier than the loop time counts from the loop time.
    pub fn timer_schedule_at(loop: *Loop, start_us: f64, delay_ms: u32, repeating: bool) Error!u32 {
        const start = time.now_ticks_ceil(start_us) orelse return error.InvalidArgument;
        const saved = loop.now_ceil;
        loop.now_ceil = @max(loop.now_ceil, start);
        defer loop.now_ceil = saved;
        return loop.timer_schedule(delay_ms, repeating);
    }

    /// The earliest armed deadline in microseconds, or +inf when no timer is armed.
    /// Exact; places staged timers and never moves the wheel's origin past `now`.
    pub fn next_deadline_us(loop: *Loop) f64 {
        const slot = loop.timers.peek(loop.now) orelse return std.math.inf(f64);
        return time.to_host(loop.handles.records[slot].deadline);
    }

    /// The latest armed deadline in microseconds, or -inf when no timer is armed.
    /// O(handle capacity): for test harnesses (runToLast).
    pub fn last_deadline_us(loop: *const Loop) f64 {
        if (loop.timers.len() == 0) return -std.math.inf(f64);
        var last: Ticks = 0;
        for (loop.handles.records) |record| {
            if (State.is_armed(record.next)) last = @max(last, record.deadline);
        }
        return time.to_host(last);
    }

    fn release_timer_batch(loop: *Loop) void {
        for (loop.out_timers[0..loop.out_timers_len]) |id| {
            const record = loop.handles.get(id) orelse continue;
            if (record.next == State.timer_due or record.next == State.due_cancelled) {
                loop.handles.free(id);
                loop.due_count -= 1;
            }
        }
        loop.out_timers_len = 0;
    }

    /// Moves up to `max` timers due now into the timer batch and returns how many.
    /// Only timers started before `turn_begin` are eligible. Intervals are re-armed.
    pub fn timers_collect(loop: *Loop, max: u32) Error!u32 {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.NotInTurn;
        loop.release_timer_batch();
        const limit = @min(max, batch_capacity);
        var count: u32 = 0;
        while (count < limit) {
            const slot = loop.timers.first(loop.now) orelse break;
            const record = &loop.handles.records[slot];
            if (!timer_wheel.seq_before(record.seq, loop.turn_seq_limit)) break;
            const due = record.deadline;
            loop.timers.remove(slot);
            if (record.delay.repeating) {
                record.deadline = loop.next_interval_deadline(due, record.delay.ms);
                record.seq = loop.take_seq();
                loop.timers.insert(slot);
            } else {
                record.next = State.timer_due;
                loop.due_count += 1;
            }
            if (loop.metrics_enabled) loop.timer_lateness.record(loop.metrics_now -| due);
            loop.out_timers[count] = record.id;
            count += 1;
        }
        loop.out_timers_len = count;
        loop.counters.timers_fired += count;
        return count;
    }

    /// Drift-free: the next beat is counted from when this one was due. Beats already
    /// missed (the loop was late by more than a period) are skipped, not bunched.
    fn next_interval_deadline(loop: *const Loop, due: Ticks, period_ms: u31) Ticks {
        const period: Ticks = @as(Ticks, period_ms) * time.ticks_per_ms;
        if (period == 0) return loop.now;
        var next = @min(due + period, time.ticks_max);
        if (next <= loop.now) {
            const beats = (loop.now - due) / period + 1;
            next = @min(due +| beats *| period, time.ticks_max);
        }
        return next;
    }

    // ---- immediates ------------------------------------------------------------

    pub fn immediate_push(loop: *Loop) Error!u32 {
        try loop.accepting();
        try loop.ensure_handle_room();
        const id = loop.handles.alloc(State.immediate_queued, .{ .ms = 0, .repeating = false });
        loop.immediates.push(&loop.pool, .{ .value = id, .queued_at = @truncate(loop.metrics_now) }) catch |err| {
            loop.handles.free(id);
            return err;
        };
        loop.immediates_queued += 1;
        loop.counters.peak_immediates = @max(loop.counters.peak_immediates, loop.immediates_queued);
        return id;
    }

    /// Clears an immediate. A queued one leaves a tombstone in the queue that
    /// collect skips (the id no longer matches a live record).
    pub fn immediate_cancel(loop: *Loop, id: u32) Error!void {
        if (loop.life == .closed) return error.Closed;
        const record = loop.handles.get(id) orelse return error.StaleHandle;
        if (record.next == State.immediate_queued) {
            loop.handles.free(id);
            loop.immediates_queued -= 1;
        } else if (record.next == State.immediate_due) {
            record.next = State.due_cancelled;
        } else {
            return error.StaleHandle;
        }
    }

    fn release_immediate_batch(loop: *Loop) void {
        for (loop.out_immediates[0..loop.out_immediates_len]) |id| {
            const record = loop.handles.get(id) orelse continue;
            if (record.next == State.immediate_due or record.next == State.due_cancelled) {
                loop.handles.free(id);
                loop.due_count -= 1;
            }
        }
        loop.out_immediates_len = 0;
    }

    pub fn immediates_begin(loop: *Loop) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.NotInTurn;
        loop.immediates_limit = loop.immediates.pushed;
    }

    /// Moves up to `max` immediates queued before `immediates_begin` into the batch.
    pub fn immediates_collect(loop: *Loop, max: u32) Error!u32 {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.NotInTurn;
        loop.release_immediate_batch();
        const limit = @min(max, batch_capacity);
        var count: u32 = 0;
        var latency: LatencyRun = .{};
        defer if (loop.metrics_enabled) latency.flush(loop);
        while (count < limit and loop.immediates.popped < loop.immediates_limit) {
            const queued = loop.immediates.pop(&loop.pool).?;
            const record = loop.handles.get(queued.value) orelse continue; // tombstone
            if (record.next != State.immediate_queued) continue;
            record.next = State.immediate_due;
            loop.due_count += 1;
            loop.immediates_queued -= 1;
            if (loop.metrics_enabled) latency.add(loop, queued.queued_at);
            loop.out_immediates[count] = queued.value;
            count += 1;
        }
        loop.out_immediates_len = count;
        loop.counters.immediates_run += count;
        return count;
    }

    /// Entries collected one after another usually share their enqueue time (a burst
    /// queued from one host task, which reads the clock once): a collect records each
    /// run of equal enqueue times with one histogram update instead of one per entry.
    const LatencyRun = struct {
        queued_at: u32 = 0,
        len: u32 = 0,

        fn add(run: *LatencyRun, loop: *Loop, queued_at: u32) void {
            if (run.len != 0 and run.queued_at == queued_at) {
                run.len += 1;
                return;
            }
            run.flush(loop);
            run.* = .{ .queued_at = queued_at, .len = 1 };
        }

        fn flush(run: *LatencyRun, loop: *Loop) void {
            if (run.len == 0) return;
            const waited = @as(u32, @truncate(loop.metrics_now)) -% run.queued_at;
            loop.task_latency.record_n(waited, run.len);
            run.len = 0;
        }
    };

    // ---- tasks -----------------------------------------------------------------

    /// Queues a task. `force` is for the host's own tasks (rejection events): they are
    /// accepted past `tasks_max` and while stopping, because refusing them would lose a
    /// report nobody asked to drop. A closed loop refuses everything.
    pub fn task_push(loop: *Loop, slot: u32, force: bool) Error!void {
        if (force) {
            if (loop.life == .closed) return error.Closed;
        } else {
            try loop.accepting();
            if (loop.tasks.len >= loop.options.tasks_max) return error.TasksFull;
        }
        try loop.tasks.push(&loop.pool, .{ .value = slot, .queued_at = @truncate(loop.metrics_now) });
        loop.counters.peak_tasks = @max(loop.counters.peak_tasks, loop.tasks.len);
    }

    pub fn tasks_begin(loop: *Loop) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.NotInTurn;
        loop.tasks_limit = loop.tasks.pushed;
    }

    /// Moves up to `max` tasks queued before `tasks_begin` into the batch.
    pub fn tasks_collect(loop: *Loop, max: u32) Error!u32 {
        if (loop.life == .closed) return error.Closed;
        if (!loop.in_turn) return error.NotInTurn;
        const limit = @min(max, batch_capacity);
        var count: u32 = 0;
        var latency: LatencyRun = .{};
        defer if (loop.metrics_enabled) latency.flush(loop);
        while (count < limit and loop.tasks.popped < loop.tasks_limit) {
            const queued = loop.tasks.pop(&loop.pool).?;
            if (loop.metrics_enabled) latency.add(loop, queued.queued_at);
            loop.out_tasks[count] = queued.value;
            count += 1;
        }
        loop.counters.tasks_run += count;
        return count;
    }

    // ---- microtasks ------------------------------------------------------------

    /// Queues a microtask. `force` is for promise jobs: a resolve function cannot throw,
    /// so they are accepted past `microtasks_max` (only memory can refuse them).
    pub fn microtask_push(loop: *Loop, slot: u32, force: bool) Error!void {
        if (loop.life == .closed) return error.Closed;
        if (!force and loop.microtasks.len() >= loop.options.microtasks_max) return error.MicrotasksFull;
        try loop.microtasks.push(&loop.pool, slot);
        loop.counters.peak_microtasks = @max(loop.counters.peak_microtasks, loop.microtasks.len());
    }

    /// Appends the first `count` values of `in_microtasks` to the queue, in order, without
    /// the capacity check (the host made it when it accepted each job: one call per batch
    /// instead of one per job). Returns how many were appended; out of memory stops it,
    /// and is an error only if nothing was appended.
    pub fn microtask_push_batch(loop: *Loop, count: u32) Error!u32 {
        if (loop.life == .closed) return error.Closed;
        const n = @min(count, batch_capacity);
        var pushed: u32 = 0;
        while (pushed < n) : (pushed += 1) {
            loop.microtasks.push(&loop.pool, loop.in_microtasks[pushed]) catch |err| {
                if (pushed == 0) return err;
                break;
            };
        }
        loop.counters.peak_microtasks = @max(loop.counters.peak_microtasks, loop.microtasks.len());
        return pushed;
    }

    /// Moves overflow jobs into the empty ring (the host's pop path); returns how many.
    pub fn microtasks_refill(loop: *Loop) Error!u32 {
        if (loop.life == .closed) return error.Closed;
        return loop.microtasks.refill(&loop.pool);
    }

    // ---- observation -----------------------------------------------------------

    /// The ring state the host shares (see microtask_ring.zig).
    pub fn microtask_shared(loop: *Loop) *microtask_ring.Shared {
        return &loop.microtasks.shared;
    }

    pub fn batch_ptr(loop: *Loop, batch: Batch) *[batch_capacity]u32 {
        return switch (batch) {
            .timers => &loop.out_timers,
            .tasks => &loop.out_tasks,
            .immediates => &loop.out_immediates,
            .microtasks => &loop.in_microtasks,
        };
    }

    pub fn stat(loop: *const Loop, which: Stat) f64 {
        const c = loop.counters;
        return switch (which) {
            .timers_armed => @floatFromInt(loop.timers.len()),
            .immediates_queued => @floatFromInt(loop.immediates_queued),
            .tasks_queued => @floatFromInt(loop.tasks.len),
            .microtasks_queued => @floatFromInt(loop.microtasks.len()),
            .handles_live => @floatFromInt(loop.handles.live),
            .handles_capacity => @floatFromInt(loop.handles.capacity()),
            .chunks_in_use => @floatFromInt(loop.pool.in_use()),
            .chunks_total => @floatFromInt(loop.pool.total_count),
            .arena_bytes => @floatFromInt(loop.arena.span_bytes()),
            .timer_block_moves => @floatFromInt(loop.arena.moves),
            .timers_fired => @floatFromInt(c.timers_fired),
            .tasks_run => @floatFromInt(c.tasks_run),
            .immediates_run => @floatFromInt(c.immediates_run),
            .timers_scheduled => @floatFromInt(c.timers_scheduled),
            .peak_timers => @floatFromInt(c.peak_timers),
            .peak_immediates => @floatFromInt(c.peak_immediates),
            .peak_tasks => @floatFromInt(c.peak_tasks),
            .peak_microtasks => @floatFromInt(c.peak_microtasks),
            .life => @floatFromInt(@intFromEnum(loop.life)),
            .in_turn => if (loop.in_turn) 1 else 0,
            .now_us => time.to_host(loop.now),
        };
    }

    /// A histogram, or null while metrics were never enabled (it is empty then).
    pub fn histogram(loop: *const Loop, which: Which) ?*const Histogram {
        if (!loop.histograms_ready) return null;
        return switch (which) {
            .task_latency => &loop.task_latency,
            .timer_lateness => &loop.timer_lateness,
        };
    }

    /// Resets counters, peaks (to the current depths) and histograms.
    pub fn metrics_reset(loop: *Loop) void {
        loop.counters = .{
            .peak_timers = loop.timers.len(),
            .peak_immediates = loop.immediates_queued,
            .peak_tasks = loop.tasks.len,
            .peak_microtasks = loop.microtasks.len(),
        };
        if (loop.histograms_ready) {
            loop.task_latency.reset();
            loop.timer_lateness.reset();
        }
    }

    pub const Invariant = error{ LoopCorrupt, HandleTableCorrupt, TimerWheelCorrupt, QueueCorrupt, MicrotaskRingCorrupt, ChunkPoolCorrupt, HistogramCorrupt, ArenaCorrupt };

    /// Checks every structure and the accounting that ties them together. O(size).
    pub fn verify(loop: *Loop) Invariant!void {
        try loop.arena.verify();
        try loop.handles.verify();
        try loop.timers.verify();
        if (loop.timers.records.ptr != loop.handles.records.ptr or loop.timers.records.len != loop.handles.records.len) return error.LoopCorrupt;
        try loop.tasks.verify();
        try loop.immediates.verify();
        try loop.microtasks.verify();
        try loop.pool.verify();
        if (loop.histograms_ready) {
            try loop.task_latency.verify();
            try loop.timer_lateness.verify();
        }
        var armed: u32 = 0;
        var queued: u32 = 0;
        var due: u32 = 0;
        for (loop.handles.records) |record| {
            if (record.next == State.free) continue;
            if (State.is_armed(record.next)) {
                armed += 1;
            } else if (record.next == State.immediate_queued) {
                queued += 1;
            } else {
                due += 1;
            }
        }
        if (armed != loop.timers.len()) return error.LoopCorrupt;
        if (queued != loop.immediates_queued) return error.LoopCorrupt;
        if (due != loop.due_count) return error.LoopCorrupt;
        if (due > loop.out_timers_len + loop.out_immediates_len) return error.LoopCorrupt;
        if (queued > loop.immediates.len) return error.LoopCorrupt;
        const chunks = loop.tasks.chunk_count() + loop.immediates.chunk_count() + loop.microtasks.overflow.chunk_count();
        if (chunks != loop.pool.in_use()) return error.LoopCorrupt;
        if (loop.life == .closed and (loop.handles.live != 0 or loop.in_turn)) return error.LoopCorrupt;
        if (loop.life != .open and loop.timers.len() != 0) return error.LoopCorrupt;
        // A peak is a maximum since the last reset: never below the current depth. (Not
        // checked for microtasks: the host fills the ring without the core, and reports
        // the larger of its own peak and the core's.)
        const c = loop.counters;
        if (c.peak_timers < loop.timers.len()) return error.LoopCorrupt;
        if (c.peak_immediates < loop.immediates_queued) return error.LoopCorrupt;
        if (c.peak_tasks < loop.tasks.len) return error.LoopCorrupt;
    }
};

// ---- tests -------------------------------------------------------------------

const testing = std.testing;

const Harness = struct {
    backing: arena_mod.TestBacking,
    loop: *Loop,

    fn create(options: Options) !Harness {
        var backing = try arena_mod.TestBacking.create(256 << 20);
        errdefer backing.destroy();
        const loop = try testing.allocator.create(Loop);
        errdefer testing.allocator.destroy(loop);
        try loop.init(backing.backing(0), options);
        return .{ .backing = backing, .loop = loop };
    }

    fn destroy(harness: *Harness) void {
        testing.allocator.destroy(harness.loop);
        harness.backing.destroy();
    }
};

const default_options: Options = .{ .timers_max = 1 << 20, .tasks_max = 1 << 20, .microtasks_max = 1 << 20, .ring_capacity = 64 };

fn fire_all(loop: *Loop, out: *std.ArrayListUnmanaged(u32)) !void {
    try loop.turn_begin();
    while (true) {
        const count = try loop.timers_collect(batch_capacity);
        if (count == 0) break;
        try out.appendSlice(testing.allocator, loop.out_timers[0..count]);
    }
    try loop.turn_end();
}

/// Tests: a time in milliseconds as the host passes it (microseconds).
fn ms(value: f64) f64 {
    return value * 1000;
}

/// Tests: pops up to `max` microtasks the way the host does (ring first, refilled from
/// the overflow when empty), oldest first.
fn drain_microtasks(loop: *Loop, max: u32, out: *[batch_capacity]u32) u32 {
    var count: u32 = 0;
    while (count < @min(max, batch_capacity)) : (count += 1) {
        out[count] = loop.microtasks.pop(&loop.pool) orelse break;
    }
    return count;
}

test "timers fire in deadline order, equal deadlines in start order" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const late = try loop.timer_schedule(20, false);
    const a = try loop.timer_schedule(10, false);
    const b = try loop.timer_schedule(10, false);
    try loop.set_now(ms(10));
    var fired: std.ArrayListUnmanaged(u32) = .empty;
    defer fired.deinit(testing.allocator);
    try fire_all(loop, &fired);
    try testing.expectEqualSlices(u32, &.{ a, b }, fired.items);
    try loop.set_now(ms(25));
    fired.clearRetainingCapacity();
    try fire_all(loop, &fired);
    try testing.expectEqualSlices(u32, &.{late}, fired.items);
    try loop.verify();
}

test "turn_start sets the time, begins the turn and collects the first batch" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const a = try loop.timer_schedule(10, false);
    _ = try loop.timer_schedule(20, false);
    try testing.expectEqual(@as(u32, 1), try loop.turn_start(ms(15), batch_capacity));
    try testing.expectEqual(a, loop.out_timers[0]);
    try testing.expect(loop.in_turn);
    try testing.expectError(error.Reentrant, loop.turn_start(ms(16), 1));
    try loop.turn_end();
    try testing.expectEqual(ms(15), loop.stat(.now_us));
}

test "a timer started during a turn never fires in that turn" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    _ = try loop.timer_schedule(0, false);
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    const zero = try loop.timer_schedule(0, false); // due at the same time
    try testing.expectEqual(@as(u32, 0), try loop.timers_collect(batch_capacity));
    try loop.turn_end();
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    try testing.expectEqual(zero, loop.out_timers[0]);
    try loop.turn_end();
}

test "intervals re-arm drift-free and skip missed beats" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const id = try loop.timer_schedule(100, true);
    try loop.set_now(ms(100));
    var fired: std.ArrayListUnmanaged(u32) = .empty;
    defer fired.deinit(testing.allocator);
    try fire_all(loop, &fired);
    try testing.expectEqual(ms(200), loop.next_deadline_us());
    try testing.expectEqual(ms(200), loop.last_deadline_us());
    try loop.set_now(ms(450)); // late by 2.5 periods: fires once, next beat at 500
    try fire_all(loop, &fired);
    try testing.expectEqual(ms(500), loop.next_deadline_us());
    try testing.expectEqualSlices(u32, &.{ id, id }, fired.items);
    try loop.timer_cancel(id);
    try testing.expectEqual(std.math.inf(f64), loop.next_deadline_us());
}

test "clearing a collected timer before it runs marks it cancelled and keeps its slot" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const a = try loop.timer_schedule(0, false);
    const b = try loop.timer_schedule(0, false);
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 2), try loop.timers_collect(batch_capacity));
    try loop.timer_cancel(b);
    try testing.expectEqual(State.due_cancelled, loop.handles.get(b).?.next);
    try testing.expectError(error.StaleHandle, loop.timer_cancel(b));
    try loop.verify();
    try loop.turn_end();
    try testing.expect(loop.handles.get(a) == null);
    try testing.expect(loop.handles.get(b) == null);
    try testing.expectEqual(@as(u32, 0), loop.handles.live);
}

test "an interval re-stamped after its callback runs after a timer created in the callback" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const interval = try loop.timer_schedule(10, true);
    try loop.set_now(ms(10));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    const inside = try loop.timer_schedule(10, false); // due at 20, like the next beat
    try loop.timer_rearmed(interval, 10, -1);
    try loop.turn_end();
    try loop.set_now(ms(20));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 2), try loop.timers_collect(batch_capacity));
    try testing.expectEqualSlices(u32, &.{ inside, interval }, loop.out_timers[0..2]);
    // A delay change (the HTML clamp) moves the armed deadline.
    try loop.timer_rearmed(interval, 40, -1);
    try testing.expectEqual(ms(60), loop.next_deadline_us());
    try loop.turn_end();
    try loop.verify();
}

test "an interval re-armed from a start time is not drift-free: a late beat moves the next one" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const interval = try loop.timer_schedule(10, true);
    try loop.set_now(ms(13)); // 3 ms late
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    const inside = try loop.timer_schedule(10, false); // due at 23
    try loop.timer_rearmed(interval, 10, ms(13)); // Node: counted from when it ran
    try testing.expectEqual(ms(23), loop.next_deadline_us());
    try loop.turn_end();
    try loop.set_now(ms(23));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 2), try loop.timers_collect(batch_capacity));
    try testing.expectEqualSlices(u32, &.{ inside, interval }, loop.out_timers[0..2]);
    try loop.turn_end();
    // A start before the loop time counts from the loop time.
    try loop.set_now(ms(40));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    try loop.timer_rearmed(interval, 10, ms(1));
    try testing.expectEqual(ms(50), loop.next_deadline_us());
    try loop.turn_end();
    try loop.verify();
}

test "schedule_at counts the delay from a fresh clock reading, never earlier than loop time" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    try loop.set_now(ms(100));
    try loop.turn_begin();
    _ = try loop.timer_schedule_at(ms(130.5), 10, false); // the callback ran 30.5 ms
    try testing.expectEqual(ms(140.5), loop.next_deadline_us());
    _ = try loop.timer_schedule_at(ms(50), 1, false); // a stale reading: counts from loop time
    try testing.expectEqual(ms(101), loop.next_deadline_us());
    try loop.turn_end();
    try testing.expectEqual(ms(100), loop.stat(.now_us));
}

test "refresh re-arms a running one-shot" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const id = try loop.timer_schedule(5, false);
    try loop.set_now(ms(5));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    try loop.timer_refresh(id);
    try loop.turn_end();
    try testing.expectEqual(ms(10), loop.next_deadline_us());
    try loop.verify();
}

test "refresh of a running one-shot counts in the timers' peak" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const id = try loop.timer_schedule(5, false);
    try loop.set_now(ms(5));
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    _ = try loop.timer_schedule(1, false); // its callback schedules another timer...
    try loop.timer_refresh(id); // ...and refreshes itself: two armed
    try loop.turn_end();
    try testing.expectEqual(@as(f64, 2), loop.stat(.timers_armed));
    try testing.expectEqual(@as(f64, 2), loop.stat(.peak_timers));
    try loop.verify();
}

test "immediates run in order, skip cancelled ones, and wait for the next turn when queued late" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    const a = try loop.immediate_push();
    const b = try loop.immediate_push();
    const c = try loop.immediate_push();
    try loop.immediate_cancel(b);
    try loop.turn_begin();
    try loop.immediates_begin();
    const late = try loop.immediate_push();
    try testing.expectEqual(@as(u32, 2), try loop.immediates_collect(batch_capacity));
    try testing.expectEqualSlices(u32, &.{ a, c }, loop.out_immediates[0..2]);
    try testing.expectEqual(@as(u32, 0), try loop.immediates_collect(batch_capacity));
    try loop.turn_end();
    try loop.turn_begin();
    try loop.immediates_begin();
    try testing.expectEqual(@as(u32, 1), try loop.immediates_collect(batch_capacity));
    try testing.expectEqual(late, loop.out_immediates[0]);
    try loop.turn_end();
    try testing.expectEqual(@as(u32, 0), loop.handles.live);
    try loop.verify();
}

test "lifecycle: illegal transitions are refused and nothing is corrupted" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    try testing.expectError(error.NotInTurn, loop.timers_collect(1));
    try testing.expectError(error.IllegalTransition, loop.turn_end());
    try loop.turn_begin();
    try testing.expectError(error.Reentrant, loop.turn_begin());
    try testing.expectError(error.IllegalTransition, loop.set_now(ms(1)));
    try loop.turn_end();
    _ = try loop.timer_schedule(10, false);
    try loop.task_push(7, false);
    try testing.expectEqual(@as(u32, 1), try loop.shutdown_begin());
    try testing.expectError(error.Stopping, loop.shutdown_begin());
    try testing.expectError(error.Stopping, loop.timer_schedule(1, false));
    try testing.expectError(error.Stopping, loop.task_push(8, false));
    try loop.microtask_push(1, false); // checkpoints still complete while stopping
    // Already queued tasks still run.
    try loop.turn_begin();
    try loop.tasks_begin();
    try testing.expectEqual(@as(u32, 1), try loop.tasks_collect(batch_capacity));
    try loop.turn_end();
    try loop.verify();
    loop.close();
    loop.close();
    try testing.expectError(error.Closed, loop.turn_begin());
    try testing.expectError(error.Closed, loop.task_push(1, false));
    try testing.expectError(error.Closed, loop.microtask_push(1, false));
    try loop.verify();
}

test "capacity exhaustion is a status and the loop keeps working" {
    var h = try Harness.create(.{ .timers_max = 3, .tasks_max = 2, .microtasks_max = 2, .ring_capacity = 16 });
    defer h.destroy();
    const loop = h.loop;
    const a = try loop.timer_schedule(1, false);
    _ = try loop.timer_schedule(1, false);
    _ = try loop.immediate_push();
    try testing.expectError(error.TimersFull, loop.timer_schedule(1, false));
    try testing.expectError(error.TimersFull, loop.immediate_push());
    try loop.timer_cancel(a);
    _ = try loop.timer_schedule(1, false);
    try loop.task_push(1, false);
    try loop.task_push(2, false);
    try testing.expectError(error.TasksFull, loop.task_push(3, false));
    try loop.task_push(3, true); // the host's own task is never refused
    try loop.microtask_push(1, false);
    try loop.microtask_push(2, false);
    try testing.expectError(error.MicrotasksFull, loop.microtask_push(3, false));
    try loop.microtask_push(3, true); // a promise job is never refused
    var drained: [batch_capacity]u32 = undefined;
    try testing.expectEqual(@as(u32, 3), drain_microtasks(loop, batch_capacity, &drained));
    try loop.microtask_push(4, false);
    try loop.verify();
}

test "microtask_push_batch appends in order, past capacity, after the ring's jobs" {
    var h = try Harness.create(.{ .timers_max = 3, .tasks_max = 2, .microtasks_max = 4, .ring_capacity = 16 });
    defer h.destroy();
    const loop = h.loop;
    try loop.microtask_push(1, false);
    // 40 values: past the 16-slot ring and past microtasks_max (the host checked it).
    for (0..40) |i| loop.in_microtasks[i] = @intCast(i + 2);
    try testing.expectEqual(@as(u32, 40), try loop.microtask_push_batch(40));
    try testing.expectEqual(@as(u32, 41), loop.microtasks.len());
    try testing.expectEqual(@as(u32, 41), loop.counters.peak_microtasks);
    try loop.verify();
    var drained: [batch_capacity]u32 = undefined;
    try testing.expectEqual(@as(u32, 41), drain_microtasks(loop, batch_capacity, &drained));
    for (drained[0..41], 1..) |value, expected| try testing.expectEqual(@as(u32, @intCast(expected)), value);
    // More than one batch's worth is clamped to the buffer.
    try testing.expectEqual(@as(u32, batch_capacity), try loop.microtask_push_batch(batch_capacity + 7));
    try testing.expectEqual(@as(u32, batch_capacity), drain_microtasks(loop, batch_capacity, &drained));
    loop.close();
    try testing.expectError(error.Closed, loop.microtask_push_batch(1));
}

test "microtask_push_batch stops when memory runs out and reports what it appended" {
    var backing = try arena_mod.TestBacking.create(192 << 10);
    defer backing.destroy();
    const loop = try testing.allocator.create(Loop);
    defer testing.allocator.destroy(loop);
    try loop.init(backing.backing(0), default_options);
    var appended: u64 = 0;
    var value: u32 = 1;
    const result = while (true) {
        for (&loop.in_microtasks) |*slot| {
            slot.* = value;
            value += 1;
        }
        const n = loop.microtask_push_batch(batch_capacity) catch |err| break err;
        appended += n;
        if (n < batch_capacity) {
            // Partial: the rest stayed the caller's; the next batch fails outright.
            try testing.expectError(error.OutOfMemory, loop.microtask_push_batch(batch_capacity));
            break error.OutOfMemory;
        }
    };
    try testing.expectEqual(error.OutOfMemory, result);
    try testing.expectEqual(appended, loop.microtasks.len());
    try loop.verify();
    // Every appended job comes out, in order.
    var expected: u32 = 1;
    while (loop.microtasks.pop(&loop.pool)) |got| : (expected += 1) try testing.expectEqual(expected, got);
    try testing.expectEqual(appended + 1, expected);
}

test "a timer re-armed from its own callback fits in a capacity of one" {
    var h = try Harness.create(.{ .timers_max = 1, .tasks_max = 1, .microtasks_max = 1, .ring_capacity = 16 });
    defer h.destroy();
    const loop = h.loop;
    _ = try loop.timer_schedule(0, false);
    try loop.turn_begin();
    try testing.expectEqual(@as(u32, 1), try loop.timers_collect(batch_capacity));
    // Inside the callback: the collected timer still holds its slot, but not the capacity.
    const again = try loop.timer_schedule(5, false);
    try testing.expectError(error.TimersFull, loop.timer_schedule(5, false));
    try loop.verify();
    try loop.turn_end();
    try testing.expectEqual(@as(u32, 1), loop.handles.live);
    try loop.timer_cancel(again);
    _ = try loop.immediate_push();
    try loop.turn_begin();
    try loop.immediates_begin();
    try testing.expectEqual(@as(u32, 1), try loop.immediates_collect(batch_capacity));
    _ = try loop.immediate_push();
    try loop.verify();
    try loop.turn_end();
}

test "memory exhaustion while growing is a status and the loop keeps working" {
    var backing = try arena_mod.TestBacking.create(192 << 10);
    defer backing.destroy();
    const loop = try testing.allocator.create(Loop);
    defer testing.allocator.destroy(loop);
    try loop.init(backing.backing(0), default_options);
    var scheduled: u32 = 0;
    const result = while (true) : (scheduled += 1) {
        _ = loop.timer_schedule(1000, false) catch |err| break err;
    };
    try testing.expectEqual(error.OutOfMemory, result);
    try testing.expect(scheduled > 1000);
    try loop.verify();
    try loop.set_now(ms(1000));
    var fired: std.ArrayListUnmanaged(u32) = .empty;
    defer fired.deinit(testing.allocator);
    try fire_all(loop, &fired);
    try testing.expectEqual(scheduled, @as(u32, @intCast(fired.items.len)));
    try loop.verify();
}

test "chunk growth moves the timer block and timers still fire correctly" {
    var h = try Harness.create(default_options);
    defer h.destroy();
    const loop = h.loop;
    var i: u32 = 0;
    while (i < 5000) : (i += 1) _ = try loop.timer_schedule(i % 97, false);
    while (i < 200_000) : (i += 1) try loop.task_push(i, false);
    try testing.expect(loop.arena.moves > 0);
    try loop.verify();
    try loop.set_now(ms(100));
    var fired: std.ArrayListUnmanaged(u32) = .empty;
    defer fired.deinit(testing.allocator);
    try fire_all(loop, &fired);
    try testing.expectEqual(@as(usize, 5000), fired.items.len);
}

test "fuzz: the whole loop against a model" {
    const fuzz = @import("fuzz.zig");
    const ops = fuzz.ops_count();
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0x1007);
    const random = prng.random();
    const gpa = testing.allocator;
    var h = try Harness.create(.{ .timers_max = 5000, .tasks_max = 5000, .microtasks_max = 5000, .ring_capacity = 16 });
    defer h.destroy();
    const loop = h.loop;

    const ModelTimer = struct { id: u32, deadline: Ticks, seq: u64, delay: u32, period: ?u32 };
    var timers: std.ArrayListUnmanaged(ModelTimer) = .empty;
    defer timers.deinit(gpa);
    var tasks: std.Deque(u32) = .empty;
    defer tasks.deinit(gpa);
    var immediates: std.ArrayListUnmanaged(u32) = .empty;
    defer immediates.deinit(gpa);
    var microtasks: std.Deque(u32) = .empty;
    defer microtasks.deinit(gpa);
    var seq: u64 = 0;
    var now: Ticks = 0;
    var next_value: u32 = 0;

    var op: usize = 0;
    while (op < ops) : (op += 1) {
        const roll = random.uintLessThan(u32, 100);
        if (roll < 25) {
            // Mostly short delays; some far ones (the wheel's higher levels, searched by peek).
            const delay = if (random.uintLessThan(u32, 10) == 0) random.uintLessThan(u32, 10_000_000) else random.uintLessThan(u32, 50);
            const repeating = random.uintLessThan(u32, 8) == 0;
            const id = loop.timer_schedule(delay, repeating) catch |err| {
                try testing.expectEqual(error.TimersFull, err);
                continue;
            };
            try timers.append(gpa, .{ .id = id, .deadline = now + @as(Ticks, delay) * 1000, .seq = seq, .delay = delay, .period = if (repeating) delay else null });
            seq += 1;
        } else if (roll < 32 and timers.items.len > 0) {
            const index = random.uintLessThan(usize, timers.items.len);
            try loop.timer_cancel(timers.swapRemove(index).id);
        } else if (roll < 34 and timers.items.len > 0) {
            // refresh(): the delay counts again from now, with a new start sequence.
            const timer = &timers.items[random.uintLessThan(usize, timers.items.len)];
            try loop.timer_refresh(timer.id);
            timer.deadline = now + @as(Ticks, timer.delay) * 1000;
            timer.seq = seq;
            seq += 1;
        } else if (roll < 35 and timers.items.len > 0) {
            // An interval re-stamped around its callback, sometimes with a new delay: drift-free
            // (html: the deadline moves only by the delay change) or counted from a start
            // time (node: from when the callback ran, never before the loop time).
            const timer = &timers.items[random.uintLessThan(usize, timers.items.len)];
            if (timer.period) |period| {
                const delay = if (random.boolean()) period else random.uintLessThan(u32, 50);
                if (random.boolean()) {
                    try loop.timer_rearmed(timer.id, delay, -1);
                    const old_ticks = @as(Ticks, period) * 1000;
                    const base = if (timer.deadline >= old_ticks) timer.deadline - old_ticks else 0;
                    timer.deadline = base + @as(Ticks, delay) * 1000;
                } else {
                    // A start from a little before the loop time to a few ms after it, in
                    // whole or half microseconds (it rounds up).
                    const offset_half_us = random.uintLessThan(u32, 12_000);
                    const start_us = @as(f64, @floatFromInt(now -| 2000)) + @as(f64, @floatFromInt(offset_half_us)) / 2;
                    try loop.timer_rearmed(timer.id, delay, start_us);
                    const start: Ticks = @intFromFloat(@ceil(start_us));
                    timer.deadline = @max(now, start) + @as(Ticks, delay) * 1000;
                }
                timer.period = delay;
                timer.delay = delay;
                timer.seq = seq;
                seq += 1;
            }
        } else if (roll < 37) {
            // The next deadline: exact (the earliest armed timer, due or not).
            var earliest: ?Ticks = null;
            for (timers.items) |timer| earliest = if (earliest) |e| @min(e, timer.deadline) else timer.deadline;
            const expected = if (earliest) |e| time.to_host(e) else std.math.inf(f64);
            try testing.expectEqual(expected, loop.next_deadline_us());
        } else if (roll < 45) {
            const id = loop.immediate_push() catch |err| {
                try testing.expectEqual(error.TimersFull, err);
                continue;
            };
            try immediates.append(gpa, id);
        } else if (roll < 50 and immediates.items.len > 0) {
            const index = random.uintLessThan(usize, immediates.items.len);
            try loop.immediate_cancel(immediates.orderedRemove(index));
        } else if (roll < 65) {
            loop.task_push(next_value, false) catch |err| {
                try testing.expectEqual(error.TasksFull, err);
                continue;
            };
            try tasks.pushBack(gpa, next_value);
            next_value +%= 1;
        } else if (roll < 80) {
            loop.microtask_push(next_value, false) catch |err| {
                try testing.expectEqual(error.MicrotasksFull, err);
                continue;
            };
            try microtasks.pushBack(gpa, next_value);
            next_value +%= 1;
        } else if (roll < 88) {
            var drained: [batch_capacity]u32 = undefined;
            const count = drain_microtasks(loop, random.uintLessThan(u32, 40), &drained);
            for (drained[0..count]) |value| try testing.expectEqual(microtasks.popFront().?, value);
        } else {
            // A full turn at a later time.
            now += @as(Ticks, random.uintLessThan(u32, 30)) * 1000;
            try loop.set_now(time.to_host(now));
            try loop.turn_begin();
            const seq_limit = seq;
            while (true) {
                const count = try loop.timers_collect(random.uintLessThan(u32, 8) + 1);
                if (count == 0) break;
                for (loop.out_timers[0..count]) |id| {
                    // The model's next timer: earliest deadline, then earliest start.
                    var best: ?usize = null;
                    for (timers.items, 0..) |timer, i| {
                        if (timer.deadline > now or timer.seq >= seq_limit) continue;
                        if (best == null or timer.deadline < timers.items[best.?].deadline or
                            (timer.deadline == timers.items[best.?].deadline and timer.seq < timers.items[best.?].seq)) best = i;
                    }
                    const expected = &timers.items[best.?];
                    try testing.expectEqual(expected.id, id);
                    if (expected.period) |period| {
                        const p: Ticks = @as(Ticks, period) * 1000;
                        expected.deadline = if (p == 0) now else blk: {
                            var next = expected.deadline + p;
                            if (next <= now) next = expected.deadline + ((now - expected.deadline) / p + 1) * p;
                            break :blk next;
                        };
                        expected.seq = seq;
                        seq += 1;
                    } else {
                        _ = timers.swapRemove(best.?);
                    }
                }
            }
            for (timers.items) |timer| try testing.expect(timer.deadline > now or timer.seq >= seq_limit);
            try loop.tasks_begin();
            while (true) {
                const count = try loop.tasks_collect(random.uintLessThan(u32, 8) + 1);
                if (count == 0) break;
                for (loop.out_tasks[0..count]) |value| try testing.expectEqual(tasks.popFront().?, value);
            }
            try loop.immediates_begin();
            while (true) {
                const count = try loop.immediates_collect(random.uintLessThan(u32, 8) + 1);
                if (count == 0) break;
                for (loop.out_immediates[0..count]) |id| try testing.expectEqual(immediates.orderedRemove(0), id);
            }
            try testing.expectEqual(@as(usize, 0), tasks.len);
            try testing.expectEqual(@as(usize, 0), immediates.items.len);
            try loop.turn_end();
        }
        try testing.expectEqual(@as(u32, @intCast(timers.items.len)), loop.timers.len());
        if (op % 499 == 0) try loop.verify();
    }
    try loop.verify();
}
