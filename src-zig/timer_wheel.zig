//! Timer wheel: the core's timer engine. It keeps every armed timer and hands them
//! out in exact (deadline, start sequence) order, with O(1) schedule and cancel and
//! a cost per fired timer that does not grow with the number of timers pending.
//!
//! It owns no per-timer memory: its lists are linked through the handle table's
//! records (`Record.next`/`prev`, slot indices), which also hold each key. A new timer
//! is first *staged*: listed in a 256-entry array and placed by the next `first` or
//! `peek` (the next turn, or the next read of the next deadline), so one cleared in the
//! same host task (most timeouts of a busy server) costs two array writes. Then three
//! parts:
//!
//! - The *wheel*: `levels` levels of `slots` buckets; a bucket is an unordered
//!   circular doubly linked list. A level-0 bucket spans 2^tick_shift ticks (1.024 ms),
//!   each level up `slots` times more. A timer due at `d >= horizon` goes to the bucket
//!   named by the highest bit in which `d` and `origin` differ above `tick_shift`
//!   (the placement rule of tokio's and Linux's wheels): level k holds timers that
//!   share origin's level-(k+1) window and lie in a later level-k bucket. So the
//!   lowest non-empty level's lowest non-empty bucket holds the wheel's earliest
//!   timers, found with a few bit scans.
//! - The *near list*: the timers due before `horizon = origin + 2^tick_shift`,
//!   sorted by (deadline, seq), circular and doubly linked. Popping is O(1).
//! - The *inbox*: a 4-ary heap of up to `inbox_capacity` entries (the key copied
//!   inline, as the old timer heap kept it, so comparisons touch no record) for timers
//!   due before the horizon that belong neither after the near list's tail nor before
//!   its head (random short delays). When it is full it is merged into the near list.
//!
//! Refill: when the near list and the inbox are empty and a due timer is wanted
//! (`first(now)`), the wheel's earliest bucket is taken if it starts by `now`, and
//! `origin` moves to its start. A level-0 bucket's list becomes the near list and is
//! put in order (one walk when it already is: timers of one duration arrive in order;
//! else a natural merge sort). A higher bucket's timers are re-placed relative to the
//! new origin, into lower levels or the near list ("cascading"); a timer cascades at
//! most `levels - 1` times in its life.
//!
//! The exact next deadline (`peek(now)`) never moves `origin` past `now`: a bucket that
//! starts later is searched and its earliest timer cached, its 16 earliest when it is
//! searched again (an append that comes before the last cached one enters; removing one
//! drops it; only an empty cache searches again). Were `origin` to run ahead of the loop's time,
//! every short timer scheduled afterwards would land before the horizon, in the inbox
//! instead of the wheel: the host reads the next deadline on every wake-up, so that
//! would be the common case. Searching the same bucket again within fewer than
//! len/8 operations (a pattern that cancels each new minimum: FIFO timeouts) cascades
//! it instead, which bounds the searching to O(1) amortized per operation.
//!
//! Invariants (`verify`): `origin` is a multiple of 2^tick_shift; every near-list and
//! inbox timer is due before the horizon, every wheel timer at or after it and in
//! the bucket `bucket_of(deadline)` names for the current origin; the near list is
//! sorted; the inbox is a heap; a bucket is marked occupied iff its list is non-empty;
//! links are mutual; the three counts match the lists.
//!
//! Costs: insert O(1) (staged; placed later in O(1), or O(log inbox_capacity) in the
//! inbox); remove O(1) or O(log inbox_capacity); `first` O(1) plus refills, each O(bucket), amortized
//! O(levels) per timer; a full inbox merge is O(near list). Memory: the record's 28
//! bytes, plus `levels * slots` list heads and the inbox, fixed.

const std = @import("std");
const assert = std.debug.assert;
const time = @import("time.zig");
const Ticks = time.Ticks;
const handle_table = @import("handle_table.zig");
const Record = handle_table.Record;
const State = handle_table.State;
const nil = handle_table.link_nil;

/// True when sequence `a` was issued before `b` (wrapping comparison): ties are
/// ordered correctly while the live timers' sequences span fewer than 2^31 starts.
pub fn seq_before(a: u32, b: u32) bool {
    return @as(i32, @bitCast(a -% b)) < 0;
}

/// Timer order: deadline, then start sequence.
pub fn key_before(a: *const Record, b: *const Record) bool {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return seq_before(a.seq, b.seq);
}

pub const Config = struct {
    /// log2 of a level-0 bucket's span in ticks.
    tick_shift: u6 = 10,
    /// log2 of the buckets per level.
    slot_bits: u4 = 8,
    inbox_capacity: u32 = 512,
    staging_capacity: u32 = 256,
};

pub const TimerWheel = TimerWheelType(.{});

pub fn TimerWheelType(comptime config: Config) type {
    return struct {
        const Wheel = @This();
        pub const tick_shift = config.tick_shift;
        pub const slot_bits = config.slot_bits;
        pub const slots: u32 = 1 << slot_bits;
        /// Enough levels for every deadline up to `time.ticks_max` (6 for 2^53 ticks with
        /// the default 2^10-tick buckets and 256 buckets per level).
        pub const levels: u32 = (key_bits - @as(u32, tick_shift) + slot_bits - 1) / slot_bits;
        const key_bits: u32 = std.math.log2_int(Ticks, time.ticks_max) + 1;
        pub const inbox_capacity = config.inbox_capacity;
        pub const staging_capacity = config.staging_capacity;
        const words = (slots + 63) / 64;
        const arity = 4;

        comptime {
            assert(inbox_capacity >= arity);
            assert(@as(u32, tick_shift) + levels * slot_bits >= key_bits);
            assert(@as(u32, tick_shift) + (levels - 1) * slot_bits <= 63);
        }

        const Bucket = struct { level: u32, slot: u32 };
        /// The earliest timers of one bucket that starts after `now`, found by `peek`.
        const PeekCache = struct {
            /// `index(bucket)`, or `nil` when there is none.
            bucket: u32 = nil,
            /// The bucket's `count` earliest timers, in order. Removing one drops it from
            /// here; an append that comes before the last one enters. Empty: search again.
            slots: [peek_cache_size]u32 = undefined,
            count: u32 = 0,
            /// The bucket's length when it was searched, and `ops` then.
            len: u32 = 0,
            ops: u64 = 0,
        };
        /// Enough that random cancellations (1 in `len` chance each per cancel) rarely
        /// empty the cache between two reads of the next deadline.
        pub const peek_cache_size = 16;
        /// An inbox entry: the timer's key, copied, and its slot.
        const Entry = extern struct { deadline: Ticks, seq: u32, slot: u32 };
        /// A nil-terminated chain through `next`, with its last element.
        const Run = struct { head: u32, tail: u32 };

        records: []Record,
        /// Where placement counts from; a multiple of 2^tick_shift.
        origin: Ticks = 0,
        wheel_len: u32 = 0,
        near_head: u32 = nil,
        near_len: u32 = 0,
        inbox_len: u32 = 0,
        /// List heads of every bucket, level by level (`index`).
        heads: [levels * slots]u32 = undefined,
        /// Occupancy bits of every bucket, `words` per level.
        occupied: [levels * words]u64 = undefined,
        /// Bit k set when level k has an occupied bucket.
        levels_occupied: u32 = 0,
        peek_cache: PeekCache = .{},
        /// Bucket appends and removals, the clock of the peek cache's budget.
        ops: u64 = 0,
        /// Buckets `peek` cascaded past `now` because searching them again was over budget.
        peek_cascades: u64 = 0,
        inbox: [inbox_capacity]Entry = undefined,
        /// Timers inserted since the last `first`/`peek`, not yet placed.
        staged: [staging_capacity]u32 = undefined,
        staged_len: u32 = 0,

        /// Initializes `wheel` in place (it is a few kilobytes).
        pub fn init(wheel: *Wheel, records: []Record) void {
            wheel.* = .{ .records = records };
            wheel.clear();
        }

        /// Forgets every timer; their records are the caller's to free. Origin stays.
        pub noinline fn clear(wheel: *Wheel) void {
            @memset(&wheel.heads, nil);
            @memset(&wheel.occupied, 0);
            wheel.levels_occupied = 0;
            wheel.peek_cache = .{};
            wheel.wheel_len = 0;
            wheel.near_head = nil;
            wheel.near_len = 0;
            wheel.inbox_len = 0;
            wheel.staged_len = 0;
        }

        pub fn len(wheel: *const Wheel) u32 {
            return wheel.wheel_len + wheel.near_len + wheel.inbox_len + wheel.staged_len;
        }

        /// Timers due before this are in the near list or the inbox.
        pub fn horizon(wheel: *const Wheel) Ticks {
            return wheel.origin + (@as(Ticks, 1) << tick_shift);
        }

        /// Arms the timer in `slot`, whose record already holds its key. It is staged:
        /// placed by the next `first` or `peek`, unless it is removed before (a timer
        /// cleared in the host task that set it never touches a bucket).
        pub inline fn insert(wheel: *Wheel, slot: u32) void {
            if (wheel.staged_len == staging_capacity) wheel.flush();
            const record = &wheel.records[slot];
            record.next = State.staged;
            record.prev = wheel.staged_len;
            wheel.staged[wheel.staged_len] = slot;
            wheel.staged_len += 1;
        }

        /// Disarms a staged timer (`remove` does too; this is its inlinable fast path).
        pub inline fn unstage(wheel: *Wheel, slot: u32) void {
            const record = &wheel.records[slot];
            assert(record.next == State.staged);
            wheel.staged_len -= 1;
            const last = wheel.staged[wheel.staged_len];
            wheel.staged[record.prev] = last;
            wheel.records[last].prev = record.prev;
        }

        /// Places every staged timer.
        noinline fn flush(wheel: *Wheel) void {
            for (wheel.staged[0..wheel.staged_len]) |slot| wheel.place_new(slot);
            wheel.staged_len = 0;
        }

        fn place_new(wheel: *Wheel, slot: u32) void {
            const deadline = wheel.records[slot].deadline;
            if (deadline < wheel.horizon()) return wheel.near_insert(slot);
            _ = wheel.bucket_append(slot, deadline);
        }

        /// Disarms the timer in `slot`. Its record's `next` is left for the caller to set.
        pub fn remove(wheel: *Wheel, slot: u32) void {
            const record = &wheel.records[slot];
            assert(State.is_armed(record.next));
            if (record.next == State.staged) {
                wheel.unstage(slot);
            } else if (record.next == State.in_inbox) {
                _ = wheel.inbox_remove(record.prev);
            } else if (record.deadline < wheel.horizon()) {
                wheel.unlink(&wheel.near_head, slot);
                wheel.near_len -= 1;
            } else {
                const bucket = wheel.bucket_of(record.deadline);
                const head = &wheel.heads[index(bucket)];
                wheel.unlink(head, slot);
                if (head.* == nil) wheel.mark(bucket, false);
                wheel.wheel_len -= 1;
                wheel.ops += 1;
                if (wheel.peek_cache.bucket == index(bucket)) wheel.cache_drop(slot);
            }
        }

        /// The earliest armed timer if it is due by `now`, else null. Refills only from
        /// buckets that start by `now`.
        pub fn first(wheel: *Wheel, now: Ticks) ?u32 {
            if (wheel.staged_len > 0) wheel.flush();
            while (wheel.near_len + wheel.inbox_len == 0) {
                const bucket = wheel.lowest_bucket() orelse return null;
                const start = wheel.bucket_start(bucket);
                if (start > now) return null;
                wheel.refill(bucket, start, now);
            }
            const slot = wheel.near_min();
            return if (wheel.records[slot].deadline <= now) slot else null;
        }

        /// The earliest armed timer (exact), or null. Moves `origin` only up to `now`.
        pub fn peek(wheel: *Wheel, now: Ticks) ?u32 {
            if (wheel.staged_len > 0) wheel.flush();
            while (wheel.near_len + wheel.inbox_len == 0) {
                const bucket = wheel.lowest_bucket() orelse return null;
                const start = wheel.bucket_start(bucket);
                if (start > now) {
                    if (wheel.bucket_min(bucket)) |slot| return slot;
                    wheel.peek_cascades += 1;
                }
                wheel.refill(bucket, start, @max(now, start));
            }
            return wheel.near_min();
        }

        /// The earliest timer of a bucket that starts after `now`, from the cache or a
        /// search; null when the budget says to cascade the bucket instead.
        noinline fn bucket_min(wheel: *Wheel, bucket: Bucket) ?u32 {
            const cache = &wheel.peek_cache;
            if (cache.bucket == index(bucket)) {
                if (cache.count > 0) return cache.slots[0];
                if ((wheel.ops - cache.ops) * 8 < cache.len) return null;
            }
            // A bucket searched for the first time keeps only its minimum (one comparison
            // per timer); searched again (its cached timers were all removed: random
            // cancels), it keeps its 16 earliest, found in a second walk.
            const keep_many = cache.bucket == index(bucket);
            cache.* = .{ .bucket = index(bucket), .ops = wheel.ops };
            // Walked from both ends at once, like `cascade`: two independent chains of loads.
            var front = wheel.heads[index(bucket)];
            var back = wheel.records[front].prev;
            var best = front;
            var count: u32 = 1;
            while (front != back) {
                const front_next = wheel.records[front].next;
                if (key_before(&wheel.records[back], &wheel.records[best])) best = back;
                count += 1;
                if (front_next == back) break;
                front = front_next;
                back = wheel.records[back].prev;
                if (key_before(&wheel.records[front], &wheel.records[best])) best = front;
                count += 1;
            }
            cache.len = count;
            if (keep_many) {
                wheel.cache_fill(wheel.heads[index(bucket)]);
            } else {
                cache.slots[0] = best;
                cache.count = 1;
            }
            return cache.slots[0];
        }

        /// Fills the cache with the 16 earliest timers of the list at `head`.
        noinline fn cache_fill(wheel: *Wheel, head: u32) void {
            var slot = head;
            while (true) {
                wheel.cache_offer(slot);
                slot = wheel.records[slot].next;
                if (slot == head) break;
            }
        }

        /// Puts `slot` in its place among the cached earliest timers if it belongs there.
        noinline fn cache_offer(wheel: *Wheel, slot: u32) void {
            const cache = &wheel.peek_cache;
            const record = &wheel.records[slot];
            var i = cache.count;
            if (i == peek_cache_size) {
                if (!key_before(record, &wheel.records[cache.slots[i - 1]])) return;
                i -= 1;
            } else {
                cache.count += 1;
            }
            while (i > 0 and key_before(record, &wheel.records[cache.slots[i - 1]])) : (i -= 1) {
                cache.slots[i] = cache.slots[i - 1];
            }
            cache.slots[i] = slot;
        }

        /// A timer left the cached bucket: forget it if it was among the cached ones.
        noinline fn cache_drop(wheel: *Wheel, slot: u32) void {
            const cache = &wheel.peek_cache;
            var at: u32 = 0;
            while (at < cache.count and cache.slots[at] != slot) at += 1;
            if (at == cache.count) return;
            cache.count -= 1;
            while (at < cache.count) : (at += 1) cache.slots[at] = cache.slots[at + 1];
        }

        fn near_min(wheel: *const Wheel) u32 {
            if (wheel.inbox_len == 0) return wheel.near_head;
            const top = wheel.inbox[0].slot;
            if (wheel.near_head == nil) return top;
            return if (key_before(&wheel.records[top], &wheel.records[wheel.near_head])) top else wheel.near_head;
        }

        // ---- wheel ---------------------------------------------------------------

        fn index(bucket: Bucket) u32 {
            return bucket.level * slots + bucket.slot;
        }

        fn level_words(wheel: *Wheel, level: u32) *[words]u64 {
            return wheel.occupied[level * words ..][0..words];
        }

        fn shift_of(level: u32) u6 {
            return @intCast(tick_shift + level * slot_bits);
        }

        /// The bucket of a timer due at `deadline >= horizon` for the current origin.
        fn bucket_of(wheel: *const Wheel, deadline: Ticks) Bucket {
            assert(deadline <= time.ticks_max);
            const differ = (deadline >> tick_shift) ^ (wheel.origin >> tick_shift);
            assert(differ != 0);
            const bit: u32 = 63 - @as(u32, @clz(differ));
            const level = bit / slot_bits;
            const slot: u32 = @intCast((deadline >> shift_of(level)) & (slots - 1));
            return .{ .level = level, .slot = slot };
        }

        fn bucket_start(wheel: *const Wheel, bucket: Bucket) Ticks {
            const shift = shift_of(bucket.level);
            const window_shift: u32 = @as(u32, shift) + slot_bits;
            const window: Ticks = if (window_shift >= 64) 0 else (wheel.origin >> @intCast(window_shift)) << @intCast(window_shift);
            return window | (@as(Ticks, bucket.slot) << shift);
        }

        /// Appends to the bucket `deadline` belongs in; returns that bucket's head.
        fn bucket_append(wheel: *Wheel, slot: u32, deadline: Ticks) *u32 {
            const bucket = wheel.bucket_of(deadline);
            const head = &wheel.heads[index(bucket)];
            if (head.* == nil) wheel.mark(bucket, true);
            wheel.append(head, slot);
            wheel.wheel_len += 1;
            wheel.ops += 1;
            const cache = &wheel.peek_cache;
            if (cache.bucket == index(bucket) and cache.count > 0 and key_before(&wheel.records[slot], &wheel.records[cache.slots[cache.count - 1]])) wheel.cache_offer(slot);
            return head;
        }

        noinline fn mark(wheel: *Wheel, bucket: Bucket, occupied: bool) void {
            const bit = @as(u64, 1) << @intCast(bucket.slot % 64);
            const level = wheel.level_words(bucket.level);
            const level_bit = @as(u32, 1) << @intCast(bucket.level);
            if (occupied) {
                level[bucket.slot / 64] |= bit;
                wheel.levels_occupied |= level_bit;
            } else {
                level[bucket.slot / 64] &= ~bit;
                for (level) |word| {
                    if (word != 0) return;
                }
                wheel.levels_occupied &= ~level_bit;
            }
        }

        /// The earliest non-empty bucket: the lowest one of the lowest non-empty level.
        fn lowest_bucket(wheel: *Wheel) ?Bucket {
            if (wheel.levels_occupied == 0) return null;
            const level: u32 = @ctz(wheel.levels_occupied);
            for (wheel.level_words(level), 0..) |word, w| {
                if (word == 0) continue;
                return .{ .level = level, .slot = @intCast(w * 64 + @ctz(word)) };
            }
            unreachable;
        }

        /// Takes the earliest `bucket` (near list and inbox empty), which starts at
        /// `start`, moving origin at most to `limit`.
        fn refill(wheel: *Wheel, bucket: Bucket, start: Ticks, limit: Ticks) void {
            assert(wheel.near_len == 0 and wheel.inbox_len == 0);
            assert(start >= wheel.horizon() and start <= limit);
            const head = &wheel.heads[index(bucket)];
            const first_slot = head.*;
            head.* = nil;
            wheel.mark(bucket, false);
            if (wheel.peek_cache.bucket == index(bucket)) wheel.peek_cache = .{};
            // Origin may move anywhere in the taken bucket up to its earliest timer: the
            // lower levels are empty and every other bucket is later. For a lone timer,
            // going (up to `limit`) towards its own level-0 bucket saves cascade steps.
            const lone = wheel.records[first_slot].next == first_slot;
            const tick_mask: Ticks = (@as(Ticks, 1) << tick_shift) - 1;
            const lone_origin = @max(start, @min(wheel.records[first_slot].deadline, limit) & ~tick_mask);
            wheel.origin = if (lone) lone_origin else start;
            if (bucket.level == 0 or (lone and wheel.records[first_slot].deadline < wheel.horizon())) {
                // Every timer of the bucket is due before the new horizon: the bucket's
                // list becomes the near list as it is.
                wheel.near_head = first_slot;
                wheel.near_len = wheel.order_near();
                wheel.wheel_len -= wheel.near_len;
            } else {
                wheel.cascade(first_slot);
                _ = wheel.order_near();
            }
        }

        /// Re-places a taken bucket's timers relative to the new origin. Those due
        /// before the horizon go to the (empty) near list unsorted; `sort_near` follows.
        /// The list is walked from both ends at once, two independent chains of loads.
        /// The front walker appends and the back walker prepends, so every list it fills
        /// (all were empty) is a rotation of its share of the bucket: order, and so the
        /// runs the near list's merge sort finds, survive with at most one more run.
        noinline fn cascade(wheel: *Wheel, first_slot: u32) void {
            var front = first_slot;
            var back = wheel.records[first_slot].prev;
            while (true) {
                if (front == back) return wheel.place(front, .back);
                const front_next = wheel.records[front].next;
                const back_prev = wheel.records[back].prev;
                wheel.place(front, .back);
                wheel.place(back, .front);
                if (front_next == back) return;
                front = front_next;
                back = back_prev;
            }
        }

        const End = enum { front, back };

        /// Re-places one timer of a taken bucket (its links are about to be rewritten).
        noinline fn place(wheel: *Wheel, slot: u32, end: End) void {
            const deadline = wheel.records[slot].deadline;
            wheel.wheel_len -= 1;
            if (deadline < wheel.horizon()) {
                wheel.append(&wheel.near_head, slot);
                if (end == .front) wheel.near_head = slot;
                wheel.near_len += 1;
            } else {
                const head = wheel.bucket_append(slot, deadline);
                if (end == .front) head.* = slot;
            }
        }

        // ---- lists ---------------------------------------------------------------

        /// Appends `slot` at the tail of the circular list at `head`.
        fn append(wheel: *Wheel, head: *u32, slot: u32) void {
            const record = &wheel.records[slot];
            if (head.* == nil) {
                record.next = slot;
                record.prev = slot;
                head.* = slot;
                return;
            }
            const first_slot = head.*;
            const last = wheel.records[first_slot].prev;
            record.next = first_slot;
            record.prev = last;
            wheel.records[last].next = slot;
            wheel.records[first_slot].prev = slot;
        }

        fn unlink(wheel: *Wheel, head: *u32, slot: u32) void {
            const record = wheel.records[slot];
            if (record.next == slot) {
                assert(head.* == slot);
                head.* = nil;
                return;
            }
            wheel.records[record.prev].next = record.next;
            wheel.records[record.next].prev = record.prev;
            if (head.* == slot) head.* = record.next;
        }

        // ---- near list -----------------------------------------------------------

        fn near_insert(wheel: *Wheel, slot: u32) void {
            const record = &wheel.records[slot];
            if (wheel.near_head == nil) return wheel.near_push(slot, false);
            const tail = wheel.records[wheel.near_head].prev;
            if (!key_before(record, &wheel.records[tail])) return wheel.near_push(slot, false);
            if (key_before(record, &wheel.records[wheel.near_head])) return wheel.near_push(slot, true);
            if (wheel.inbox_len == inbox_capacity) wheel.merge_inbox();
            wheel.inbox_push(slot);
        }

        fn near_push(wheel: *Wheel, slot: u32, front: bool) void {
            wheel.append(&wheel.near_head, slot);
            if (front) wheel.near_head = slot;
            wheel.near_len += 1;
        }

        /// Opens the circular near list into a nil-terminated chain through `next`.
        fn near_chain(wheel: *Wheel) u32 {
            const head = wheel.near_head;
            if (head == nil) return nil;
            wheel.records[wheel.records[head].prev].next = nil;
            wheel.near_head = nil;
            return head;
        }

        /// Closes a nil-terminated chain into the near list, restoring `prev` links.
        fn near_adopt(wheel: *Wheel, chain: u32) void {
            assert(wheel.near_head == nil);
            if (chain == nil) return;
            var previous = chain;
            var slot = wheel.records[chain].next;
            while (slot != nil) : (slot = wheel.records[slot].next) {
                wheel.records[slot].prev = previous;
                previous = slot;
            }
            wheel.records[previous].next = chain;
            wheel.records[chain].prev = previous;
            wheel.near_head = chain;
        }

        /// Puts the near list in order and returns its length. One walk around the circle
        /// counts the descents: a list with one is a rotation of a sorted list (cascades
        /// keep one-duration buckets that way), and only its head must move. Otherwise a
        /// natural merge sort.
        fn order_near(wheel: *Wheel) u32 {
            const head = wheel.near_head;
            if (head == nil) return 0;
            var count: u32 = 0;
            var descents: u32 = 0;
            var after_descent = head;
            var slot = head;
            while (true) {
                const next = wheel.records[slot].next;
                count += 1;
                if (key_before(&wheel.records[next], &wheel.records[slot])) {
                    descents += 1;
                    after_descent = next;
                }
                slot = next;
                if (slot == head) break;
            }
            if (descents <= 1) {
                wheel.near_head = after_descent;
            } else {
                wheel.sort_near();
            }
            return count;
        }

        /// Natural merge sort of the near list (through `next`), then the links restored.
        noinline fn sort_near(wheel: *Wheel) void {
            var chain = wheel.near_chain();
            while (true) {
                var rest = chain;
                var out: ?Run = null;
                var runs: u32 = 0;
                while (rest != nil) {
                    var run = wheel.take_run(&rest);
                    runs += 1;
                    if (rest != nil) {
                        run = wheel.merge(run, wheel.take_run(&rest));
                        runs += 1;
                    }
                    if (out) |*o| {
                        wheel.records[o.tail].next = run.head;
                        o.tail = run.tail;
                    } else out = run;
                }
                chain = out.?.head;
                if (runs <= 2) break;
            }
            wheel.near_adopt(chain);
        }

        /// Cuts the ascending run at the front of the chain `rest`.
        noinline fn take_run(wheel: *Wheel, rest: *u32) Run {
            const head = rest.*;
            var tail = head;
            while (true) {
                const next = wheel.records[tail].next;
                if (next == nil or key_before(&wheel.records[next], &wheel.records[tail])) break;
                tail = next;
            }
            rest.* = wheel.records[tail].next;
            wheel.records[tail].next = nil;
            return .{ .head = head, .tail = tail };
        }

        noinline fn merge(wheel: *Wheel, a_run: Run, b_run: Run) Run {
            var a = a_run.head;
            var b = b_run.head;
            var head: u32 = nil;
            var tail: u32 = nil;
            while (a != nil and b != nil) {
                const take_b = key_before(&wheel.records[b], &wheel.records[a]);
                const slot = if (take_b) b else a;
                if (take_b) b = wheel.records[b].next else a = wheel.records[a].next;
                if (tail == nil) head = slot else wheel.records[tail].next = slot;
                tail = slot;
            }
            wheel.records[tail].next = if (a != nil) a else b;
            return .{ .head = head, .tail = if (a != nil) a_run.tail else b_run.tail };
        }

        /// Empties the full inbox into the near list in one merge.
        noinline fn merge_inbox(wheel: *Wheel) void {
            const moved = wheel.inbox_len;
            var drained: Run = .{ .head = nil, .tail = nil };
            while (wheel.inbox_len > 0) {
                const slot = wheel.inbox_remove(0);
                if (drained.tail == nil) drained.head = slot else wheel.records[drained.tail].next = slot;
                drained.tail = slot;
            }
            wheel.records[drained.tail].next = nil;
            const near = wheel.near_chain();
            var near_tail = near;
            while (wheel.records[near_tail].next != nil) near_tail = wheel.records[near_tail].next;
            const merged = wheel.merge(.{ .head = near, .tail = near_tail }, drained);
            wheel.near_adopt(merged.head);
            wheel.near_len += moved;
        }

        // ---- inbox (4-ary heap of inline keys; a record's `prev` is its position) --

        fn entry_before(a: Entry, b: Entry) bool {
            if (a.deadline != b.deadline) return a.deadline < b.deadline;
            return seq_before(a.seq, b.seq);
        }

        fn inbox_push(wheel: *Wheel, slot: u32) void {
            assert(wheel.inbox_len < inbox_capacity);
            const pos = wheel.inbox_len;
            wheel.inbox_len += 1;
            const record = &wheel.records[slot];
            wheel.sift_up(pos, .{ .deadline = record.deadline, .seq = record.seq, .slot = slot });
        }

        fn inbox_remove(wheel: *Wheel, pos: u32) u32 {
            assert(pos < wheel.inbox_len);
            const removed = wheel.inbox[pos].slot;
            wheel.inbox_len -= 1;
            if (pos != wheel.inbox_len) {
                const moved = wheel.inbox[wheel.inbox_len];
                const parent_before = pos > 0 and entry_before(moved, wheel.inbox[(pos - 1) / arity]);
                if (parent_before) wheel.sift_up(pos, moved) else wheel.sift_down(pos, moved);
            }
            return removed;
        }

        noinline fn sift_up(wheel: *Wheel, start: u32, entry: Entry) void {
            var pos = start;
            while (pos > 0) {
                const parent = (pos - 1) / arity;
                const above = wheel.inbox[parent];
                if (!entry_before(entry, above)) break;
                wheel.inbox_place(pos, above);
                pos = parent;
            }
            wheel.inbox_place(pos, entry);
        }

        noinline fn sift_down(wheel: *Wheel, start: u32, entry: Entry) void {
            var pos = start;
            while (true) {
                const child_first = pos * arity + 1;
                if (child_first >= wheel.inbox_len) break;
                const child_end = @min(child_first + arity, wheel.inbox_len);
                var best = child_first;
                for (child_first + 1..child_end) |child| {
                    if (entry_before(wheel.inbox[child], wheel.inbox[best])) best = @intCast(child);
                }
                if (!entry_before(wheel.inbox[best], entry)) break;
                wheel.inbox_place(pos, wheel.inbox[best]);
                pos = best;
            }
            wheel.inbox_place(pos, entry);
        }

        fn inbox_place(wheel: *Wheel, pos: u32, entry: Entry) void {
            wheel.inbox[pos] = entry;
            wheel.records[entry.slot].next = State.in_inbox;
            wheel.records[entry.slot].prev = pos;
        }

        // ---- growth and checks ----------------------------------------------------

        /// Re-points every link after `HandleTable.grow_in_place` doubled the table from
        /// `old_capacity`: the record a link named either stayed or moved up by
        /// `old_capacity` (then its old slot is free).
        pub noinline fn relink_after_growth(wheel: *Wheel, records: []Record, old_capacity: u32) void {
            assert(records.len == @as(usize, old_capacity) * 2);
            wheel.records = records;
            for (records) |*record| {
                if (record.next >= State.first_special) continue;
                record.next = wheel.relocated(record.next, old_capacity);
                record.prev = wheel.relocated(record.prev, old_capacity);
            }
            for (&wheel.heads) |*head| {
                if (head.* != nil) head.* = wheel.relocated(head.*, old_capacity);
            }
            if (wheel.near_head != nil) wheel.near_head = wheel.relocated(wheel.near_head, old_capacity);
            const cache = &wheel.peek_cache;
            for (cache.slots[0..cache.count]) |*slot| slot.* = wheel.relocated(slot.*, old_capacity);
            for (wheel.inbox[0..wheel.inbox_len]) |*entry| entry.slot = wheel.relocated(entry.slot, old_capacity);
            for (wheel.staged[0..wheel.staged_len]) |*slot| slot.* = wheel.relocated(slot.*, old_capacity);
        }

        noinline fn relocated(wheel: *const Wheel, slot: u32, old_capacity: u32) u32 {
            assert(slot < old_capacity);
            const record = &wheel.records[slot];
            const stayed = record.next != State.free and record.id & old_capacity == 0;
            return if (stayed) slot else slot + old_capacity;
        }

        /// Points the wheel at records that were moved (memmove) to a new address.
        pub fn rebase(wheel: *Wheel, records: []Record) void {
            assert(records.len == wheel.records.len);
            wheel.records = records;
        }

        pub const Invariant = error{TimerWheelCorrupt};

        /// Checks every invariant in the header. O(armed timers + levels * slots).
        pub noinline fn verify(wheel: *const Wheel) Invariant!void {
            if (wheel.origin % (@as(Ticks, 1) << tick_shift) != 0) return error.TimerWheelCorrupt;
            var counted: u32 = 0;
            for (0..levels * slots) |i| {
                const bucket: Bucket = .{ .level = @intCast(i / slots), .slot = @intCast(i % slots) };
                counted += try wheel.verify_bucket(bucket);
            }
            if (counted != wheel.wheel_len) return error.TimerWheelCorrupt;
            try wheel.verify_peek_cache();
            for (0..levels) |level| {
                const any = for (wheel.occupied[level * words ..][0..words]) |word| {
                    if (word != 0) break true;
                } else false;
                const marked = wheel.levels_occupied & (@as(u32, 1) << @intCast(level)) != 0;
                if (any != marked) return error.TimerWheelCorrupt;
            }
            try wheel.verify_near();
            try wheel.verify_inbox();
            if (wheel.staged_len > staging_capacity) return error.TimerWheelCorrupt;
            for (wheel.staged[0..wheel.staged_len], 0..) |slot, i| {
                if (slot >= wheel.records.len) return error.TimerWheelCorrupt;
                if (wheel.records[slot].next != State.staged or wheel.records[slot].prev != i) return error.TimerWheelCorrupt;
            }
        }

        noinline fn verify_bucket(wheel: *const Wheel, bucket: Bucket) Invariant!u32 {
            const head = wheel.heads[index(bucket)];
            const bit = @as(u64, 1) << @intCast(bucket.slot % 64);
            const marked = wheel.occupied[bucket.level * words + bucket.slot / 64] & bit != 0;
            if (marked != (head != nil)) return error.TimerWheelCorrupt;
            if (head == nil) return 0;
            const count = try wheel.verify_list(head);
            var slot = head;
            for (0..count) |_| {
                const record = &wheel.records[slot];
                if (record.deadline < wheel.horizon()) return error.TimerWheelCorrupt;
                const placed = wheel.bucket_of(record.deadline);
                if (placed.level != bucket.level or placed.slot != bucket.slot) return error.TimerWheelCorrupt;
                slot = record.next;
            }
            return count;
        }

        /// Checks a circular list's links; returns its length.
        noinline fn verify_list(wheel: *const Wheel, head: u32) Invariant!u32 {
            var count: u32 = 0;
            var slot = head;
            while (true) {
                if (slot >= wheel.records.len) return error.TimerWheelCorrupt;
                const record = &wheel.records[slot];
                if (record.next >= wheel.records.len or record.prev >= wheel.records.len) return error.TimerWheelCorrupt;
                if (wheel.records[record.next].prev != slot) return error.TimerWheelCorrupt;
                count += 1;
                if (count > wheel.records.len) return error.TimerWheelCorrupt;
                slot = record.next;
                if (slot == head) return count;
            }
        }

        /// A cached minimum is in its bucket and no timer there comes before it.
        noinline fn verify_peek_cache(wheel: *const Wheel) Invariant!void {
            const cache = &wheel.peek_cache;
            if (cache.bucket == nil or cache.count == 0) return;
            if (cache.bucket >= levels * slots or cache.count > peek_cache_size) return error.TimerWheelCorrupt;
            const head = wheel.heads[cache.bucket];
            if (head == nil) return error.TimerWheelCorrupt;
            const cached = cache.slots[0..cache.count];
            for (cached[1..], cached[0 .. cached.len - 1]) |later, earlier| {
                if (!key_before(&wheel.records[earlier], &wheel.records[later])) return error.TimerWheelCorrupt;
            }
            // Every cached timer is in the bucket; every other one comes after the last cached.
            var found: u32 = 0;
            var slot = head;
            while (true) {
                const is_cached = for (cached) |item| {
                    if (item == slot) break true;
                } else false;
                if (is_cached) {
                    found += 1;
                } else if (key_before(&wheel.records[slot], &wheel.records[cached[cached.len - 1]])) {
                    return error.TimerWheelCorrupt;
                }
                slot = wheel.records[slot].next;
                if (slot == head) break;
            }
            if (found != cache.count) return error.TimerWheelCorrupt;
        }

        noinline fn verify_near(wheel: *const Wheel) Invariant!void {
            if (wheel.near_head == nil) {
                if (wheel.near_len != 0) return error.TimerWheelCorrupt;
                return;
            }
            const count = try wheel.verify_list(wheel.near_head);
            if (count != wheel.near_len) return error.TimerWheelCorrupt;
            var slot = wheel.near_head;
            for (0..count) |i| {
                const record = &wheel.records[slot];
                if (record.deadline >= wheel.horizon()) return error.TimerWheelCorrupt;
                if (i > 0 and key_before(record, &wheel.records[record.prev])) return error.TimerWheelCorrupt;
                slot = record.next;
            }
        }

        noinline fn verify_inbox(wheel: *const Wheel) Invariant!void {
            if (wheel.inbox_len > inbox_capacity) return error.TimerWheelCorrupt;
            for (wheel.inbox[0..wheel.inbox_len], 0..) |entry, pos| {
                if (entry.slot >= wheel.records.len) return error.TimerWheelCorrupt;
                const record = &wheel.records[entry.slot];
                if (record.next != State.in_inbox or record.prev != pos) return error.TimerWheelCorrupt;
                if (record.deadline != entry.deadline or record.seq != entry.seq) return error.TimerWheelCorrupt;
                if (record.deadline >= wheel.horizon()) return error.TimerWheelCorrupt;
                if (pos > 0 and entry_before(entry, wheel.inbox[(pos - 1) / arity])) return error.TimerWheelCorrupt;
            }
        }
    };
}

// ---- tests ---------------------------------------------------------------------

const testing = std.testing;
const HandleTable = handle_table.HandleTable;
const reference = @import("timer_heap.zig");

/// A wheel over a handle table that grows in place, as the loop drives it.
fn Fixture(comptime config: Config) type {
    return struct {
        const Self = @This();
        const Wheel = TimerWheelType(config);
        memory: []align(8) u8,
        table: HandleTable,
        wheel: *Wheel,
        seq: u32 = 0,

        fn create(capacity_max: u32) !Self {
            const memory = try testing.allocator.alignedAlloc(u8, .fromByteUnits(8), handle_table.storage_bytes(capacity_max));
            const wheel = try testing.allocator.create(Wheel);
            const table = HandleTable.init(handle_table.storage_at(memory.ptr, handle_table.capacity_min));
            wheel.init(table.records);
            return .{ .memory = memory, .table = table, .wheel = wheel };
        }

        fn destroy(f: *Self) void {
            testing.allocator.destroy(f.wheel);
            testing.allocator.free(f.memory);
        }

        fn add(f: *Self, deadline: Ticks) u32 {
            if (f.table.needs_growth()) {
                const old_capacity = f.table.capacity();
                f.table.grow_in_place(handle_table.storage_at(f.memory.ptr, old_capacity * 2));
                f.wheel.relink_after_growth(f.table.records, old_capacity);
            }
            const id = f.table.alloc(State.timer_due, .{ .ms = 0, .repeating = false });
            f.rekey(id, deadline);
            return id;
        }

        /// Gives `id` a new key (a new start sequence) and arms it.
        fn rekey(f: *Self, id: u32, deadline: Ticks) void {
            const record = f.table.get(id).?;
            const slot = f.table.slot_of(record);
            if (State.is_armed(record.next)) f.wheel.remove(slot);
            record.deadline = deadline;
            record.seq = f.seq;
            f.seq +%= 1;
            f.wheel.insert(slot);
        }

        fn cancel(f: *Self, id: u32) void {
            const record = f.table.get(id).?;
            f.wheel.remove(f.table.slot_of(record));
            f.table.free(id);
        }

        /// Pops the earliest timer due by `bound`; returns its id, or null.
        fn pop(f: *Self, bound: Ticks) ?u32 {
            const slot = f.wheel.first(bound) orelse return null;
            const id = f.table.records[slot].id;
            f.cancel(id);
            return id;
        }
    };
}

test "equal deadlines fire in start order, from the wheel, the near list and the inbox" {
    var f = try Fixture(.{}).create(64);
    defer f.destroy();
    const far_a = f.add(50_000);
    const near_a = f.add(10);
    const far_b = f.add(50_000);
    const near_b = f.add(10);
    const early = f.add(5);
    try testing.expectEqual(@as(?u32, early), f.pop(std.math.maxInt(Ticks)));
    try testing.expectEqual(@as(?u32, near_a), f.pop(10));
    try testing.expectEqual(@as(?u32, near_b), f.pop(10));
    try testing.expectEqual(@as(?u32, null), f.pop(49_999));
    try testing.expectEqual(@as(?u32, far_a), f.pop(50_000));
    try testing.expectEqual(@as(?u32, far_b), f.pop(50_000));
    try f.wheel.verify();
    try testing.expectEqual(@as(u32, 0), f.wheel.len());
}

test "the exact next deadline searches a later bucket instead of moving origin past now" {
    var f = try Fixture(.{}).create(64);
    defer f.destroy();
    const far_b = f.add(3_000_000_500); // ~50 minutes: a high level
    const far_a = f.add(3_000_000_000);
    try testing.expectEqual(far_a, f.table.records[f.wheel.peek(0).?].id);
    try testing.expectEqual(@as(Ticks, 0), f.wheel.origin);
    const farther = f.add(3_000_000_900); // same bucket, later: the cached minimum stays
    try testing.expectEqual(far_a, f.table.records[f.wheel.peek(0).?].id);
    try f.wheel.verify();
    // Short timers scheduled afterwards still go to the wheel's low levels, not the inbox.
    const soon = f.add(5000);
    const sooner = f.add(2500);
    try testing.expectEqual(@as(u32, 0), f.wheel.inbox_len);
    try testing.expectEqual(sooner, f.table.records[f.wheel.peek(0).?].id);
    try testing.expectEqual(@as(?u32, sooner), f.pop(2500));
    try testing.expectEqual(@as(?u32, soon), f.pop(5000));
    // Cancelling the cached minimum makes the next peek search again.
    f.cancel(far_a);
    try testing.expectEqual(far_b, f.table.records[f.wheel.peek(5000).?].id);
    try f.wheel.verify();
    try testing.expectEqual(@as(?u32, far_b), f.pop(std.math.maxInt(Ticks)));
    try testing.expectEqual(@as(?u32, farther), f.pop(std.math.maxInt(Ticks)));
}

test "a bucket whose minimum keeps being cancelled is cascaded, not searched again and again" {
    var f = try Fixture(.{}).create(1024);
    defer f.destroy();
    var ids: [400]u32 = undefined;
    for (&ids, 0..) |*id, i| id.* = f.add(3_000_000_000 + i * 1000); // one far bucket, in order
    for (ids[0..40]) |id| {
        try testing.expectEqual(id, f.table.records[f.wheel.peek(0).?].id);
        f.cancel(id); // FIFO: always the minimum; the 16 cached ones run out
    }
    try testing.expect(f.wheel.peek_cascades > 0);
    try testing.expect(f.wheel.origin > 0); // cascaded: the near list now holds the front
    try f.wheel.verify();
}

test "a full inbox merges into the near list and order holds" {
    var f = try Fixture(.{ .inbox_capacity = 4 }).create(64);
    defer f.destroy();
    // Both ends of the near list first, then keys between them go to the inbox.
    _ = f.add(0);
    _ = f.add(1000);
    const middles = [_]Ticks{ 500, 300, 700, 100, 900, 200, 800 };
    for (middles) |deadline| _ = f.add(deadline);
    try f.wheel.verify();
    var last: Ticks = 0;
    while (f.wheel.first(std.math.maxInt(Ticks))) |slot| {
        try testing.expect(f.table.records[slot].deadline >= last);
        last = f.table.records[slot].deadline;
        f.cancel(f.table.records[slot].id);
        try f.wheel.verify();
    }
}

test "growth in place re-points every list" {
    var f = try Fixture(.{}).create(1024);
    defer f.destroy();
    var ids: [500]u32 = undefined;
    for (&ids, 0..) |*id, i| id.* = f.add(@as(Ticks, (i * 7919) % 200) * 700);
    try testing.expect(f.table.capacity() >= 512);
    try f.wheel.verify();
    try f.table.verify();
    var popped: u32 = 0;
    var last: Ticks = 0;
    while (f.pop(std.math.maxInt(Ticks))) |id| {
        _ = id;
        popped += 1;
    }
    _ = &last;
    try testing.expectEqual(@as(u32, 500), popped);
}

/// Drives a wheel and the reference heap with the same seeded operations.
fn fuzz_against_reference(comptime config: Config, seed: u64, ops: usize) !void {
    const capacity_max = 1 << 13;
    var prng = std.Random.DefaultPrng.init(seed);
    const random = prng.random();
    const gpa = testing.allocator;
    var f = try Fixture(config).create(capacity_max);
    defer f.destroy();
    f.seq = std.math.maxInt(u32) - 3000; // exercise sequence wrap-around
    const slots = try gpa.alloc(reference.Slot, capacity_max);
    defer gpa.free(slots);
    const entries = try gpa.alloc(reference.Entry, capacity_max);
    defer gpa.free(entries);
    var index: reference.BackIndex = .{ .slots = slots };
    var oracle = reference.TimerHeap.init(entries);
    var live: std.ArrayListUnmanaged(u32) = .empty;
    defer live.deinit(gpa);
    var now: Ticks = if (random.boolean()) 0 else random.uintLessThan(Ticks, 1 << 40);
    // The latest time `first` was asked about: origin may have moved up to it.
    var origin_floor: Ticks = 0;

    for (0..ops) |op| {
        const roll = random.uintLessThan(u32, 100);
        if (roll < 35 and live.items.len < capacity_max / 2) {
            const id = f.add(@min(now + fuzz_delay(random), time.ticks_max));
            const record = f.table.get(id).?;
            oracle.push(&index, .{ .deadline = record.deadline, .seq = record.seq, .id = id });
            try live.append(gpa, id);
        } else if (roll < 55 and live.items.len > 0) {
            const id = live.swapRemove(random.uintLessThan(usize, live.items.len));
            _ = oracle.remove_at(&index, index.position(id));
            f.cancel(id);
        } else if (roll < 65 and live.items.len > 0) {
            // Re-key (refresh, interval re-arm, a changed delay): later, earlier or past.
            const id = live.items[random.uintLessThan(usize, live.items.len)];
            const base = now -| random.uintLessThan(Ticks, 1 << 12);
            f.rekey(id, @min(base + fuzz_delay(random), time.ticks_max));
            const record = f.table.get(id).?;
            oracle.update_at(&index, index.position(id), .{ .deadline = record.deadline, .seq = record.seq, .id = id });
        } else if (roll < 88) {
            now = @min(fuzz_advance(random, now, oracle.peek()), time.ticks_max);
            while (oracle.peek()) |top| {
                if (top.deadline > now) break;
                try testing.expectEqual(@as(?u32, top.id), f.pop(now));
                _ = oracle.pop(&index);
                remove_id(&live, top.id);
            }
            try testing.expectEqual(@as(?u32, null), f.pop(now));
        } else if (roll < 96) {
            // The exact minimum (the next deadline): it never moves origin past now.
            const expected: ?u32 = if (oracle.peek()) |top| top.id else null;
            const got: ?u32 = if (f.wheel.peek(now)) |slot| f.table.records[slot].id else null;
            try testing.expectEqual(expected, got);
            if (f.wheel.peek_cascades == 0) try testing.expect(f.wheel.origin <= @max(now, origin_floor));
        } else {
            // The minimum if due by a later bound (which then acts as the time).
            const bound: Ticks = @min(now + fuzz_delay(random), time.ticks_max);
            const expected: ?u32 = if (oracle.peek()) |top| (if (top.deadline <= bound) top.id else null) else null;
            const got: ?u32 = if (f.wheel.first(bound)) |slot| f.table.records[slot].id else null;
            try testing.expectEqual(expected, got);
            origin_floor = @max(origin_floor, bound);
        }
        try testing.expectEqual(oracle.len, f.wheel.len());
        if (op % 256 == 0) {
            try f.wheel.verify();
            try f.table.verify();
            try oracle.verify(&index);
        }
    }
    try f.wheel.verify();
}

/// Delays that hit every part: ties, the near list, each level, shared durations.
/// Keys saturate at `time.ticks_max`, as the loop's deadlines do.
fn fuzz_delay(random: std.Random) Ticks {
    return switch (random.uintLessThan(u32, 20)) {
        0...4 => random.uintLessThan(Ticks, 64),
        5...9 => random.uintLessThan(Ticks, 1 << 12),
        10...13 => random.uintLessThan(Ticks, 1 << 22),
        14...16 => random.uintLessThan(Ticks, 1 << 36),
        17...18 => @as(Ticks, ([_]u32{ 1, 5, 30, 1000 })[random.uintLessThan(u32, 4)]) * 1_000_000,
        else => random.uintAtMost(Ticks, time.ticks_max),
    };
}

fn fuzz_advance(random: std.Random, now: Ticks, top: ?reference.Entry) Ticks {
    return switch (random.uintLessThan(u32, 10)) {
        0...3 => now + random.uintLessThan(Ticks, 1 << 8),
        4...6 => now + random.uintLessThan(Ticks, 1 << 14),
        7...8 => if (top) |entry| @max(now, entry.deadline) else now,
        else => now + random.uintLessThan(Ticks, 1 << 30),
    };
}

fn remove_id(live: *std.ArrayListUnmanaged(u32), id: u32) void {
    for (live.items, 0..) |item, i| {
        if (item == id) {
            _ = live.swapRemove(i);
            return;
        }
    }
    unreachable;
}

test "fuzz: timer wheel against the reference heap" {
    const fuzz = @import("fuzz.zig");
    try fuzz_against_reference(.{}, fuzz.seed() ^ 0x3ee1, fuzz.ops_count());
}

test "fuzz: a tiny timer wheel (26 levels of 4 buckets, a 4-entry inbox) against the reference heap" {
    const fuzz = @import("fuzz.zig");
    try fuzz_against_reference(.{ .tick_shift = 2, .slot_bits = 2, .inbox_capacity = 4 }, fuzz.seed() ^ 0x71e1, fuzz.ops_count());
}
