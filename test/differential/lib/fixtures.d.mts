export declare const FIXTURES_DIR: string;
export declare const RUNTIMES: { node: "node"; html: "html" };
export interface Fixture {
  name: string;
  path: string;
  runtimes: ("node" | "html")[];
}
export declare function loadFixtures(): Fixture[];
