//! Status codes returned across the ABI.
//!
//! Every export that can fail for an *expected* reason (a capacity is exhausted, a
//! handle is stale, the loop refuses work in its current state) returns one of these
//! as a negative i32. Successful calls return zero or a non-negative payload (an id,
//! a count). Programmer errors (breaking an invariant the host must uphold) trap.
//!
//! The TypeScript host never hard-codes these numbers: `zig build bindings`
//! generates `src-ts/core/abi.generated.ts` from this enum, and the host checks a
//! checksum of all ABI constants when it instantiates the module.

pub const Status = enum(i32) {
    ok = 0,
    /// The handle table (timers, intervals and immediates together) is at `timers_max`.
    timers_full = -1,
    /// The task ingress queue holds `tasks_max` tasks.
    tasks_full = -2,
    /// The microtask queue (ring plus overflow) holds `microtasks_max` jobs.
    microtasks_full = -3,
    /// `memory.grow` failed: the engine refused more linear memory.
    out_of_memory = -4,
    /// The id is not live: never issued, already fired, or already cleared.
    stale_handle = -5,
    /// An argument is outside the range the core accepts (the host validates first).
    invalid_argument = -6,
    /// The loop is closed; it accepts nothing.
    closed = -7,
    /// The loop is shutting down gracefully and refuses new work.
    stopping = -8,
    /// A turn was begun while another turn is running (re-entrant run).
    reentrant = -9,
    /// The requested lifecycle transition is not allowed from the current state.
    illegal_transition = -10,
    /// A phase operation was called outside a turn.
    not_in_turn = -11,
    /// `zl_init` was called twice, or an export was called before `zl_init`.
    not_initialized = -12,

    pub fn code(status: Status) i32 {
        return @intFromEnum(status);
    }
};

/// Result type used inside the core: the error set mirrors `Status` one to one.
pub const Error = error{
    TimersFull,
    TasksFull,
    MicrotasksFull,
    OutOfMemory,
    StaleHandle,
    InvalidArgument,
    Closed,
    Stopping,
    Reentrant,
    IllegalTransition,
    NotInTurn,
    NotInitialized,
};

pub fn from_error(err: Error) Status {
    return switch (err) {
        error.TimersFull => .timers_full,
        error.TasksFull => .tasks_full,
        error.MicrotasksFull => .microtasks_full,
        error.OutOfMemory => .out_of_memory,
        error.StaleHandle => .stale_handle,
        error.InvalidArgument => .invalid_argument,
        error.Closed => .closed,
        error.Stopping => .stopping,
        error.Reentrant => .reentrant,
        error.IllegalTransition => .illegal_transition,
        error.NotInTurn => .not_in_turn,
        error.NotInitialized => .not_initialized,
    };
}

test "every error maps to a distinct negative status" {
    const std = @import("std");
    var seen = std.AutoHashMap(i32, void).init(std.testing.allocator);
    defer seen.deinit();
    inline for (@typeInfo(Error).error_set.error_names.?) |name| {
        const status = from_error(@field(Error, name));
        try std.testing.expect(status.code() < 0);
        try std.testing.expect(!seen.contains(status.code()));
        try seen.put(status.code(), {});
    }
}
