//! Log-linear histogram of non-negative integer values (ticks: microseconds).
//!
//! Values below 2^sub_bits are counted exactly. Above, each power-of-two range
//! [2^e, 2^(e+1)) is split into 2^sub_bits equal sub-buckets, so a recorded value
//! is known to within 1/2^sub_bits (3.1%) of itself, the HdrHistogram scheme.
//! Values at or above 2^exponent_max land in the last bucket (and still count in
//! min/max/mean exactly).
//!
//! Costs: record O(1) (a count-leading-zeros and two shifts), percentile
//! O(buckets). Memory: 8 bytes per bucket, `bucket_count` buckets.

const std = @import("std");
const assert = std.debug.assert;

pub const sub_bits = 5;
pub const sub_count: u32 = 1 << sub_bits;
/// The top of the exact range: 2^40 microseconds is about 12.7 days.
pub const exponent_max = 40;
pub const bucket_count: u32 = (exponent_max - sub_bits + 1) * sub_count + sub_count;

pub const Histogram = struct {
    counts: [bucket_count]u64,
    count: u64,
    sum: u64,
    min: u64,
    max: u64,

    /// An empty histogram. Initialized field by field (with a memset for the counts):
    /// a default-initialized struct literal makes the compiler keep a 9.5 KB template
    /// of it in the module's data section.
    pub fn reset(histogram: *Histogram) void {
        @memset(&histogram.counts, 0);
        histogram.count = 0;
        histogram.sum = 0;
        histogram.min = std.math.maxInt(u64);
        histogram.max = 0;
    }

    pub fn bucket_of(value: u64) u32 {
        if (value < sub_count) return @intCast(value);
        const exponent: u32 = 63 - @as(u32, @clz(value));
        if (exponent > exponent_max) return bucket_count - 1;
        const shift: u6 = @intCast(exponent - sub_bits);
        const mantissa: u32 = @intCast(value >> shift); // in [sub_count, 2 * sub_count)
        return (@as(u32, shift) + 1) * sub_count + (mantissa - sub_count);
    }

    /// The largest value that falls in `bucket` (HdrHistogram's "highest equivalent value").
    pub fn bucket_high(bucket: u32) u64 {
        assert(bucket < bucket_count);
        if (bucket < sub_count) return bucket;
        const shift: u6 = @intCast(bucket / sub_count - 1);
        const mantissa: u64 = bucket % sub_count + sub_count;
        return ((mantissa + 1) << shift) - 1;
    }

    pub fn record(histogram: *Histogram, value: u64) void {
        histogram.record_n(value, 1);
    }

    /// Records `value` `n` times (n ≥ 1): what `n` calls of `record(value)` do, in one step.
    pub fn record_n(histogram: *Histogram, value: u64, n: u32) void {
        assert(n >= 1);
        histogram.counts[bucket_of(value)] += n;
        histogram.count += n;
        // Saturating value * n without `*|`, which on wasm32 pulls in a 128-bit multiply helper (+0.7 KB).
        const times: u64 = n;
        const max_u64: u64 = std.math.maxInt(u64);
        histogram.sum +|= if (value > max_u64 / times) max_u64 else value * times;
        histogram.min = @min(histogram.min, value);
        histogram.max = @max(histogram.max, value);
    }

    /// The value at percentile `p` (0..100): the smallest bucket bound below which at
    /// least p% of recorded values fall, clamped to [min, max]. 0 when empty.
    pub fn percentile(histogram: *const Histogram, p: f64) u64 {
        if (histogram.count == 0) return 0;
        const wanted = rank(p, histogram.count);
        var seen: u64 = 0;
        for (histogram.counts, 0..) |count, bucket| {
            seen += count;
            if (seen >= wanted) {
                // The last bucket also holds everything past the exact range: its only
                // safe upper bound is the recorded maximum.
                if (bucket == bucket_count - 1) return histogram.max;
                return std.math.clamp(bucket_high(@intCast(bucket)), histogram.min, histogram.max);
            }
        }
        return histogram.max;
    }

    /// The rank (1..count) of percentile `p`: ceil(p * count / 100), the nearest-rank
    /// definition. In floating point, p / 100 can land above the exact quotient (99.9 / 100
    /// is 0.9990000000000001), which would make the 99.9th percentile of 1000 values the
    /// 1000th value instead of the 999th. Taking p one step down (and multiplying before
    /// dividing) keeps a product that is whole in exact arithmetic from rounding past it;
    /// one step of p moves any other product by about count * 1e-16, far less than its
    /// distance to the next integer when p has a few decimals.
    fn rank(p: f64, count: u64) u64 {
        const below = std.math.nextAfter(f64, std.math.clamp(p, 0, 100), -std.math.inf(f64));
        const wanted = @ceil(@max(below, 0) * @as(f64, @floatFromInt(count)) / 100.0);
        return std.math.clamp(@as(u64, @intFromFloat(wanted)), 1, count);
    }

    pub fn mean(histogram: *const Histogram) f64 {
        if (histogram.count == 0) return 0;
        return @as(f64, @floatFromInt(histogram.sum)) / @as(f64, @floatFromInt(histogram.count));
    }

    pub const Invariant = error{HistogramCorrupt};

    pub fn verify(histogram: *const Histogram) Invariant!void {
        var total: u64 = 0;
        for (histogram.counts) |count| total += count;
        if (total != histogram.count) return error.HistogramCorrupt;
        if (histogram.count > 0 and histogram.min > histogram.max) return error.HistogramCorrupt;
    }
};

const testing = std.testing;

test "buckets are exact below 32 and within 1/32 above" {
    var value: u64 = 0;
    while (value < 1 << 20) : (value += 7) {
        const bucket = Histogram.bucket_of(value);
        const high = Histogram.bucket_high(bucket);
        try testing.expect(high >= value);
        if (value < sub_count) try testing.expectEqual(value, high);
        try testing.expect(@as(f64, @floatFromInt(high - value)) <= @as(f64, @floatFromInt(value)) / 32.0 + 1);
        // Bucket boundaries are contiguous: high + 1 starts the next bucket.
        try testing.expectEqual(bucket + 1, Histogram.bucket_of(high + 1));
    }
    try testing.expectEqual(bucket_count - 1, Histogram.bucket_of(std.math.maxInt(u64)));
}

test "percentiles of a known distribution" {
    var histogram: Histogram = undefined;
    histogram.reset();
    var value: u64 = 1;
    while (value <= 1000) : (value += 1) histogram.record(value);
    try histogram.verify();
    try testing.expectEqual(@as(u64, 1000), histogram.count);
    try testing.expectEqual(@as(u64, 1), histogram.min);
    try testing.expectEqual(@as(u64, 1000), histogram.max);
    try testing.expectApproxEqAbs(@as(f64, 500.5), histogram.mean(), 1e-9);
    const p50 = histogram.percentile(50);
    try testing.expect(p50 >= 500 and p50 <= 516);
    const p99 = histogram.percentile(99);
    try testing.expect(p99 >= 990 and p99 <= 1000);
    try testing.expectEqual(@as(u64, 1000), histogram.percentile(100));
    try testing.expectEqual(@as(u64, 1), histogram.percentile(0));
}

test "percentiles are nearest ranks, even where p / 100 rounds up in floating point" {
    // Of 1000 values, the 99.9th percentile is the 999th. 99.9 / 100 is 0.9990000000000001
    // in f64, which once made it the 1000th: here 999 zeros and then a 31 tell them apart.
    var histogram: Histogram = undefined;
    histogram.reset();
    for (0..1000) |i| histogram.record(if (i < 999) 0 else 31);
    try testing.expectEqual(@as(u64, 0), histogram.percentile(99.9));
    try testing.expectEqual(@as(u64, 31), histogram.percentile(99.91));
    try testing.expectEqual(@as(u64, 31), histogram.percentile(100));
    try testing.expectEqual(@as(u64, 0), histogram.percentile(0));
    // The same at every count that is a multiple of 1000, up to 10^6.
    var count: u64 = 1000;
    while (count <= 1_000_000) : (count += 1000) {
        try testing.expectEqual(count - count / 1000, Histogram.rank(99.9, count));
        try testing.expectEqual(count / 2, Histogram.rank(50, count));
        try testing.expectEqual(count - count / 100, Histogram.rank(99, count));
        try testing.expectEqual(count, Histogram.rank(100, count));
        try testing.expectEqual(@as(u64, 1), Histogram.rank(0, count));
    }
    // Ranks that are not whole round up.
    try testing.expectEqual(@as(u64, 2), Histogram.rank(50, 3));
    try testing.expectEqual(@as(u64, 1000), Histogram.rank(99.9, 1001));
}

test "an empty histogram reports zeros" {
    var histogram: Histogram = undefined;
    histogram.reset();
    try testing.expectEqual(@as(u64, 0), histogram.percentile(99));
    try testing.expectEqual(@as(f64, 0), histogram.mean());
}

test "record_n(v, n) is n calls of record(v)" {
    const fuzz = @import("fuzz.zig");
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0x52e1);
    const random = prng.random();
    var once: Histogram = undefined;
    var repeated: Histogram = undefined;
    once.reset();
    repeated.reset();
    var op: usize = 0;
    while (op < @min(fuzz.ops_count(), 20_000)) : (op += 1) {
        const value: u64 = random.int(u64) >> @intCast(random.uintLessThan(u32, 64));
        const n = 1 + random.uintLessThan(u32, 40);
        once.record_n(value, n);
        for (0..n) |_| repeated.record(value);
    }
    try testing.expectEqualSlices(u64, &repeated.counts, &once.counts);
    try testing.expectEqual(repeated.count, once.count);
    try testing.expectEqual(repeated.sum, once.sum);
    try testing.expectEqual(repeated.min, once.min);
    try testing.expectEqual(repeated.max, once.max);
}

test "fuzz: histogram percentiles against the exact sorted values" {
    const fuzz = @import("fuzz.zig");
    var prng = std.Random.DefaultPrng.init(fuzz.seed() ^ 0x4157);
    const random = prng.random();
    const gpa = testing.allocator;
    var histogram: Histogram = undefined;
    histogram.reset();
    var model: std.ArrayListUnmanaged(u64) = .empty;
    defer model.deinit(gpa);
    const ops = fuzz.ops_count();
    var op: usize = 0;
    while (op < ops) : (op += 1) {
        // Mostly small latencies, some large, a few enormous (past the exact range).
        const value: u64 = switch (random.uintLessThan(u32, 10)) {
            0...5 => random.uintLessThan(u64, 100),
            6...8 => random.uintLessThan(u64, 1 << 30),
            else => random.int(u64) >> @intCast(random.uintLessThan(u32, 20)),
        };
        histogram.record(value);
        try model.append(gpa, value);
        if (op % 4096 != 4095 and op + 1 != ops) continue;
        // Check every few thousand values: counts, extremes, and percentiles within 1/32.
        const sorted = try gpa.dupe(u64, model.items);
        defer gpa.free(sorted);
        std.mem.sort(u64, sorted, {}, std.sort.asc(u64));
        try testing.expectEqual(@as(u64, sorted.len), histogram.count);
        try testing.expectEqual(sorted[0], histogram.min);
        try testing.expectEqual(sorted[sorted.len - 1], histogram.max);
        // Percentiles in tenths of a percent, so the model's nearest rank is exact integer arithmetic.
        for ([_]u64{ 0, 10, 500, 900, 990, 999, 1000 }) |per_mille| {
            const rank = @max(1, (per_mille * sorted.len + 999) / 1000);
            const exact = sorted[rank - 1];
            const reported = histogram.percentile(@as(f64, @floatFromInt(per_mille)) / 10.0);
            try testing.expect(reported >= exact);
            if (exact >> exponent_max == 0) {
                // Inside the exact range: at most one bucket (1/32 of the value) above.
                try testing.expect(reported - exact <= exact / sub_count + 1);
            }
        }
        try histogram.verify();
    }
}
