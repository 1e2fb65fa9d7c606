//! Benchmark engine "pairing": an intrusive pairing heap (Fredman, Sedgewick, Sleator,
//! Tarjan 1986) over 32-byte records: insert and meld O(1), pop and remove O(log n)
//! amortized, two-pass merge of the children. No array: every link is in the record.

const std = @import("std");
const engine = @import("engine.zig");
const Ticks = engine.Ticks;

const Node = extern struct {
    deadline: Ticks,
    id: u32,
    seq: u32,
    child: u32,
    sibling: u32,
    /// The parent if this is a first child, else the left sibling; `free` marks a free slot.
    prev: u32,
    delay: u32,
};

const nil: u32 = std.math.maxInt(u32) - 1;
const free: u32 = std.math.maxInt(u32);

fn before(a: *const Node, b: *const Node) bool {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return engine.seq_before(a.seq, b.seq);
}

fn is_free(node: *const Node) bool {
    return node.prev == free;
}

pub const PairingEngine = struct {
    pub const name = "pairing heap";
    pub const bytes_per_slot = @sizeOf(Node);

    nodes: []Node,
    root: u32 = nil,
    count: u32 = 0,
    next_id: u32 = 1,
    seq: u32 = 0,

    pub fn init(self: *PairingEngine, allocator: std.mem.Allocator, capacity: u32) !void {
        const nodes = try allocator.alloc(Node, capacity);
        for (nodes) |*node| node.prev = free;
        self.* = .{ .nodes = nodes };
    }

    pub fn deinit(self: *PairingEngine, allocator: std.mem.Allocator) void {
        allocator.free(self.nodes);
    }

    fn slot(self: *const PairingEngine, id: u32) u32 {
        return id & @as(u32, @intCast(self.nodes.len - 1));
    }

    pub fn schedule(self: *PairingEngine, now: Ticks, delay_ms: u32) u32 {
        const id = engine.alloc_id(Node, self.nodes, &self.next_id, is_free);
        const s = self.slot(id);
        self.seq +%= 1;
        self.nodes[s] = .{ .deadline = now + @as(Ticks, delay_ms) * engine.ticks_per_ms, .id = id, .seq = self.seq, .child = nil, .sibling = nil, .prev = nil, .delay = delay_ms };
        self.root = if (self.root == nil) s else self.meld(self.root, s);
        self.count += 1;
        return id;
    }

    /// Melds two roots (prev and sibling nil); returns the new root.
    fn meld(self: *PairingEngine, a: u32, b: u32) u32 {
        const parent, const child = if (before(&self.nodes[b], &self.nodes[a])) .{ b, a } else .{ a, b };
        const first = self.nodes[parent].child;
        self.nodes[child].sibling = first;
        if (first != nil) self.nodes[first].prev = child;
        self.nodes[child].prev = parent;
        self.nodes[parent].child = child;
        return parent;
    }

    /// Two-pass merge of a sibling list; returns its new root (prev nil) or nil.
    fn merge_siblings(self: *PairingEngine, first: u32) u32 {
        if (first == nil) return nil;
        var stack: u32 = nil;
        var cursor = first;
        while (cursor != nil) {
            const a = cursor;
            const b = self.nodes[a].sibling;
            var merged = a;
            self.nodes[a].sibling = nil;
            self.nodes[a].prev = nil;
            if (b != nil) {
                cursor = self.nodes[b].sibling;
                self.nodes[b].sibling = nil;
                self.nodes[b].prev = nil;
                merged = self.meld(a, b);
            } else cursor = nil;
            self.nodes[merged].sibling = stack;
            stack = merged;
        }
        var result = stack;
        stack = self.nodes[result].sibling;
        self.nodes[result].sibling = nil;
        while (stack != nil) {
            const next = self.nodes[stack].sibling;
            self.nodes[stack].sibling = nil;
            result = self.meld(result, stack);
            stack = next;
        }
        self.nodes[result].prev = nil;
        return result;
    }

    pub fn cancel(self: *PairingEngine, id: u32) void {
        const s = self.slot(id);
        std.debug.assert(self.nodes[s].id == id and !is_free(&self.nodes[s]));
        if (s == self.root) {
            self.root = self.merge_siblings(self.nodes[s].child);
        } else {
            const node = self.nodes[s];
            if (self.nodes[node.prev].child == s) self.nodes[node.prev].child = node.sibling else self.nodes[node.prev].sibling = node.sibling;
            if (node.sibling != nil) self.nodes[node.sibling].prev = node.prev;
            const sub = self.merge_siblings(node.child);
            if (sub != nil) self.root = self.meld(self.root, sub);
        }
        self.nodes[s].prev = free;
        self.count -= 1;
    }

    pub fn collect(self: *PairingEngine, now: Ticks, out: []u32) u32 {
        var count: u32 = 0;
        while (count < out.len and self.root != nil) {
            const top = &self.nodes[self.root];
            if (top.deadline > now) break;
            out[count] = top.id;
            count += 1;
            self.cancel(top.id);
        }
        return count;
    }

    pub fn next_deadline(self: *PairingEngine, now: Ticks) ?Ticks {
        _ = now;
        return if (self.root == nil) null else self.nodes[self.root].deadline;
    }

    pub fn len(self: *const PairingEngine) u32 {
        return self.count;
    }
};
