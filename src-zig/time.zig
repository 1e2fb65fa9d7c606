//! Time inside the core: integer ticks of one microsecond.
//!
//! The core never reads a clock. The host passes times as f64 *microseconds* and gets
//! deadlines back in microseconds: every integer up to 2^53 is an exact f64, so a time
//! crosses the boundary both ways without rounding (in milliseconds it could not:
//! 1.001 ms is 1000.9999999999999 µs as a double, and a timer due at 1001 µs would never
//! be due at the deadline the core itself reported). The accepted range ends at 2^53 µs
//! (about 285 years), where that stops being true; the host rejects later times.
//! Conversions round so that nothing fires early:
//! - the current time rounds *down* (`now_ticks`): a deadline is due only when
//!   the clock has really reached it;
//! - a deadline is computed from the current time rounded *up* (`now_ticks_ceil`),
//!   so a timer never fires before `delay` has elapsed since the time it counts
//!   from: the loop time the host passed (read once per turn, like libuv's
//!   `uv_now`), or a fresh reading passed to `timer_schedule_at`.
//! Deadlines saturate at `ticks_max` instead of wrapping.

const std = @import("std");

pub const Ticks = u64;
pub const ticks_per_ms: u64 = 1000;

/// 2^53 µs (about 285 years): the last time at which every microsecond is an exact
/// f64, so the host and the core agree on every time they exchange.
pub const ticks_max: Ticks = 1 << 53;

/// The longest delay the core accepts, in milliseconds: 2^31 - 1, the WebIDL
/// `long` maximum that HTML and Node both use as their timer limit.
pub const delay_ms_max: u32 = std.math.maxInt(i32);

/// Converts a host time in microseconds to ticks, rounding down.
/// Returns null for NaN, negative or infinite input; saturates at `ticks_max`.
pub fn now_ticks(now_us: f64) ?Ticks {
    if (!(now_us >= 0) or std.math.isInf(now_us)) return null;
    if (now_us >= @as(f64, @floatFromInt(ticks_max))) return ticks_max;
    return @intFromFloat(@floor(now_us));
}

/// Rounds a host time up to ticks (used as the base of a new deadline).
pub fn now_ticks_ceil(now_us: f64) ?Ticks {
    if (!(now_us >= 0) or std.math.isInf(now_us)) return null;
    if (now_us >= @as(f64, @floatFromInt(ticks_max))) return ticks_max;
    return @intFromFloat(@ceil(now_us));
}

/// The deadline for a delay of `delay_ms` whole milliseconds starting at `base`.
pub fn deadline_ticks(base: Ticks, delay_ms: u32) Ticks {
    std.debug.assert(base <= ticks_max);
    const delay: Ticks = @as(Ticks, delay_ms) * ticks_per_ms;
    return @min(base + delay, ticks_max);
}

/// A time for the host, in microseconds: exact for every tick up to `ticks_max`.
pub fn to_host(ticks: Ticks) f64 {
    std.debug.assert(ticks <= ticks_max);
    return @floatFromInt(ticks);
}

test "now rounds down and deadlines round up, so nothing fires early" {
    const t = std.testing;
    try t.expectEqual(@as(?Ticks, 1500), now_ticks(1500.5));
    try t.expectEqual(@as(?Ticks, 1), now_ticks(1.9));
    try t.expectEqual(@as(?Ticks, 2), now_ticks_ceil(1.1));
    // Scheduled at 0.9 µs with 1 ms delay: due no earlier than 1000.9 µs.
    const deadline = deadline_ticks(now_ticks_ceil(0.9).?, 1);
    try t.expect(deadline >= 1001);
    try t.expect(now_ticks(1000.9).? < deadline);
}

test "every tick crosses the boundary exactly, up to ticks_max" {
    const t = std.testing;
    var prng = std.Random.DefaultPrng.init(0x7133);
    const random = prng.random();
    for (0..100_000) |_| {
        const tick = random.uintAtMost(Ticks, ticks_max);
        try t.expectEqual(@as(?Ticks, tick), now_ticks(to_host(tick)));
        try t.expectEqual(@as(?Ticks, tick), now_ticks_ceil(to_host(tick)));
    }
    try t.expectEqual(@as(?Ticks, ticks_max), now_ticks(to_host(ticks_max)));
}

test "invalid and huge times are rejected or saturate" {
    const t = std.testing;
    try t.expectEqual(@as(?Ticks, null), now_ticks(std.math.nan(f64)));
    try t.expectEqual(@as(?Ticks, null), now_ticks(-1));
    try t.expectEqual(@as(?Ticks, null), now_ticks(std.math.inf(f64)));
    try t.expectEqual(@as(?Ticks, ticks_max), now_ticks(1e300));
    try t.expectEqual(ticks_max, deadline_ticks(ticks_max, delay_ms_max));
    try t.expectEqual(@as(f64, 1500), to_host(1500));
}
