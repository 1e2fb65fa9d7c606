/**
 * Loop metrics. Counters, queue depths and the two latency histograms live in the
 * core (the histograms are log-linear, 1/32 relative precision, see
 * src-zig/histogram.zig); this file keeps what needs the host's clock (throughput
 * windows, event-loop utilization) and assembles the snapshot.
 *
 * Off by default, and then free: the core skips histogram recording and the loop
 * skips the extra clock reads. On, the cost is one histogram record per task (in
 * Wasm) and one clock read per host wake-up (measured in bench/RESULTS.md).
 *
 * @module
 */

import { type CoreExports, HistogramField, HistogramWhich, Stat } from "../core/abi.generated.ts";

/** A latency distribution in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

/** A queue's depth now and its maximum since the last reset. */
export interface QueueDepth {
  current: number;
  max: number;
}

/** A rate over the last complete one-second window, and the highest such rate. */
export interface Rate {
  current: number;
  peak: number;
}

/** What `loop.metrics()` returns. Times are milliseconds of loop time. */
export interface LoopMetrics {
  /** Every macrotask run: submitted tasks, timer callbacks, immediates, I/O deliveries. */
  tasksExecuted: number;
  /** Timer and interval callbacks run. */
  timersFired: number;
  /** Microtasks and promise jobs run. */
  microtasksExecuted: number;
  /** Immediates run (also counted in tasksExecuted). */
  immediatesExecuted: number;
  /** Enqueue to start, for tasks and immediates (resolution: one turn; see docs). */
  taskLatency: LatencySummary;
  /** Actual start minus scheduled deadline, for timers. */
  timerLateness: LatencySummary;
  throughput: { tasksPerSecond: Rate; microtasksPerSecond: Rate };
  queue: {
    ingress: QueueDepth;
    microtasks: QueueDepth;
    timers: QueueDepth;
    immediates: QueueDepth;
  };
  /** Share of wall time spent running the loop, like Node's `performance.eventLoopUtilization()`. */
  utilization: { active: number; idle: number; utilization: number };
  /** Handles that keep the loop alive, and watched I/O sources. */
  handles: { refs: number; watchers: number };
  /** The core's linear memory. */
  memory: { linearBytes: number; arenaBytes: number; chunksInUse: number; handleCapacity: number };
  /** Loop time when the window of these numbers began (creation or the last reset). */
  since: number;
  /** Loop time of this snapshot. */
  now: number;
}

export const PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** What the recorder reads from the host's microtask queue (the core does not see its fast path). */
export interface MicrotaskCounts {
  readonly executed: number;
  peak: number;
  readonly length: number;
}

/**
 * Callbacks the host ran, counted where they run (never at collection: a timer collected
 * and then cleared, or a reset between collection and run, would be miscounted).
 * Monotone; the recorder subtracts its values at the last reset.
 */
export interface RunCounts {
  readonly timersRun: number;
  readonly tasksRun: number;
  readonly immediatesRun: number;
}

export class MetricsRecorder {
  #core: CoreExports;
  readonly #micro: MicrotaskCounts;
  readonly #runs: RunCounts;
  #timersAtReset = 0;
  #tasksAtReset = 0;
  #immediatesAtReset = 0;
  #microtasksAtReset = 0;
  #since: number;
  // Throughput windows.
  #windowStart: number;
  #windowTasks = 0;
  #windowMicrotasks = 0;
  #taskRate: Rate = { current: 0, peak: 0 };
  #microtaskRate: Rate = { current: 0, peak: 0 };
  // Utilization.
  #active = 0;
  #idle = 0;
  #lastEnd: number | undefined;
  #busySince: number | undefined;
  /** Metrics on (histograms, throughput, utilization); counts and depths are kept either way. */
  readonly #enabled: boolean;

  constructor(
    core: CoreExports,
    micro: MicrotaskCounts,
    runs: RunCounts,
    now: number,
    enabled: boolean,
  ) {
    this.#enabled = enabled;
    this.#core = core;
    this.#micro = micro;
    this.#runs = runs;
    this.#since = now;
    this.#windowStart = now;
  }

  /** Reads from `frozen` from now on (a closed core's stand-in; see instance_pool.ts). */
  detach(frozen: CoreExports): void {
    this.#core = frozen;
  }

  /** The host woke the loop at `now` (real clock; manual clocks pass virtual time). */
  busyStart(now: number): void {
    if (this.#busySince !== undefined) return;
    if (this.#lastEnd !== undefined && now > this.#lastEnd) this.#idle += now - this.#lastEnd;
    this.#busySince = now;
  }

  /** The loop returned to the host at `now`. */
  busyEnd(now: number): void {
    if (this.#busySince === undefined) return;
    this.#active += Math.max(0, now - this.#busySince);
    this.#busySince = undefined;
    this.#lastEnd = now;
    this.#roll(now);
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < 1000) return;
    const tasks = this.#tasksExecuted();
    const microtasks = this.#microtasksExecuted();
    this.#taskRate.current = ((tasks - this.#windowTasks) * 1000) / elapsed;
    this.#microtaskRate.current = ((microtasks - this.#windowMicrotasks) * 1000) / elapsed;
    this.#taskRate.peak = Math.max(this.#taskRate.peak, this.#taskRate.current);
    this.#microtaskRate.peak = Math.max(this.#microtaskRate.peak, this.#microtaskRate.current);
    this.#windowStart = now;
    this.#windowTasks = tasks;
    this.#windowMicrotasks = microtasks;
  }

  #microtasksExecuted(): number {
    return this.#micro.executed - this.#microtasksAtReset;
  }

  #tasksExecuted(): number {
    return this.#timersFired() + this.#runs.tasksRun - this.#tasksAtReset + this.#immediatesRun();
  }

  #timersFired(): number {
    return this.#runs.timersRun - this.#timersAtReset;
  }

  #immediatesRun(): number {
    return this.#runs.immediatesRun - this.#immediatesAtReset;
  }

  #summary(which: number): LatencySummary {
    const core = this.#core;
    const [p50, p90, p95, p99, p999] = PERCENTILES.map((p) =>
      core.zl_histogram_percentile(which, p),
    ) as [number, number, number, number, number];
    return {
      count: core.zl_histogram(which, HistogramField.count),
      min: core.zl_histogram(which, HistogramField.min),
      max: core.zl_histogram(which, HistogramField.max),
      mean: core.zl_histogram(which, HistogramField.mean),
      p50,
      p90,
      p95,
      p99,
      p999,
    };
  }

  /**
   * Rates over the last complete window of at least one second (0 until one has
   * completed: a 25 ms run has no rate to report, and projecting one would invent it),
   * and the highest such rate. A window that has completed by `now` is closed first, so
   * an idle second reads as 0, not as the last busy window. Only with metrics on.
   */
  #throughput(now: number): LoopMetrics["throughput"] {
    if (!this.#enabled)
      return {
        tasksPerSecond: { current: 0, peak: 0 },
        microtasksPerSecond: { current: 0, peak: 0 },
      };
    this.#roll(now);
    return {
      tasksPerSecond: { ...this.#taskRate },
      microtasksPerSecond: { ...this.#microtaskRate },
    };
  }

  snapshot(now: number, refs: number, watchers: number): LoopMetrics {
    const core = this.#core;
    const active =
      this.#active + (this.#busySince !== undefined ? Math.max(0, now - this.#busySince) : 0);
    const idle =
      this.#idle +
      (this.#busySince === undefined && this.#lastEnd !== undefined
        ? Math.max(0, now - this.#lastEnd)
        : 0);
    return {
      tasksExecuted: this.#tasksExecuted(),
      timersFired: this.#timersFired(),
      microtasksExecuted: this.#microtasksExecuted(),
      immediatesExecuted: this.#immediatesRun(),
      taskLatency: this.#summary(HistogramWhich.task_latency),
      timerLateness: this.#summary(HistogramWhich.timer_lateness),
      throughput: this.#throughput(now),
      queue: {
        ingress: { current: core.zl_stat(Stat.tasks_queued), max: core.zl_stat(Stat.peak_tasks) },
        microtasks: {
          current: this.#micro.length,
          max: Math.max(this.#micro.peak, core.zl_stat(Stat.peak_microtasks)),
        },
        timers: { current: core.zl_stat(Stat.timers_armed), max: core.zl_stat(Stat.peak_timers) },
        immediates: {
          current: core.zl_stat(Stat.immediates_queued),
          max: core.zl_stat(Stat.peak_immediates),
        },
      },
      utilization: { active, idle, utilization: active + idle > 0 ? active / (active + idle) : 0 },
      handles: { refs, watchers },
      memory: {
        linearBytes: core.memory.buffer.byteLength,
        arenaBytes: core.zl_stat(Stat.arena_bytes),
        chunksInUse: core.zl_stat(Stat.chunks_in_use),
        handleCapacity: core.zl_stat(Stat.handles_capacity),
      },
      since: this.#since,
      now,
    };
  }

  reset(now: number): void {
    this.#core.zl_metrics_reset();
    this.#microtasksAtReset = this.#micro.executed;
    this.#micro.peak = this.#micro.length;
    this.#since = now;
    this.#windowStart = now;
    this.#windowTasks = 0;
    this.#windowMicrotasks = 0;
    this.#taskRate = { current: 0, peak: 0 };
    this.#microtaskRate = { current: 0, peak: 0 };
    this.#active = 0;
    this.#idle = 0;
    this.#lastEnd = this.#busySince === undefined ? now : undefined;
    if (this.#busySince !== undefined) this.#busySince = now;
    this.#timersAtReset = this.#runs.timersRun;
    this.#tasksAtReset = this.#runs.tasksRun;
    this.#immediatesAtReset = this.#runs.immediatesRun;
  }
}

/** A readable table of a snapshot (the CLI's `--metrics`). */
export function formatMetrics(m: LoopMetrics): string {
  const ms = (value: number) =>
    value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(3)} ms`;
  const latency = (s: LatencySummary) =>
    s.count === 0
      ? "no samples"
      : `n=${s.count}  p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  p99.9 ${ms(s.p999)}  max ${ms(s.max)}  mean ${ms(s.mean)}`;
  const depth = (d: QueueDepth) => `${d.current} now, ${d.max} max`;
  const rows: Array<[string, string]> = [
    ["loop time", `${m.now.toFixed(3)} ms (metrics since ${m.since.toFixed(3)} ms)`],
    [
      "tasks executed",
      `${m.tasksExecuted} (timers ${m.timersFired}, immediates ${m.immediatesExecuted})`,
    ],
    ["microtasks executed", String(m.microtasksExecuted)],
    ["task latency", latency(m.taskLatency)],
    ["timer lateness", latency(m.timerLateness)],
    [
      "throughput",
      `tasks ${m.throughput.tasksPerSecond.current.toFixed(0)}/s (peak ${m.throughput.tasksPerSecond.peak.toFixed(0)}), ` +
        `microtasks ${m.throughput.microtasksPerSecond.current.toFixed(0)}/s (peak ${m.throughput.microtasksPerSecond.peak.toFixed(0)})`,
    ],
    ["queue: ingress", depth(m.queue.ingress)],
    ["queue: microtasks", depth(m.queue.microtasks)],
    ["queue: timers", depth(m.queue.timers)],
    ["queue: immediates", depth(m.queue.immediates)],
    [
      "utilization",
      `${(m.utilization.utilization * 100).toFixed(1)}% (active ${m.utilization.active.toFixed(1)} ms, idle ${m.utilization.idle.toFixed(1)} ms)`,
    ],
    ["handles", `${m.handles.refs} ref'd, ${m.handles.watchers} watched I/O sources`],
    [
      "memory",
      `${m.memory.linearBytes} B linear, ${m.memory.chunksInUse} chunks in use, ${m.memory.handleCapacity} handle slots`,
    ],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return `zigloop metrics\n${rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`).join("\n")}\n`;
}
