// Native Node runner: `node --require harness/node_preload.js fixtures/<name>.js`.
// Node then runs the fixture as its main script (CommonJS, see fixtures/package.json),
// exactly as `node <name>.js` would; this preload only adds the normalized error
// reporting every runner shares.
"use strict";
const { reasonText } = require("./reason_text.js");

process.on("uncaughtException", (error) => console.log(`uncaught ${reasonText(error)}`));
process.on("unhandledRejection", (reason) => console.log(`unhandled ${reasonText(reason)}`));
