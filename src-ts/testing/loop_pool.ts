/**
 * Idle manual-clock loops kept for the next clock. Creating a loop costs tens of µs
 * even with a reused core (core/instance_pool.ts); a test suite installs and uninstalls a clock per
 * test, so `uninstall()` hands back a loop with nothing pending and the next clock
 * adopts it. A loop is only reused when it is idle (no timer, immediate, task or
 * microtask, nothing ref'd): nothing of the old clock can run on the new one. Its
 * clock keeps the time it had; the adopting clock counts from there (`base`).
 *
 * @module
 */

import type { Profile } from "../event_loop.ts";
import type { ManualLoop } from "./clock.ts";

/** Most idle loops kept per profile. */
const POOL_MAX = 4;

export class LoopPool {
  readonly #make: (profile: Profile) => ManualLoop;
  readonly #idle = new Map<Profile, ManualLoop[]>();

  constructor(make: (profile: Profile) => ManualLoop) {
    this.#make = make;
  }

  /** An idle loop of `profile`, reused or new, reporting errors to `onError`. */
  acquire(profile: Profile, onError: (error: unknown) => void): ManualLoop {
    const loop = this.#idle.get(profile)?.pop() ?? this.#make(profile);
    loop.onError = onError;
    loop.resetMetrics();
    return loop;
  }

  /** Takes `loop` back if it is idle and open, else closes it. */
  release(loop: ManualLoop): void {
    const p = loop.pending;
    const idle =
      loop.state !== "closed" && p.timers + p.immediates + p.tasks + p.microtasks + p.refs === 0;
    let list = this.#idle.get(loop.profile);
    if (list === undefined) this.#idle.set(loop.profile, (list = []));
    if (idle && list.length < POOL_MAX) list.push(loop);
    else loop.close();
  }
}
