// The child side of bench/lib/isolate.mjs: node --expose-gc child.mjs <module URL> <export> <JSON args>.
// Writes JSON lines to stdout: { progress } while running, then { result }.

const [moduleUrl, exportName, argsJson] = process.argv.slice(2);
const mod = await import(moduleUrl);
const progress = (message) => process.stdout.write(`${JSON.stringify({ progress: message })}\n`);
const result = await mod[exportName](JSON.parse(argsJson), { progress });
process.stdout.write(`${JSON.stringify({ result })}\n`);
