/// <reference types="node" />
/**
 * The escape battery under Hardened JavaScript (SES): `lockdown()` and a `Compartment` per
 * vector, with the loop's functions installed on the compartment's global. lockdown
 * freezes the intrinsics of the whole process, so the run is a child process
 * (ses_child.mjs, against the built dist/).
 *
 * What it shows: zigloop loads and runs after lockdown in both profiles; nothing a
 * compartment gets reaches the Function constructor (SES tames it) or a prototype that is
 * not frozen (installGlobals hardens what it installs and the classes it hands out). One
 * known gap, asserted so that closing it shows: in the node profile a compartment gets the
 * host's own Timeout/Immediate objects, whose symbol-keyed fields reach the loop's engine
 * (docs/SECURITY.md, Hardened JavaScript).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

interface Result {
  name: string;
  profile: "html" | "node";
  out: string;
  threw: boolean;
}

const child = fileURLToPath(new URL("./ses_child.mjs", import.meta.url));
const results = JSON.parse(
  execFileSync(process.execPath, [child], { encoding: "utf8", timeout: 60_000 }),
) as Result[];

/**
 * The node profile's known gap: the handle's internal fields and what they lead to, its
 * methods, which (unlike a vm guest's facades) do not check their `this`, and its
 * constructor, which (unlike a facade's) any code can call.
 */
const GAP =
  /: the loop's internal fields$|\.Symbol\(zigloop\.[a-z]+\)|method on a (plain object|Proxy of it): did not throw$|constructed with a guest value: did not throw$/;

describe("escape battery under SES lockdown(), one Compartment per vector", () => {
  test("every vector ran in both profiles", () => {
    for (const profile of ["html", "node"]) {
      expect(results.filter((r) => r.profile === profile).length).toBeGreaterThanOrEqual(12);
    }
  });

  for (const result of results) {
    test(`${result.profile}: ${result.name}`, () => {
      const problems = result.out.split("\n").filter((line) => line.startsWith("PROBLEM"));
      const unexpected =
        result.profile === "node" ? problems.filter((p) => !GAP.test(p)) : problems;
      expect(unexpected).toEqual([]);
      expect(result.threw).toBe(false);
      expect(result.out).toMatch(/DONE \d+ problems/);
      if (!result.name.startsWith("a budget")) {
        expect(result.out).toContain("ALIVE timer immediate microtask");
      }
    });
  }

  test("known gap (node profile): a compartment reaches the loop's engine through a Timeout's symbol-keyed fields", () => {
    const gap = results.filter(
      (r) => r.profile === "node" && /: the loop's internal fields/.test(r.out),
    );
    expect(gap.map((r) => r.name)).toContain(
      "node Timeout and Immediate objects: prototypes, methods, forged and foreign this",
    );
  });
});
