//! Root of `zig build test`: pulls in the tests of every file of the core.

test {
    _ = @import("status.zig");
    _ = @import("time.zig");
    _ = @import("handle_table.zig");
    _ = @import("timer_heap.zig");
    _ = @import("timer_wheel.zig");
    _ = @import("chunk_pool.zig");
    _ = @import("task_queue.zig");
    _ = @import("microtask_ring.zig");
    _ = @import("histogram.zig");
    _ = @import("arena.zig");
    _ = @import("loop.zig");
    _ = @import("abi.zig");
}
