// The published types, checked as a consumer sees them: test/package/package.test.ts copies this
// file into a project that installed the packed tarball and compiles it with lib es2022 only
// (no DOM, no Node types) and skipLibCheck false. Every @ts-expect-error must fire (an unused
// one is an error), so each line below is a mistake the types catch.
import {
  createEventLoop,
  createEventLoopSync,
  type EventLoop,
  type Immediate,
  type PromiseRejectionEvent,
  type Timeout,
} from "zigloop";
import { createIngress, type Ingress, type IngressReport, offload } from "zigloop/ingress";
import FakeTimers, { type FakeClock, install, withGlobal } from "zigloop/testing";
import coreModule from "zigloop/wasm";
import { type IngressPort, openIngress } from "zigloop/worker";

const html = await createEventLoop();
const node = await createEventLoop({ profile: "node" });
const manual = await createEventLoop({ clock: "manual" });
const nodeManual = createEventLoopSync({ module: coreModule, profile: "node", clock: "manual" });
const loose: EventLoop = nodeManual;

const id: number = html.setTimeout(() => {}, 10);
html.clearTimeout(id);
// @ts-expect-error: an html timer is a number: no unref()
html.setTimeout(() => {}, 10).unref();
const t: Timeout = node.setTimeout(() => {}, 10);
t.unref().ref();
node.clearTimeout(t);
node.clearTimeout(+t);
// @ts-expect-error: a node timer is a Timeout, not a number
const n: number = node.setTimeout(() => {}, 1);
// @ts-expect-error: string handlers compile code: not part of the typed API
html.setTimeout("console.log(1)", 1);
const im: Immediate = node.setImmediate(() => {});
// @ts-expect-error: clearTimeout does not take an Immediate
node.clearTimeout(im);
node.clearImmediate(im);
// @ts-expect-error: a real-clock loop has no virtual time
html.advance(10);
// @ts-expect-error: a real-clock loop has no virtual time
html.runAll();
// @ts-expect-error: a real-clock loop has no virtual time
html.next();
// @ts-expect-error: a real-clock loop has no virtual time
html.runToLast();
manual.advance(10);
manual.next();
nodeManual.runAll({ limit: 10 });
loose.advance(5); // un-narrowed: allowed (checked at run time)
html.setTimeout((a: number, b: string) => [a, b], 1, 1, "x");
// @ts-expect-error: the extra arguments do not match the handler
html.setTimeout((a: number) => a, 1, "x");
// @ts-expect-error: the handler needs an argument that is not passed
html.setTimeout((a: number) => a, 1);
await new Promise<void>((resolve) => manual.setTimeout(resolve, 5));
node.setTimeout(function () {
  this.refresh();
}, 1);
// @ts-expect-error: an unknown option name
await createEventLoop({ clok: "manual" });
// @ts-expect-error: a wrong option value
await createEventLoop({ profile: "browser" });
html.addEventListener("unhandledrejection", (event) => {
  const e: PromiseRejectionEvent = event;
  e.preventDefault();
  return [e.reason, e.promise];
});
const p: Promise<number> = html.Promise.resolve(1);
const dispose = html.installGlobals({});
dispose();
dispose[Symbol.dispose]();
t[Symbol.dispose]();
void html[Symbol.asyncDispose]();

const ingress: Ingress = createIngress(html, { producers: 2 });
ingress.on(1, (payload: unknown, producer: number) => [payload, producer]);
const port: IngressPort = openIngress(ingress.description);
const posted: boolean = port.post(1, "text");
// @ts-expect-error: a kind is a number
port.post("one", 1);
const report: IngressReport = ingress.close();
const product: Promise<number> = offload(html, (a: number, b: number) => a * b, 6, 7);

// zigloop/testing: fake-timers' names and shapes.
const clock: FakeClock = install({ now: new Date(0), toFake: ["setTimeout", "Date"] });
const now: number = clock.tick("01:00");
const later: Promise<number> = clock.tickAsync(10);
const fakeDate: Date = new clock.Date();
clock.uninstall();
// @ts-expect-error: not a name fake-timers knows
install({ toFake: ["setTimeoutt"] });
withGlobal({}).createClock(0, 100).runAll();
FakeTimers.createClock().setTimeout(() => {}, 10);

export { fakeDate, id, later, n, now, p, posted, product, report };
