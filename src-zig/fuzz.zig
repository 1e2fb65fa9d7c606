//! Settings shared by the seeded model-based fuzz tests.
//!
//! Every structure has a `test "fuzz: ..."` block that drives it and a trivially
//! correct model with the same random operations and compares them after each step.
//! `zig build test` runs `ops_count()` operations per structure (100,000 by default);
//! CI runs 1,000,000 (`npm run test:zig:long`); a longer run is one flag away:
//! `zig build test -Dfuzz-ops=10000000 -Dfuzz-seed=7`.

const options = @import("fuzz_options");

pub fn ops_count() usize {
    return @intCast(options.ops);
}

pub fn seed() u64 {
    return options.seed;
}
