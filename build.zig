//! zigloop's build. The Zig version is pinned in build.zig.zon (`minimum_zig_version`)
//! and installed from PyPI by scripts/zig.mjs; see wasm/README.md.
//!
//!   zig build              build wasm/zigloop.wasm and src-ts/core/abi.generated.ts
//!   zig build wasm         only the module (written into wasm/, committed)
//!   zig build bindings     only the generated TypeScript ABI constants
//!   zig build test         unit tests and seeded model-based fuzz of every structure
//!       -Dfuzz-ops=N       operations per fuzzed structure (default 100000)
//!       -Dfuzz-seed=N      PRNG seed (default 0x5eed)
//!   zig build bench        native benchmark of the timer engines (src-zig/bench_timers.zig);
//!                          arguments after `--` pick sizes and workloads
//!   zig build bench-wasm   the same engines as one wasm each, for bench/engines.mjs

const std = @import("std");

pub fn build(b: *std.Build) void {
    const fuzz_ops = b.option(u64, "fuzz-ops", "Random operations per fuzzed structure") orelse 100_000;
    const fuzz_seed = b.option(u64, "fuzz-seed", "Seed of the fuzz tests' PRNG") orelse 0x5eed;
    const test_optimize = b.option(std.builtin.OptimizeMode, "test-optimize", "Optimization of the test binary") orelse .safe;

    // The module: wasm32-freestanding, small stack, no entry point, stripped.
    const wasm_target = b.resolveTargetQuery(.{
        .cpu_arch = .wasm32,
        .os_tag = .freestanding,
        // Only features every runtime we support has had for years.
        .cpu_features_add = std.Target.wasm.featureSet(&.{ .bulk_memory, .mutable_globals, .sign_ext, .nontrapping_fptoint, .multivalue }),
    });
    const wasm = b.addExecutable(.{
        .name = "zigloop",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src-zig/abi.zig"),
            .target = wasm_target,
            .optimize = .fast,
            .strip = true,
            .single_threaded = true,
        }),
    });
    wasm.entry = .disabled;
    wasm.rdynamic = true;
    wasm.stack_size = 16 * 1024;

    const update_wasm = b.addUpdateSourceFiles();
    update_wasm.addCopyFileToSource(wasm.getEmittedBin(), "wasm/zigloop.wasm");
    const wasm_step = b.step("wasm", "Build wasm/zigloop.wasm");
    wasm_step.dependOn(&update_wasm.step);

    // The bindings generator runs natively and prints the TypeScript constants.
    const generator = b.addExecutable(.{
        .name = "gen_bindings",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src-zig/gen_bindings.zig"),
            .target = b.graph.host,
            .optimize = .debug,
        }),
    });
    const run_generator = b.addRunArtifact(generator);
    const update_bindings = b.addUpdateSourceFiles();
    update_bindings.addCopyFileToSource(run_generator.captureStdOut(.{}), "src-ts/core/abi.generated.ts");
    const bindings_step = b.step("bindings", "Generate src-ts/core/abi.generated.ts");
    bindings_step.dependOn(&update_bindings.step);

    b.getInstallStep().dependOn(wasm_step);
    b.getInstallStep().dependOn(bindings_step);

    const fuzz_options = b.addOptions();
    fuzz_options.addOption(u64, "ops", fuzz_ops);
    fuzz_options.addOption(u64, "seed", fuzz_seed);
    const test_module = b.createModule(.{
        .root_source_file = b.path("src-zig/tests.zig"),
        .target = b.graph.host,
        .optimize = test_optimize,
    });
    test_module.addOptions("fuzz_options", fuzz_options);
    const tests = b.addTest(.{ .root_module = test_module });
    const run_tests = b.addRunArtifact(tests);
    const test_step = b.step("test", "Run the core's unit and fuzz tests");
    test_step.dependOn(&run_tests.step);

    // The timer engines side by side, natively (ReleaseFast): not part of the wasm.
    const bench = b.addExecutable(.{
        .name = "bench_timers",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src-zig/bench_timers.zig"),
            .target = b.graph.host,
            .optimize = .ReleaseFast,
        }),
    });
    const run_bench = b.addRunArtifact(bench);
    run_bench.addPassthruArgs();
    const bench_step = b.step("bench", "Benchmark the timer engines natively");
    bench_step.dependOn(&run_bench.step);

    // The same engines compiled like the core (ReleaseFast wasm32), one module each.
    const bench_wasm_step = b.step("bench-wasm", "Build zig-out/bench/engine_*.wasm for bench/engines.mjs");
    const Engine = enum { heap, wheel, pairing, durations };
    for (std.enums.values(Engine)) |engine| {
        const engine_options = b.addOptions();
        engine_options.addOption(Engine, "engine", engine);
        const module = b.createModule(.{
            .root_source_file = b.path("src-zig/bench_wasm.zig"),
            .target = wasm_target,
            .optimize = .fast,
            .strip = true,
            .single_threaded = true,
        });
        module.addOptions("bench_options", engine_options);
        const exe = b.addExecutable(.{ .name = b.fmt("engine_{s}", .{@tagName(engine)}), .root_module = module });
        exe.entry = .disabled;
        exe.rdynamic = true;
        const install = b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } });
        bench_wasm_step.dependOn(&install.step);
    }
}
