// Shared benchmark machinery: side-by-side measurement with mitata, GC counting,
// statistics, machine description and formatting. Suites get these through `ctx`.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { PerformanceObserver, constants as perfConstants } from "node:perf_hooks";
import { measure } from "mitata";

const root = new URL("../../", import.meta.url);

// ---- statistics ---------------------------------------------------------------------

/** The p-quantile (0..1) of an already sorted array, nearest rank. */
export function quantile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * What one `performance.now()` call adds to an interval measured between two of them:
 * the median difference of back-to-back calls (about 50 ns on a VM whose clock source
 * is not the TSC). Latency measurements subtract it.
 */
export function timestampCost(samples = 200_000) {
  const diffs = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const a = performance.now();
    diffs[i] = performance.now() - a;
  }
  diffs.sort();
  return quantile(diffs, 0.5);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Coefficient of variation (sample standard deviation / mean), as a fraction. */
export function cv(values) {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance) / mean;
}

// ---- side-by-side throughput --------------------------------------------------------

/**
 * Measures several implementations of the same workload side by side in this
 * process. Each `run(opsPerCall)` call performs exactly `opsPerCall` operations;
 * mitata times calls (a full GC before each subject's samples, at least
 * `minCpuMs` of samples) and we take the median call time / opsPerCall.
 *
 * Noise control on a shared machine: one untimed warm-up round, then `reps`
 * rounds; in every round each subject is measured once, in an order rotated per
 * round, so slow phases of the machine hit every subject alike. Ratios are
 * computed within a round (peer / reference, both measured seconds apart) and
 * summarized by their median and range over the rounds.
 *
 * @returns {{ subjects: { name: string, nsPerOp: number, cv: number, perRep: number[] }[],
 *             ratio(peerIndex: number, refIndex?: number): { median: number, min: number, max: number, perRep: number[] } }}
 */
export async function compareThroughput(
  ctx,
  {
    label,
    subjects,
    opsPerCall,
    reps,
    minCpuMs,
    minSamples = 8,
    warmupSamples = minSamples,
    unit = "ns/op",
  },
) {
  const perRep = subjects.map(() => []);
  for (let rep = -1; rep < reps; rep++) {
    const warmup = rep < 0;
    const order = subjects.map((_, i) => (i + Math.max(rep, 0)) % subjects.length);
    const line = [];
    for (const i of order) {
      const subject = subjects[i];
      const stats = await measure(() => subject.run(opsPerCall), {
        min_cpu_time: (warmup ? minCpuMs / 2 : minCpuMs) * 1e6,
        min_samples: warmup ? warmupSamples : minSamples,
      });
      const nsPerOp = stats.p50 / opsPerCall;
      if (!warmup) perRep[i].push(nsPerOp);
      line.push(`${subject.name} ${nsPerOp.toFixed(1)} ${unit}`);
    }
    ctx.progress(
      `${label}: ${warmup ? "warm-up" : `round ${rep + 1}/${reps}`}: ${line.join(", ")}`,
    );
  }
  // Plain data (it may cross a process boundary).
  const result = subjects.map((subject, i) => ({
    name: subject.name,
    nsPerOp: median(perRep[i]),
    cv: cv(perRep[i]),
    perRep: perRep[i],
  }));
  return {
    subjects: result,
    ratio(peerIndex, refIndex = 0) {
      const ratios = perRep[peerIndex].map((peer, r) => peer / perRep[refIndex][r]);
      return {
        median: median(ratios),
        min: Math.min(...ratios),
        max: Math.max(...ratios),
        perRep: ratios,
      };
    },
  };
}

// ---- garbage collections ------------------------------------------------------------

const GC_KINDS = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

/**
 * Counts the garbage collections V8 performs while `work()` runs (synchronously),
 * by kind, with a `PerformanceObserver` on 'gc' entries. A full GC runs first (when
 * --expose-gc is on) so earlier garbage is not charged to `work`; entries are
 * delivered asynchronously, so we yield before reading them.
 */
export async function countGcs(work) {
  globalThis.gc?.();
  const entries = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  const t0 = performance.now();
  work();
  const ms = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 100));
  entries.push(...observer.takeRecords());
  observer.disconnect();
  const counts = {
    minor: 0,
    major: 0,
    incremental: 0,
    weakcb: 0,
    total: entries.length,
    gcMs: 0,
    ms,
  };
  for (const entry of entries) {
    const kind = GC_KINDS[entry.detail?.kind ?? entry.kind] ?? "other";
    counts[kind] = (counts[kind] ?? 0) + 1;
    counts.gcMs += entry.duration;
  }
  return counts;
}

// ---- machine and versions -----------------------------------------------------------

function git(...args) {
  try {
    return execFileSync("git", args, {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

function cpuModel() {
  const model = os.cpus()[0]?.model?.trim() || "unknown CPU";
  try {
    // Under virtualization the model name can be as short as "AMD EPYC"; family,
    // model and cache size identify the generation (memory-bound results depend on it).
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const field = (name) => new RegExp(`^${name}\\s*:\\s*(.+)$`, "m").exec(text)?.[1]?.trim();
    const details = [
      field("cpu family") && `family ${field("cpu family")} model ${field("model")}`,
      field("cpu MHz") && `${Math.round(Number(field("cpu MHz")))} MHz`,
      field("cache size") && `${field("cache size")} cache/core`,
    ].filter(Boolean);
    if (details.length > 0) return `${model} (${details.join(", ")})`;
  } catch {}
  return model;
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, root), "utf8"))
      .version;
  } catch {
    return undefined;
  }
}

/**
 * A fingerprint of the built host the host-level suites import (every .js file of dist/,
 * or of ZIGLOOP_BENCH_DIST's directory): dist/ is built from the working tree, so the
 * commit alone does not say what was measured.
 */
function distFingerprint() {
  try {
    const dir = process.env.ZIGLOOP_BENCH_DIST
      ? resolve(process.env.ZIGLOOP_BENCH_DIST, "..")
      : new URL("dist/", root);
    const hash = createHash("sha256");
    const files = readdirSync(dir, { recursive: true })
      .filter((f) => String(f).endsWith(".js"))
      .map(String)
      .sort();
    for (const file of files)
      hash
        .update(file)
        .update(readFileSync(new URL(file, typeof dir === "string" ? `file://${dir}/` : dir)));
    return hash.digest("hex").slice(0, 16);
  } catch {
    return undefined;
  }
}

export function machineInfo() {
  const override = process.env.ZIGLOOP_BENCH_WASM;
  const wasm = readFileSync(override ? resolve(override) : new URL("wasm/zigloop.wasm", root));
  const commit = git("rev-parse", "--short", "HEAD");
  // Uncommitted changes to the measured code (the benchmarks' own files and docs excluded:
  // a run rewrites bench/RESULTS.md itself). dist/ is fingerprinted separately.
  const dirty = git(
    "status",
    "--porcelain",
    "--untracked-files=no",
    "--",
    ".",
    ":(exclude)bench",
    ":(exclude)docs",
  );
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    mitata: packageVersion("mitata"),
    tinybench: packageVersion("tinybench"),
    nodeFlags: process.execArgv.join(" "),
    commit:
      commit === undefined ? undefined : `${commit}${dirty ? " (with uncommitted changes)" : ""}`,
    wasm: override ? resolve(override) : "wasm/zigloop.wasm",
    wasmSha256: createHash("sha256").update(wasm).digest("hex").slice(0, 16),
    distSha256: distFingerprint(),
    dist: process.env.ZIGLOOP_BENCH_DIST ? resolve(process.env.ZIGLOOP_BENCH_DIST) : "dist/",
  };
}

// ---- formatting ---------------------------------------------------------------------

export function formatNumber(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -(digits - 1)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 20 });
}

export function formatBytes(bytes) {
  if (bytes >= 2 ** 20) return `${formatNumber(bytes / 2 ** 20)} MiB`;
  if (bytes >= 2 ** 10) return `${formatNumber(bytes / 2 ** 10)} KiB`;
  return `${formatNumber(bytes)} B`;
}

/** "1e3" for 1000, "1e6" for 1000000; other numbers as-is. */
export function formatCount(n) {
  const exponent = Math.log10(n);
  return Number.isInteger(exponent) && exponent >= 3 ? `1e${exponent}` : String(n);
}

// ---- rows and notes shared by the suites ----------------------------------------------------

/** A coefficient of variation as a percentage for notes ("<0.1" below 0.1%). */
export function cvText(cv) {
  return cv < 0.001 ? "<0.1" : (cv * 100).toFixed(1);
}

/** "label: name N unit (cv X%), ..." for every subject of a compareThroughput result. */
export function speedNote(label, result, unit = "Mops/s") {
  return `${label}: ${result.subjects.map((s) => `${s.name} ${formatNumber(1e3 / s.nsPerOp)} ${unit} (cv ${cvText(s.cv)}%)`).join(", ")}`;
}

/**
 * The per-round ratios (peer time / zigloop time) of every peer of a compareThroughput result,
 * computed in the child process (the result's `ratio` method does not cross processes).
 */
export function roundRatios(result, count) {
  return Array.from({ length: count }, (_, peer) => (peer === 0 ? null : result.ratio(peer)));
}

/**
 * compareThroughput with few samples per round (whole workloads of ms each), returned as
 * plain data with every subject's per-round ratio against subject 0 (for a child process).
 */
export async function compareWorkloads(ctx, { label, subjects, opsPerCall, reps, minCpuMs, unit }) {
  const result = await compareThroughput(ctx, {
    label,
    subjects,
    opsPerCall,
    reps,
    minCpuMs,
    minSamples: 5,
    warmupSamples: 2,
    unit,
  });
  return { subjects: result.subjects, ratios: roundRatios(result, subjects.length) };
}

/**
 * A RESULTS.md row: zigloop (subject 0) against subject `peer` of `result` ({ subjects,
 * ratios } as a child returns it). `extra` sets the unit (default ns/op), goal and verdict.
 */
export function speedRow(benchmark, result, peer, extra = {}) {
  const z = result.subjects[0];
  const p = result.subjects[peer];
  const r = result.ratios[peer];
  return {
    benchmark,
    zigloop: z.nsPerOp,
    peer: p.nsPerOp,
    peerName: p.name,
    unit: "ns/op",
    ratio: r.median,
    ratioLabel: "faster",
    ratioRange: [r.min, r.max],
    goal: null,
    met: null,
    ...extra,
  };
}
