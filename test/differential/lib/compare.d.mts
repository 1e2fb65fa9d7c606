export declare const KNOWN_PATH: string;
export interface KnownDifference {
  fixture: string;
  runtime: "node" | "chromium";
  mode: string;
  native: string;
  zigloop: string | string[];
  intermittent?: boolean;
  cause: string;
  source: string;
  note?: string;
}
export type Status = "ok" | "known" | "new" | "fixed" | "changed";
export declare function formatTrace(trace: string[]): string;
export declare function loadKnown(path?: string): Map<string, KnownDifference>;
export declare function classify(
  native: string[],
  observed: string[][],
  entry: KnownDifference | undefined,
): { status: Status; detail?: string };
