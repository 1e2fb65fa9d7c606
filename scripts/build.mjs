// Builds the package (`npm run build`, also the `prepare` script). See
// docs/ARCHITECTURE.md, "Loading the core", and package.json `exports`.
//
// 1. dist/**/*.js + .d.ts: ESM and declarations from src-ts/ (tsc), at the same
//    depth as the sources, so `new URL("../../wasm/zigloop.wasm", import.meta.url)`
//    in dist/core/ names the package's wasm/zigloop.wasm.
// 2. dist/cjs/zigloop.cjs: the Node entry (src-ts/node.ts) bundled to one
//    CommonJS file with esbuild, for `require("zigloop")`. CommonJS has no
//    `import.meta`, so `import.meta.url` is defined as the bundle's own file URL;
//    dist/cjs/ is at the same depth as src-ts/core/, so the relative wasm URL
//    still resolves. Likewise dist/cjs/ingress.cjs and worker.cjs for
//    `require("zigloop/ingress")` and `require("zigloop/worker")` (CJS_BUNDLES).
// 3. dist/cjs/**/*.d.cts: the declarations of the entries again, as CommonJS
//    declarations (zigloop.d.cts is node.d.ts), with relative specifiers
//    rewritten to `.cjs` so TypeScript resolves them to the sibling `.d.cts`.
// 4. dist/cjs/testing.cjs + dist/cjs/testing/**/*.d.cts: the same for the Node entry
//    of `zigloop/testing` (src-ts/testing/node.ts), one more of the CJS_BUNDLES.
// 5. dist/wasm.d.ts, dist/wasm.d.cts: the types of the `zigloop/wasm` export (the
//    raw wasm/zigloop.wasm), as hosts that compile a static `.wasm` import see it.
//
// Usage: node scripts/build.mjs
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const CJS_DIR = "cjs";
const CJS_ENTRY = "zigloop";
// The identifier the bundle's banner binds to its own file URL.
const META_URL = "__zigloop_import_meta_url";

/**
 * The CommonJS bundles: the Node entry, and the ingress entries (`zigloop/ingress`,
 * `zigloop/worker`). `metaUrl` is what `import.meta.url` means in the bundle: its own
 * file for the Node entry (dist/cjs/ is at the depth of src-ts/core/, so the relative
 * wasm URL resolves); the ESM pool module for the ingress, so the offload pool's worker
 * is dist/ingress/pool_worker.js (an ES module, loaded by a new thread either way).
 */
const CJS_BUNDLES = [
  {
    entry: "src-ts/node.ts",
    out: `${CJS_ENTRY}.cjs`,
    metaUrl: "__filename",
    declarations: "node.d.ts",
    declarationsTarget: `${CJS_DIR}/${CJS_ENTRY}.d.cts`,
  },
  {
    entry: "src-ts/ingress/mod.ts",
    out: "ingress.cjs",
    metaUrl: `require("node:path").join(__dirname, "../ingress/pool.js")`,
    declarations: "ingress/mod.d.ts",
    declarationsTarget: `${CJS_DIR}/ingress/mod.d.cts`,
  },
  {
    entry: "src-ts/ingress/worker.ts",
    out: "worker.cjs",
    metaUrl: "__filename",
    declarations: "ingress/worker.d.ts",
    declarationsTarget: `${CJS_DIR}/ingress/worker.d.cts`,
  },
  {
    entry: "src-ts/testing/node.ts",
    out: "testing.cjs",
    metaUrl: "__filename",
    declarations: "testing/node.d.ts",
    declarationsTarget: `${CJS_DIR}/testing/node.d.cts`,
  },
];

const WASM_DOC = `/**
 * \`zigloop/wasm\`: the raw core, wasm/zigloop.wasm, for embedders who compile it
 * themselves and pass it to \`createEventLoopSync({ module })\`.
 *
 * These types describe a static import in hosts that compile \`.wasm\` imports to a
 * \`WebAssembly.Module\` (workerd and wrangler, bundlers configured that way).
 * Elsewhere resolve the file instead: \`import.meta.resolve("zigloop/wasm")\` or
 * \`require.resolve("zigloop/wasm")\`, then read and compile its bytes.
 */
declare const coreModule: CompiledCore;
`;

// Built next to dist/ and swapped in at the end, so a test reading dist/ while a
// build runs sees the old build or the new one, never half of one.
const final = join(root, "dist");
const dist = join(root, `.dist-build-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);
rmSync(dist, { recursive: true, force: true });

try {
  await buildInto(dist);
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(final, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  renameSync(dist, final);
} finally {
  rmSync(dist, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}

async function buildInto(dist) {
  // 1. ESM + declarations.
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--outDir", dist],
    {
      cwd: root,
      stdio: "inherit",
    },
  );

  // 2. The CommonJS bundles.
  for (const bundle of CJS_BUNDLES) await buildCjs(dist, bundle);

  // 3. CommonJS declarations: each bundle's entry declaration and everything it imports,
  //    as .d.cts.
  for (const bundle of CJS_BUNDLES) {
    copyDeclarationsAsCjs(dist, bundle.declarations, bundle.declarationsTarget);
  }

  // 4. Types of `zigloop/wasm`.
  // CompiledCore (web.ts) stands for WebAssembly.Module without needing the DOM library.
  writeFileSync(
    join(dist, "wasm.d.ts"),
    `import type { CompiledCore } from "./web.js";\n${WASM_DOC}export default coreModule;\n`,
  );
  writeFileSync(
    join(dist, "wasm.d.cts"),
    `import type { CompiledCore } from "./cjs/web.cjs";\n${WASM_DOC}export = coreModule;\n`,
  );
}

async function buildCjs(dist, { entry, out, metaUrl }) {
  const outfile = join(dist, CJS_DIR, out);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    keepNames: true, // class and function names users see (errors, Timeout) survive bundling
    legalComments: "none",
    logLevel: "warning",
    define: { "import.meta.url": META_URL },
    banner: {
      js: `"use strict";\nconst ${META_URL} = require("node:url").pathToFileURL(${metaUrl}).href;`,
    },
  });
  const bundle = readFileSync(outfile, "utf8");
  if (bundle.includes("import.meta")) {
    throw new Error(`${relative(dist, outfile)} still mentions import.meta: CommonJS has none.`);
  }
}

/**
 * Copies `entry` (a path under `dist`; its target keeps the same depth under cjs/, so
 * relative paths stay valid) and every declaration file it reaches by a relative
 * specifier into cjs/
 * as `.d.cts`, rewriting those specifiers (`./api.ts`, `./api.js`) to
 * `./api.cjs`, which TypeScript resolves to `api.d.cts`.
 */
function copyDeclarationsAsCjs(dist, entry, entryTarget) {
  const pending = [entry];
  const seen = new Set();
  const specifier = /((?:\bfrom|\bimport)\s*\(?\s*["'])(\.\.?\/[^"']+?)\.(?:d\.)?(?:ts|js)(["'])/g;
  while (pending.length > 0) {
    const path = pending.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    const source = readFileSync(join(dist, path), "utf8");
    const rewritten = source.replace(specifier, (_, before, target, quote) => {
      pending.push(posix.normalize(posix.join(posix.dirname(path), `${target}.d.ts`)));
      return `${before}${target}.cjs${quote}`;
    });
    const target =
      path === entry ? entryTarget : posix.join(CJS_DIR, path.replace(/\.d\.ts$/, ".d.cts"));
    mkdirSync(dirname(join(dist, target)), { recursive: true });
    writeFileSync(join(dist, target), rewritten);
  }
}
