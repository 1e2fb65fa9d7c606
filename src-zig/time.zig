//! Time inside the core: integer ticks of one microsecond.
//!
//! The core never reads a clock. The host passes `now` in milliseconds as an f64
//! (performance.now()-style, or a virtual clock) and the core converts it here.
//! Conversions round so that nothing fires early:
//! - the current time rounds *down* (`now_ticks`): a deadline is due only when
//!   the clock has really reached it;
//! - a deadline is computed from the current time rounded *up* (`deadline_ticks`),
//!   so a timer never fires before `delay` has elapsed since the time it counts
//!   from: the loop time the host passed (read once per turn, like libuv's
//!   `uv_now`), or a fresh reading passed to `timer_schedule_at`.
//! Everything saturates at `ticks_max` instead of wrapping.

const std = @import("std");

pub const Ticks = u64;
pub const ticks_per_ms: u64 = 1000;

/// About 146,000 years; far beyond any clock, small enough that adding the
/// longest delay can never overflow a u64.
pub const ticks_max: Ticks = 1 << 62;

/// The longest delay the core accepts, in milliseconds: 2^31 - 1, the WebIDL
/// `long` maximum that HTML and Node both use as their timer limit.
pub const delay_ms_max: u32 = std.math.maxInt(i32);

/// Converts a host time in milliseconds to ticks, rounding down.
/// Returns null for NaN, negative or infinite input.
pub fn now_ticks(now_ms: f64) ?Ticks {
    if (!(now_ms >= 0) or std.math.isInf(now_ms)) return null;
    const scaled = now_ms * @as(f64, @floatFromInt(ticks_per_ms));
    if (scaled >= @as(f64, @floatFromInt(ticks_max))) return ticks_max;
    return @intFromFloat(@floor(scaled));
}

/// Rounds a host time up to ticks (used as the base of a new deadline).
pub fn now_ticks_ceil(now_ms: f64) ?Ticks {
    if (!(now_ms >= 0) or std.math.isInf(now_ms)) return null;
    const scaled = now_ms * @as(f64, @floatFromInt(ticks_per_ms));
    if (scaled >= @as(f64, @floatFromInt(ticks_max))) return ticks_max;
    return @intFromFloat(@ceil(scaled));
}

/// The deadline for a delay of `delay_ms` whole milliseconds starting at `base`.
pub fn deadline_ticks(base: Ticks, delay_ms: u32) Ticks {
    std.debug.assert(base <= ticks_max);
    const delay: Ticks = @as(Ticks, delay_ms) * ticks_per_ms;
    return @min(base + delay, ticks_max);
}

pub fn to_ms(ticks: Ticks) f64 {
    return @as(f64, @floatFromInt(ticks)) / @as(f64, @floatFromInt(ticks_per_ms));
}

test "now rounds down and deadlines round up, so nothing fires early" {
    const t = std.testing;
    try t.expectEqual(@as(?Ticks, 1500), now_ticks(1.5));
    try t.expectEqual(@as(?Ticks, 1), now_ticks(0.0019));
    try t.expectEqual(@as(?Ticks, 2), now_ticks_ceil(0.0011));
    // Scheduled at 0.0009 ms with 1 ms delay: due no earlier than 1.0009 ms.
    const deadline = deadline_ticks(now_ticks_ceil(0.0009).?, 1);
    try t.expect(deadline >= 1001);
    try t.expect(now_ticks(1.0009).? < deadline + 1);
}

test "invalid and huge times are rejected or saturate" {
    const t = std.testing;
    try t.expectEqual(@as(?Ticks, null), now_ticks(std.math.nan(f64)));
    try t.expectEqual(@as(?Ticks, null), now_ticks(-1));
    try t.expectEqual(@as(?Ticks, null), now_ticks(std.math.inf(f64)));
    try t.expectEqual(@as(?Ticks, ticks_max), now_ticks(1e300));
    try t.expectEqual(ticks_max, deadline_ticks(ticks_max, delay_ms_max));
    try t.expectEqual(@as(f64, 1.5), to_ms(1500));
}
