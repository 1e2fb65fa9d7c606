#!/usr/bin/env node
// The `zigloop` command. The implementation is src-ts/cli/main.ts, built into dist/.
import { main } from "../dist/cli/main.js";

const { exitCode } = await main(process.argv.slice(2));
process.exitCode = exitCode;
