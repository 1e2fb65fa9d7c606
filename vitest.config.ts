import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "examples/testing/*.test.ts"],
    // Runtime smoke tests (Deno, Bun, workerd, Chromium) run via `npm run test:runtimes`.
    exclude: ["test/runtimes/**", "node_modules/**"],
    globalSetup: ["test/setup/dist.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
