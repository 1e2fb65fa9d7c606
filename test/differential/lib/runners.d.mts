export declare const ROOT: string;
export declare const PROCESS_TIMEOUT_MS: number;
export type Mode = "inproc-turn" | "inproc-real" | "inproc-manual" | "cli-real" | "cli-virtual";
export declare const MODES: Mode[];
export interface RunResult {
  trace: string[];
  stderr: string;
}
export declare function runProcess(
  command: string,
  args: string[],
  options?: { timeoutMs?: number; merged?: boolean; cwd?: string },
): Promise<{
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
}>;
export declare function normalizeCliOutput(text: string): string[];
export declare function runNativeNode(fixturePath: string, nodeBinary: string): Promise<RunResult>;
export declare function runZigloop(
  fixturePath: string,
  profile: "node" | "html",
  mode: Mode,
): Promise<RunResult>;
