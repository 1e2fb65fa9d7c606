//! Benchmark engine "per-duration lists": Node's design (lib/internal/timers.js). One
//! FIFO list per distinct duration: a timer whose duration is in use is appended in
//! O(1) and is in order, because every timer of a list counts from a later time than
//! the one before it. A 4-ary heap orders the lists by their head timer; a hash map
//! finds a duration's list. Random durations make it a heap of one-timer lists.
//! Memory is provisioned for the worst case (one list per timer).

const std = @import("std");
const engine = @import("engine.zig");
const Ticks = engine.Ticks;

const Node = extern struct {
    deadline: Ticks align(4),
    id: u32,
    seq: u32,
    next: u32,
    prev: u32,
    /// Its list's index, or `free`.
    list: u32,
};

const List = extern struct { delay: u32, head: u32, tail: u32, pos: u32 };

const nil: u32 = std.math.maxInt(u32) - 1;
const free: u32 = std.math.maxInt(u32);
const arity = 4;

fn is_free(node: *const Node) bool {
    return node.list == free;
}

pub const DurationEngine = struct {
    pub const name = "per-duration lists";
    /// Node + list + heap slot + two map cells, provisioned per slot.
    pub const bytes_per_slot = @sizeOf(Node) + @sizeOf(List) + 4 + 2 * 8;

    nodes: []Node,
    lists: []List,
    free_lists: []u32,
    free_count: u32,
    heap: []u32,
    heap_len: u32 = 0,
    /// Open addressing, linear probing: (delay + 1, list) pairs; key 0 = empty.
    map: []u64,
    count: u32 = 0,
    next_id: u32 = 1,
    seq: u32 = 0,

    pub fn init(self: *DurationEngine, allocator: std.mem.Allocator, capacity: u32) !void {
        const nodes = try allocator.alloc(Node, capacity);
        for (nodes) |*node| node.list = free;
        const free_lists = try allocator.alloc(u32, capacity);
        for (free_lists, 0..) |*item, i| item.* = @intCast(capacity - 1 - i);
        const map = try allocator.alloc(u64, capacity * 2);
        @memset(map, 0);
        self.* = .{ .nodes = nodes, .lists = try allocator.alloc(List, capacity), .free_lists = free_lists, .free_count = capacity, .heap = try allocator.alloc(u32, capacity), .map = map };
    }

    pub fn deinit(self: *DurationEngine, allocator: std.mem.Allocator) void {
        allocator.free(self.nodes);
        allocator.free(self.lists);
        allocator.free(self.free_lists);
        allocator.free(self.heap);
        allocator.free(self.map);
    }

    fn list_before(self: *const DurationEngine, a: u32, b: u32) bool {
        const x = &self.nodes[self.lists[a].head];
        const y = &self.nodes[self.lists[b].head];
        if (x.deadline != y.deadline) return x.deadline < y.deadline;
        return engine.seq_before(x.seq, y.seq);
    }

    fn map_find(self: *const DurationEngine, delay: u32) ?usize {
        const mask = self.map.len - 1;
        var i = (@as(usize, delay) *% 0x9E3779B1) & mask;
        while (self.map[i] != 0) : (i = (i + 1) & mask) {
            if (@as(u32, @truncate(self.map[i] >> 32)) == delay + 1) return i;
        }
        return null;
    }

    fn map_put(self: *DurationEngine, delay: u32, list: u32) void {
        const mask = self.map.len - 1;
        var i = (@as(usize, delay) *% 0x9E3779B1) & mask;
        while (self.map[i] != 0) i = (i + 1) & mask;
        self.map[i] = (@as(u64, delay + 1) << 32) | list;
    }

    /// Backward-shift deletion keeps probe sequences unbroken without tombstones.
    fn map_remove(self: *DurationEngine, at: usize) void {
        const mask = self.map.len - 1;
        var hole = at;
        var i = (at + 1) & mask;
        while (self.map[i] != 0) : (i = (i + 1) & mask) {
            const delay: u32 = @truncate((self.map[i] >> 32) - 1);
            const home = (@as(usize, delay) *% 0x9E3779B1) & mask;
            const distance_i = (i -% home) & mask;
            const distance_hole = (hole -% home) & mask;
            if (distance_hole <= distance_i) {
                self.map[hole] = self.map[i];
                hole = i;
            }
        }
        self.map[hole] = 0;
    }

    pub fn schedule(self: *DurationEngine, now: Ticks, delay_ms: u32) u32 {
        const id = engine.alloc_id(Node, self.nodes, &self.next_id, is_free);
        const s = id & @as(u32, @intCast(self.nodes.len - 1));
        self.seq +%= 1;
        const deadline = now + @as(Ticks, delay_ms) * engine.ticks_per_ms;
        const found = self.map_find(delay_ms);
        const list = if (found) |at| @as(u32, @truncate(self.map[at])) else self.new_list(delay_ms);
        const l = &self.lists[list];
        self.nodes[s] = .{ .deadline = deadline, .id = id, .seq = self.seq, .next = nil, .prev = l.tail, .list = list };
        if (l.tail == nil) {
            l.head = s;
            l.tail = s;
            self.heap_push(list);
        } else {
            std.debug.assert(self.nodes[l.tail].deadline <= deadline);
            self.nodes[l.tail].next = s;
            l.tail = s;
        }
        self.count += 1;
        return id;
    }

    fn new_list(self: *DurationEngine, delay: u32) u32 {
        self.free_count -= 1;
        const list = self.free_lists[self.free_count];
        self.lists[list] = .{ .delay = delay, .head = nil, .tail = nil, .pos = 0 };
        self.map_put(delay, list);
        return list;
    }

    pub fn cancel(self: *DurationEngine, id: u32) void {
        const s = id & @as(u32, @intCast(self.nodes.len - 1));
        const node = self.nodes[s];
        std.debug.assert(node.id == id and node.list != free);
        const l = &self.lists[node.list];
        if (node.prev != nil) self.nodes[node.prev].next = node.next else l.head = node.next;
        if (node.next != nil) self.nodes[node.next].prev = node.prev else l.tail = node.prev;
        self.nodes[s].list = free;
        self.count -= 1;
        if (l.head == nil) {
            self.heap_remove(l.pos);
            self.map_remove(self.map_find(l.delay).?);
            self.free_lists[self.free_count] = node.list;
            self.free_count += 1;
        } else if (node.prev == nil) {
            self.sift_down(l.pos, node.list);
        }
    }

    pub fn collect(self: *DurationEngine, now: Ticks, out: []u32) u32 {
        var count: u32 = 0;
        while (count < out.len and self.heap_len > 0) {
            const head = &self.nodes[self.lists[self.heap[0]].head];
            if (head.deadline > now) break;
            out[count] = head.id;
            count += 1;
            self.cancel(head.id);
        }
        return count;
    }

    pub fn next_deadline(self: *DurationEngine, now: Ticks) ?Ticks {
        _ = now;
        if (self.heap_len == 0) return null;
        return self.nodes[self.lists[self.heap[0]].head].deadline;
    }

    pub fn len(self: *const DurationEngine) u32 {
        return self.count;
    }

    fn heap_push(self: *DurationEngine, list: u32) void {
        const pos = self.heap_len;
        self.heap_len += 1;
        self.sift_up(pos, list);
    }

    fn heap_remove(self: *DurationEngine, pos: u32) void {
        self.heap_len -= 1;
        if (pos == self.heap_len) return;
        const moved = self.heap[self.heap_len];
        if (pos > 0 and self.list_before(moved, self.heap[(pos - 1) / arity])) self.sift_up(pos, moved) else self.sift_down(pos, moved);
    }

    fn place(self: *DurationEngine, pos: u32, list: u32) void {
        self.heap[pos] = list;
        self.lists[list].pos = pos;
    }

    fn sift_up(self: *DurationEngine, start: u32, list: u32) void {
        var pos = start;
        while (pos > 0) {
            const parent = (pos - 1) / arity;
            if (!self.list_before(list, self.heap[parent])) break;
            self.place(pos, self.heap[parent]);
            pos = parent;
        }
        self.place(pos, list);
    }

    fn sift_down(self: *DurationEngine, start: u32, list: u32) void {
        var pos = start;
        while (true) {
            const first = pos * arity + 1;
            if (first >= self.heap_len) break;
            var best = first;
            for (first + 1..@min(first + arity, self.heap_len)) |c| {
                if (self.list_before(self.heap[c], self.heap[best])) best = @intCast(c);
            }
            if (!self.list_before(self.heap[best], list)) break;
            self.place(pos, self.heap[best]);
            pos = best;
        }
        self.place(pos, list);
    }
};
