/**
 * What keeps a loop alive: one count of ref'd handles (timers, intervals, immediates,
 * I/O watches), changed only through `retain`/`release`, with one hook that runs when
 * the count crosses zero, like libuv's `uv__handle_start`/`uv__handle_stop` and
 * `uv_loop_alive`. Queued tasks and microtasks keep a loop alive by being queued; the
 * loop asks {@linkcode Engine.hasQueuedWork} for those.
 *
 * @module
 */

export class Liveness {
  /** Ref'd handles. */
  refs = 0;
  /** Runs when `refs` goes from 0 to 1 or from 1 to 0. */
  onChange: () => void = () => {};

  /** A handle starts keeping the loop alive. */
  retain(): void {
    if (this.refs++ === 0) this.onChange();
  }

  /** A handle stops keeping the loop alive (it ran, was cleared, or was unref'd). */
  release(): void {
    if (--this.refs === 0) this.onChange();
  }

  /** Retains or releases by `delta` (+1 or -1). */
  adjust(delta: number): void {
    if (delta > 0) this.retain();
    else if (delta < 0) this.release();
  }

  /** Every handle is gone at once (close, or shutdown cancelling the timers). */
  drop(count: number): void {
    if (count === 0) return;
    const before = this.refs;
    this.refs -= count;
    if (before > 0 && this.refs === 0) this.onChange();
  }
}
