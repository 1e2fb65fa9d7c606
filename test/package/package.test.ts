/// <reference types="node" />
/**
 * The published package, as a user gets it: `npm pack` of the current dist/ (built by
 * the vitest global setup when stale; `npm pack` here skips `prepare` so it never
 * rebuilds dist/ under other tests), the tarball's file list, then a consumer project
 * outside the repository that installs the tarball and uses it from ESM
 * (`import("zigloop")`), CommonJS (`require("zigloop")`), the `zigloop/wasm` subpath,
 * the `zigloop` bin, and TypeScript (nodenext, ESM and CJS files, without
 * skipLibCheck so every shipped declaration is checked); the same project in Deno
 * and Bun (their `exports` conditions); and what a bundler resolves for each
 * condition (esbuild, as wrangler uses it for workerd).
 * `npm run lint:package` runs publint and attw on the same kind of tarball.
 */
import { type ExecFileSyncOptions, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const deno = join(root, "node_modules/deno/deno");
const bun = join(root, "node_modules/.bin/bun");

interface PackResult {
  filename: string;
  files: { path: string }[];
}

// What a user needs and nothing else (npm itself always adds package.json, README*
// and LICENSE*, also wasm/README.md: how the shipped core was built).
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^bin\/zigloop\.mjs$/,
  /^wasm\/zigloop\.wasm$/,
  /^wasm\/README\.md$/,
  /^dist\/.+\.(js|cjs|d\.ts|d\.cts)$/,
];

let work: string;
let consumer: string;
let packed: PackResult;

function run(command: string, args: string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, {
      cwd: consumer,
      encoding: "utf8",
      stdio: "pipe",
      ...options,
    }) as string;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
  }
}

/** Every file path an `exports` map (or part of it) points to. */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

beforeAll(() => {
  for (const built of [
    "dist/node.js",
    "dist/mod.js",
    "dist/workerd.js",
    "dist/cjs/zigloop.cjs",
    "dist/wasm.d.ts",
  ]) {
    if (!existsSync(join(root, built)))
      throw new Error(`${built} is missing: run \`npm run build\` first.`);
  }
  work = mkdtempSync(join(tmpdir(), "zigloop-package-"));
  const output = run(npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", work], {
    cwd: root,
  });
  [packed] = JSON.parse(output) as PackResult[];

  consumer = join(work, "consumer");
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true }),
  );
  // The package has no dependencies, so this never needs the registry.
  run(npm, [
    "install",
    "--offline",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    join(work, packed.filename),
  ]);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("ships only dist/, the core, the bin, README, LICENSE and package.json", () => {
    const paths = packed.files.map((file) => file.path);
    const unexpected = paths.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)));
    expect(unexpected).toEqual([]);
    for (const forbidden of [
      "test/",
      "src-zig/",
      "src-ts/",
      "node_modules/",
      "scripts/",
      "bench/",
      ".ci/",
    ]) {
      expect(paths.filter((path) => path.startsWith(forbidden))).toEqual([]);
    }
  });

  it("ships every file package.json points to", () => {
    const paths = new Set(packed.files.map((file) => file.path));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const targets = [
      ...exportTargets(pkg.exports),
      ...exportTargets(pkg.typesVersions),
      ...Object.values(pkg.bin as Record<string, string>),
      pkg.main,
      pkg.types,
    ].map((target: string) => target.replace(/^\.\//, ""));
    expect(targets.filter((target) => !paths.has(target))).toEqual([]);
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.sideEffects).toBe(false);
  });
});

describe("package-lock.json", () => {
  // npm drops the lock entries of optional platform binaries it cannot fetch (here:
  // deno's and workerd's macOS/Windows builds) when `npm install` runs with an
  // existing node_modules; `npm ci` (CI) then refuses the lock. Caught here first.
  it("is in sync with package.json for `npm ci`", () => {
    const dir = join(work, "lock");
    mkdirSync(dir);
    for (const file of ["package.json", "package-lock.json"]) {
      writeFileSync(join(dir, file), readFileSync(join(root, file)));
    }
    run(npm, ["ci", "--dry-run", "--ignore-scripts", "--offline", "--no-audit", "--no-fund"], {
      cwd: dir,
    });
  });
});

describe("deno.json (JSR)", () => {
  it("publishes the same version and license as package.json, from sources that exist", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const jsr = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
    expect({ version: jsr.version, license: jsr.license }).toEqual({
      version: pkg.version,
      license: pkg.license,
    });
    const targets = exportTargets(jsr.exports);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !existsSync(join(root, target)))).toEqual([]);
  });
});

describe("installed in a consumer project (Node)", () => {
  it("import('zigloop') resolves to the ESM Node entry, creates a loop and fires a timer", () => {
    writeFileSync(
      join(consumer, "esm.mjs"),
      `import { createEventLoop, EventLoop } from "zigloop";
       const loop = await createEventLoop();
       const fired = [];
       loop.setTimeout((value) => fired.push(value), 5, "timer");
       await loop.run();
       loop.close();
       console.log(JSON.stringify({ fired, isLoop: loop instanceof EventLoop, entry: import.meta.resolve("zigloop") }));`,
    );
    const result = JSON.parse(run(process.execPath, ["esm.mjs"]));
    expect(result).toEqual({
      fired: ["timer"],
      isLoop: true,
      entry: expect.stringMatching(/\/consumer\/node_modules\/zigloop\/dist\/node\.js$/),
    });
  });

  it("require('zigloop') loads the CommonJS bundle, creates a loop and fires a timer", () => {
    writeFileSync(
      join(consumer, "cjs.cjs"),
      `const { createEventLoop, EventLoop, CapacityError } = require("zigloop");
       const fired = [];
       createEventLoop().then(async (loop) => {
         loop.setTimeout((value) => fired.push(value), 5, "timer");
         await loop.run();
         loop.close();
         console.log(JSON.stringify({
           fired,
           isLoop: loop instanceof EventLoop,
           errorName: new CapacityError("timers", 1).name,
           entry: require.resolve("zigloop"),
           pkg: require("zigloop/package.json").name,
         }));
       });`,
    );
    const result = JSON.parse(run(process.execPath, ["cjs.cjs"]));
    expect(result).toEqual({
      fired: ["timer"],
      isLoop: true,
      errorName: "CapacityError",
      entry: expect.stringMatching(/\/consumer\/node_modules\/zigloop\/dist\/cjs\/zigloop\.cjs$/),
      pkg: "zigloop",
    });
  });

  it("zigloop/wasm resolves to the core, which createEventLoopSync accepts (ESM and CJS)", () => {
    writeFileSync(
      join(consumer, "wasm.mjs"),
      `import { readFileSync } from "node:fs";
       import { createRequire } from "node:module";
       import { fileURLToPath } from "node:url";
       import { createEventLoopSync } from "zigloop";
       const esmPath = fileURLToPath(import.meta.resolve("zigloop/wasm"));
       const cjsPath = createRequire(import.meta.url).resolve("zigloop/wasm");
       const loop = createEventLoopSync({ module: new WebAssembly.Module(readFileSync(esmPath)), clock: "manual" });
       const fired = [];
       loop.setTimeout(() => fired.push(loop.now()), 1000);
       loop.advance(1000);
       loop.close();
       console.log(JSON.stringify({ fired, esmPath, same: esmPath === cjsPath }));`,
    );
    const result = JSON.parse(run(process.execPath, ["wasm.mjs"]));
    expect(result).toEqual({
      fired: [1000],
      esmPath: expect.stringMatching(/\/consumer\/node_modules\/zigloop\/wasm\/zigloop\.wasm$/),
      same: true,
    });
  });

  it("the zigloop bin runs a script", () => {
    writeFileSync(join(consumer, "script.js"), `setTimeout(() => console.log("bin ran"), 1);`);
    expect(run(join(consumer, "node_modules/.bin/zigloop"), ["run", "script.js"])).toBe(
      "bin ran\n",
    );
  });

  it("type-checks from ESM and CommonJS TypeScript (nodenext, shipped declarations checked)", () => {
    writeFileSync(
      join(consumer, "esm.mts"),
      `import { createEventLoop, type EventLoop } from "zigloop";
       import coreModule from "zigloop/wasm";
       export const loop: Promise<EventLoop> = createEventLoop({ profile: "node", clock: "manual" });
       export const module: WebAssembly.Module = coreModule;`,
    );
    writeFileSync(
      join(consumer, "cjs.cts"),
      `import zigloop = require("zigloop");
       import coreModule = require("zigloop/wasm");
       export const loop: Promise<zigloop.EventLoop> = zigloop.createEventLoop({ clock: "manual" });
       export const sync: zigloop.EventLoop = zigloop.createEventLoopSync({ module: coreModule });`,
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2022",
          // `installGlobals()` returns a Disposable: its type names Symbol.dispose, which
          // needs esnext.disposable (TS >= 5.2; @types/node also declares it) unless
          // the consumer sets skipLibCheck.
          lib: ["es2023", "dom", "esnext.disposable"],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["esm.mts", "cjs.cts"],
      }),
    );
    run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
  });
  it("declarations compile with lib es2022 only (no DOM, no Node types); test/types' expected errors all fire", () => {
    const dir = join(consumer, "es2022");
    mkdirSync(dir, { recursive: true });
    for (const file of ["consumer.mts", "consumer.cts"]) {
      writeFileSync(join(dir, file), readFileSync(join(root, "test/types", file), "utf8"));
    }
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2022",
          lib: ["es2022"],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["consumer.mts", "consumer.cts"],
      }),
    );
    run(process.execPath, [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(dir, "tsconfig.json"),
    ]);
  });
});

describe("installed in a consumer project (other runtimes and bundlers)", () => {
  // Creates a loop with the real clock, fires one timer, prints the entry it used.
  const program = (resolve: string) =>
    `import { createEventLoop } from "zigloop";
     const loop = await createEventLoop();
     const fired = [];
     loop.setTimeout(() => fired.push("timer"), 5);
     await loop.run();
     loop.close();
     console.log(JSON.stringify({ fired, entry: ${resolve} }));`;

  it.skipIf(!existsSync(deno))(
    "Deno resolves the `deno` condition (fetch loader) and fires a timer",
    () => {
      writeFileSync(join(consumer, "deno.mjs"), program(`import.meta.resolve("zigloop")`));
      const output = run(deno, ["run", "--no-lock", `--allow-read=${consumer}`, "deno.mjs"], {
        env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      });
      expect(JSON.parse(output)).toEqual({
        fired: ["timer"],
        entry: expect.stringMatching(/\/node_modules\/zigloop\/dist\/mod\.js$/),
      });
    },
  );

  it.skipIf(!existsSync(bun))(
    "Bun resolves the `bun` condition (node:fs loader) and fires a timer",
    () => {
      writeFileSync(
        join(consumer, "bun.mjs"),
        program(`Bun.resolveSync("zigloop", process.cwd())`),
      );
      expect(JSON.parse(run(bun, ["bun.mjs"]))).toEqual({
        fired: ["timer"],
        entry: expect.stringMatching(/\/node_modules\/zigloop\/dist\/node\.js$/),
      });
    },
  );

  it("bundlers resolve each condition to its entry (esbuild)", async () => {
    const { build } = await import("esbuild");
    writeFileSync(join(consumer, "bundle_esm.mjs"), `export * from "zigloop";`);
    writeFileSync(join(consumer, "bundle_cjs.cjs"), `module.exports = require("zigloop");`);
    const entryFor = async (file: string, conditions: string[]) => {
      const result = await build({
        entryPoints: [join(consumer, file)],
        bundle: true,
        write: false,
        metafile: true,
        platform: "neutral", // no implicit conditions: only the ones named here
        conditions,
        external: ["*.wasm", "node:*"],
        logLevel: "silent",
      });
      const inputs = Object.keys(result.metafile.inputs).filter((path) =>
        path.includes("node_modules/zigloop/"),
      );
      return inputs
        .map((path) =>
          path.slice(path.indexOf("node_modules/zigloop/") + "node_modules/zigloop/".length),
        )
        .find((path) => /^dist\/(workerd|mod|node)\.js$|^dist\/cjs\/zigloop\.cjs$/.test(path));
    };
    expect({
      workerd: await entryFor("bundle_esm.mjs", ["workerd", "worker", "browser"]),
      worker: await entryFor("bundle_esm.mjs", ["worker", "browser"]),
      browser: await entryFor("bundle_esm.mjs", ["browser"]),
      deno: await entryFor("bundle_esm.mjs", ["deno", "node"]),
      bun: await entryFor("bundle_esm.mjs", ["bun", "node"]),
      nodeImport: await entryFor("bundle_esm.mjs", ["node"]),
      nodeRequire: await entryFor("bundle_cjs.cjs", ["node"]),
      none: await entryFor("bundle_esm.mjs", []),
    }).toEqual({
      workerd: "dist/workerd.js",
      worker: "dist/workerd.js",
      browser: "dist/mod.js",
      deno: "dist/mod.js",
      bun: "dist/node.js",
      nodeImport: "dist/node.js",
      nodeRequire: "dist/cjs/zigloop.cjs",
      none: "dist/mod.js",
    });
  });
});
