export declare const KNOWN_PATH: string;
export interface KnownDifference {
  fixture: string;
  runtime: "node" | "chromium";
  mode: string;
  native: string;
  zigloop: string | string[];
  intermittent?: boolean;
  /** A key of the file's `causes`. */
  cause: string;
}
/** Why a class of differences exists, what to do instead, and the sources. */
export interface Cause {
  title: string;
  modes: string;
  explanation: string;
  why: string;
  instead: string;
  source: string;
}
export type Status = "ok" | "known" | "new" | "fixed" | "changed";
export declare function formatTrace(trace: string[]): string;
export declare function loadKnown(path?: string): Map<string, KnownDifference>;
export declare function classify(
  native: string[],
  observed: string[][],
  entry: KnownDifference | undefined,
): { status: Status; detail?: string };
export declare function loadCauses(path?: string): Record<string, Cause>;
export declare function renderDifferencesDoc(path?: string): string;
