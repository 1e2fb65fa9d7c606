// The fixtures: classic scripts in test/differential/fixtures/, each opening with a
// `// @runtimes node html` line naming the native runtimes it applies to.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));
/** Native runtime families a fixture can name, and the zigloop profile each is compared with. */
export const RUNTIMES = { node: "node", html: "html" };
const HEADER = /^\/\/ @runtimes((?: [a-z]+)+)\s*$/;

/**
 * Every fixture, sorted by name.
 *
 * @returns {{ name: string, path: string, runtimes: ("node" | "html")[] }[]}
 * @throws {Error} when a fixture lacks the header or names an unknown runtime.
 */
export function loadFixtures() {
  const fixtures = [];
  for (const file of readdirSync(FIXTURES_DIR).sort()) {
    if (!file.endsWith(".js")) continue;
    const path = join(FIXTURES_DIR, file);
    const first = readFileSync(path, "utf8").split("\n", 1)[0];
    const match = HEADER.exec(first);
    if (match === null)
      throw new Error(
        `${file}: the first line must be "// @runtimes node html" (or one of them), got ${JSON.stringify(first)}`,
      );
    const runtimes = match[1].trim().split(" ");
    for (const runtime of runtimes) {
      if (!(runtime in RUNTIMES))
        throw new Error(`${file}: unknown runtime "${runtime}" (expected node or html)`);
    }
    fixtures.push({ name: file.slice(0, -3), path, runtimes });
  }
  return fixtures;
}
