// Comparing traces and keeping the list of known differences true.
//
// known_differences.json lists every difference the suite accepts today: for one
// fixture, native runtime ("node": Node 20 and Node 24, which must agree; or
// "chromium") and zigloop mode, the native trace and the zigloop trace (or several,
// when zigloop's own output varies from run to run), its cause and a source. A
// difference that is not listed fails the suite, and so does a listed one that no
// longer occurs or now looks different: the list must stay true.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const KNOWN_PATH = fileURLToPath(new URL("../known_differences.json", import.meta.url));

/** One trace as one line. */
export function formatTrace(trace) {
  return trace.join(" | ");
}

/** The known differences, keyed by `fixture|runtime|mode`. */
export function loadKnown(path = KNOWN_PATH) {
  const { differences } = JSON.parse(readFileSync(path, "utf8"));
  const known = new Map();
  for (const entry of differences) {
    for (const field of ["fixture", "runtime", "mode", "native", "zigloop", "cause"]) {
      if (entry[field] === undefined)
        throw new Error(`${path}: an entry lacks "${field}": ${JSON.stringify(entry)}`);
    }
    const key = `${entry.fixture}|${entry.runtime}|${entry.mode}`;
    if (known.has(key)) throw new Error(`${path}: ${key} is listed twice`);
    known.set(key, entry);
  }
  return known;
}

/**
 * Classifies zigloop's traces of one fixture in one mode against the native trace.
 *
 * @param {string[]} native the native trace
 * @param {string[][]} observed zigloop's traces (one per repetition)
 * @param {object | undefined} entry the known difference listed for this cell
 * @returns {{ status: "ok" | "known" | "new" | "fixed" | "changed", detail?: string }}
 *   ok: equal and not listed; known: differs as listed; new: differs, not listed;
 *   fixed: equal but listed; changed: listed, but the traces are not the listed ones.
 */
export function classify(native, observed, entry) {
  const nativeLine = formatTrace(native);
  const lines = [...new Set(observed.map(formatTrace))];
  const same = lines.filter((line) => line === nativeLine);
  const different = lines.filter((line) => line !== nativeLine);
  if (entry === undefined) {
    if (different.length === 0) return { status: "ok" };
    return { status: "new", detail: different.join("\n           ") };
  }
  const accepted = Array.isArray(entry.zigloop) ? entry.zigloop : [entry.zigloop];
  if (entry.native !== nativeLine) {
    return {
      status: "changed",
      detail: `native trace is now: ${nativeLine} (listed: ${entry.native})`,
    };
  }
  if (different.length === 0) {
    // Intermittent entries accept an occasional run that agrees with the native trace.
    if (entry.intermittent === true) return { status: "known" };
    return { status: "fixed", detail: "zigloop now matches the native trace: remove the entry" };
  }
  const unexpected = different.filter((line) => !accepted.includes(line));
  if (unexpected.length > 0)
    return { status: "changed", detail: `zigloop trace is now: ${unexpected.join(" || ")}` };
  if (same.length > 0 && entry.intermittent !== true) {
    return {
      status: "changed",
      detail: "zigloop sometimes matches the native trace: mark the entry intermittent",
    };
  }
  return { status: "known" };
}

/** The causes the known differences name: id -> { title, modes, explanation, why, instead, source }. */
export function loadCauses(path = KNOWN_PATH) {
  return JSON.parse(readFileSync(path, "utf8")).causes;
}

/**
 * docs/DIFFERENCES.md: every known difference, grouped by its cause, with the cause's
 * explanation, reason and source. Rendered from known_differences.json; the quick suite
 * checks that the file is this rendering.
 */
export function renderDifferencesDoc(path = KNOWN_PATH) {
  const { causes, differences } = JSON.parse(readFileSync(path, "utf8"));
  const lines = [
    "# Where zigloop's traces differ from Node and Chromium",
    "",
    "<!-- Rendered from test/differential/known_differences.json; regenerate with",
    "     UPDATE_DIFFERENCES=1 npx vitest run test/differential/differential.test.ts -->",
    "",
    "The differential suite (`npm run test:differential`, test/differential/README.md) runs",
    "every fixture natively (Node 20, Node 24, Chromium) and on zigloop in five modes:",
    'in-process on a real clock with the default `nativeJobs: "after-turn"` (`inproc-turn`)',
    'and with `nativeJobs: "after-callback"` (`inproc-real`), on a manual clock driven with',
    "`run()` (`inproc-manual`), and as a vm guest of `zigloop run` on a real clock",
    "(`cli-real`) and with `--virtual-time` (`cli-virtual`). Every trace that differs is",
    "listed below, by cause.",
    "Everything not listed is identical, and the suite fails if a listed difference",
    "disappears or changes, so this page stays true.",
    "",
    "| cause | modes | differences |",
    "|---|---|---|",
  ];
  const byCause = new Map();
  for (const entry of differences) {
    if (!byCause.has(entry.cause)) byCause.set(entry.cause, []);
    byCause.get(entry.cause).push(entry);
  }
  for (const [id, cause] of Object.entries(causes)) {
    lines.push(`| [${cause.title}](#${id}) | ${cause.modes} | ${byCause.get(id)?.length ?? 0} |`);
  }
  for (const [id, cause] of Object.entries(causes)) {
    lines.push(
      "",
      `## <a id="${id}"></a>${cause.title}`,
      "",
      cause.explanation,
      "",
      `**Why it stays:** ${cause.why}`,
      "",
      `**Instead:** ${cause.instead}`,
      "",
      `**Sources:** ${cause.source}`,
      "",
      "| fixture | runtime | mode | native | zigloop |",
      "|---|---|---|---|---|",
    );
    for (const e of byCause.get(id) ?? []) {
      const zigloop = Array.isArray(e.zigloop) ? e.zigloop.join(" _or_ ") : e.zigloop;
      lines.push(
        `| \`${e.fixture}\` | ${e.runtime} | ${e.mode} | ${cell(e.native)} | ${cell(zigloop)} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function cell(text) {
  return text.replaceAll("|", "\\|");
}
