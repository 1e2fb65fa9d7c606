/**
 * The escape battery: what a guest run by `zigloop run` (or given a loop's globals with
 * `installGlobals` on a vm context, or inside a SES Compartment) might try to reach the
 * host's realm or to break the loop. Each vector is a classic script evaluated after the
 * prelude (prelude.mjs, the guest's `$`): it hands `$` everything the loop gives it to
 * walk (`$.check`) and tries the escape on it (`$.escape`), and ends with
 * `$.finish()`, which checks that a timer, an immediate and a microtask still run.
 *
 * - `expect`: lines the vector must print (`CALLED <spy>` when a spy ran), so a vector
 *   whose hook never ran fails instead of passing vacuously.
 * - `profiles`, `paths`: where it applies (default: everywhere).
 * - `flags`: extra `zigloop run` flags, and the matching loop options for the other paths.
 *
 * Plain JavaScript, shared by escape.test.ts and the SES child (ses_child.mjs): no
 * `import(` and no HTML comment tokens in the sources (SES refuses them).
 *
 * @module
 */

/**
 * @typedef {object} Vector
 * @property {string} name
 * @property {string} source
 * @property {string[]} [expect]
 * @property {("html"|"node")[]} [profiles]
 * @property {("cli"|"vm"|"ses")[]} [paths]
 * @property {{ timers?: number }} [capacity]
 */

/** @type {Vector[]} */
export const VECTORS = [
  {
    name: "installed functions: constructor chains, prototypes, call/apply/bind, toString",
    source: `
      for (const name of $.names) {
        const value = globalThis[name];
        $.check(name, value);
        $.escape(name, value);
        $.escape(name + " [[Prototype]]", Object.getPrototypeOf(value));
        if (typeof value === "function") {
          $.check(name + ".bind()", value.bind(null));
          $.check(name + ".toString()", value.toString());
          $.escape(name + ".call", value.call);
          $.escape(name + ".bind()", value.bind(null));
        } else {
          for (const key of Reflect.ownKeys(value)) $.escape(name + "." + String(key), value[key]);
        }
      }
      $.emit("RAN");
      $.finish();`,
    expect: ["RAN"],
  },
  {
    name: "errors the loop throws to the guest: guest-realm classes, names and codes",
    source: `
      const tries = [
        ["setTimeout(42)", () => { clearTimeout(setTimeout(42)); throw "no"; }], // html: a string handler
        ["setInterval(Symbol())", () => setInterval(Symbol())],
        ["setImmediate(42)", () => setImmediate(42)],
        ["queueMicrotask(42)", () => queueMicrotask(42)],
        ["setTimeout(fn, 1n)", () => { const id = setTimeout(() => {}, 1n); clearTimeout(id); throw "no"; }],
        ["clearTimeout(Symbol())", () => { clearTimeout(Symbol()); throw "no"; }],
      ];
      for (const [label, fn] of tries) {
        let caught;
        try { fn(); } catch (error) { caught = error; }
        if (caught === "no") continue; // this profile accepts it
        $.check(label + " (thrown)", caught);
        $.escape(label + " (thrown)", caught);
        if (!$.isError(caught)) $.problem(label + ": not an instance of the guest's Error");
        $.record(label, caught);
      }
      $.finish();`,
    expect: [
      "ERR setImmediate(42) = TypeError | ERR_INVALID_ARG_TYPE",
      "ERR queueMicrotask(42) = TypeError",
    ],
  },
  {
    name: "timer callbacks: this, arguments and extra arguments (setTimeout, setInterval, setImmediate)",
    source: `
      const extra = { x: 1 };
      let runs = 0;
      function look(label) {
        return function (a, b) {
          $.check(label + " this", this);
          $.escape(label + " this", this);
          $.check(label + " arguments", arguments);
          $.escape(label + " arguments", arguments);
          if (a !== extra || b !== 2) $.problem(label + ": wrong extra arguments");
          if ($.profile === "html" && this !== globalThis) $.problem(label + ": this is not the guest's global");
          if (++runs === 3) $.finish();
        };
      }
      setTimeout(look("setTimeout"), 0, extra, 2);
      const id = setInterval(function () { clearInterval(id); look("setInterval").apply(this, arguments); }, 0, extra, 2);
      setImmediate(look("setImmediate"), extra, 2);
      $.emit("RAN");`,
    expect: ["RAN"],
  },
  {
    name: "sloppy arguments.callee.caller and fn.caller of callbacks and coercion hooks",
    paths: ["cli", "vm"],
    source: `
      function climb(label, fn) {
        let caller;
        try { caller = fn.caller; } catch (error) { $.check(label + " (thrown)", error); return; }
        $.check(label, caller);
        $.escape(label, caller);
      }
      function callback() {
        climb("timer callback .caller", callback);
        climb("arguments.callee.caller", arguments.callee);
        $.emit("RAN callback");
      }
      setTimeout(callback, 0);
      setImmediate(function immediate() { climb("immediate .caller", immediate); });
      queueMicrotask(function micro() { climb("microtask .caller", micro); });
      const delay = { valueOf: function valueOf() { climb("delay valueOf .caller", valueOf); return 1; } };
      setTimeout(() => {}, delay);
      $.finish(2);`,
    expect: ["RAN callback"],
  },
  {
    name: "node Timeout and Immediate objects: prototypes, methods, forged and foreign this",
    profiles: ["node"],
    source: `
      const t = setTimeout(() => {}, 1000);
      const i = setImmediate(() => {});
      for (const [label, handle] of [["Timeout", t], ["Immediate", i]]) {
        $.check(label, handle);
        $.escape(label, handle);
        const proto = Object.getPrototypeOf(handle);
        $.check(label + " prototype", proto);
        for (const key of Reflect.ownKeys(proto)) {
          const d = Object.getOwnPropertyDescriptor(proto, key);
          $.escape(label + "." + String(key), d.value ?? d.get);
        }
        $.check(label + ".hasRef()", handle.hasRef());
        $.check(label + ".ref()", handle.ref());
        $.throws(label + " method on a forged this", () => proto.ref.call(new handle.constructor()));
        // The facade's private field holds the host handle: the guest must not make one
        // holding a value of its own, whatever it passes to the constructor.
        $.throws(label + " constructed with a guest value", () => new handle.constructor(handle, {}));
        $.throws(label + " method on Object.create(prototype)", () => proto.ref.call(Object.create(proto)));
        $.throws(label + " method on a plain object", () => proto.hasRef.call({}));
        $.throws(label + " method on a Proxy of it", () => proto.hasRef.call(new Proxy(handle, {})));
      }
      $.check("Timeout.refresh()", t.refresh());
      $.check("+Timeout", +t);
      clearTimeout(+t);
      clearImmediate(i);
      $.finish();`,
  },
  {
    name: "a Proxy as a callback: the apply trap's arguments array and this",
    source: `
      setTimeout($.spy("timer callback"), 0, 1, 2);
      setImmediate($.spy("immediate callback"), 1);
      queueMicrotask($.spy("microtask callback"));
      let beats = 0, id;
      id = setInterval($.through("interval callback", () => { if (++beats === 2) clearInterval(id); }), 0);
      $.finish(5);`,
    expect: [
      "CALLED timer callback",
      "CALLED immediate callback",
      "CALLED microtask callback",
      "CALLED interval callback",
    ],
  },
  {
    name: "a bound Proxy as a callback (a bound function calls its target from its caller's realm)",
    source: `
      setTimeout($.spy("bound timer callback").bind(null, 1), 0);
      setImmediate($.spy("bound immediate callback").bind(null));
      $.finish(2);`,
    expect: ["CALLED bound timer callback", "CALLED bound immediate callback"],
  },
  {
    name: "coercion hooks of delays and ids that are Proxies (valueOf, Symbol.toPrimitive, toString)",
    source: `
      setTimeout(() => {}, { valueOf: $.spy("delay valueOf", 1) });
      setTimeout(() => {}, { [Symbol.toPrimitive]: $.spy("delay toPrimitive", 1) });
      try { setInterval(() => {}, { valueOf: $.spy("interval delay valueOf", () => { throw "stop"; }) }); } catch (error) { if (error !== "stop") $.problem("the guest's own throw came back as " + error); }
      clearTimeout({ valueOf: $.spy("clearTimeout id valueOf", 12345) });
      clearInterval({ [Symbol.toPrimitive]: $.spy("clearInterval id toPrimitive", 12345) });
      $.finish();`,
    expect: ["CALLED delay valueOf", "CALLED delay toPrimitive"],
  },
  {
    name: "objects whose every trap is a spy, as handler, delay, id and microtask",
    source: `
      const handler = $.trapped("handler object", { toString() { return "void 0"; } });
      try { const id = setTimeout(handler, 1); clearTimeout(id); } catch (error) { $.check("handler object (thrown)", error); $.escape("handler object (thrown)", error); }
      setTimeout(() => {}, $.trapped("delay object", { valueOf() { return 1; } }));
      clearTimeout($.trapped("id object", { valueOf() { return 99999; } }));
      $.throws("queueMicrotask(trapped)", () => queueMicrotask($.trapped("microtask object")));
      $.throws("setImmediate(trapped)", () => setImmediate($.trapped("immediate object")));
      $.finish();`,
    expect: ["CALLED handler object", "CALLED delay object", "CALLED microtask object"],
  },
  {
    name: "a coercion hook that throws a Proxy or re-enters the loop",
    source: `
      const thrown = $.trapped("thrown by valueOf");
      let caught;
      try { setTimeout(() => {}, { valueOf() { throw thrown; } }); } catch (error) { caught = error; }
      if (caught !== thrown) $.problem("the guest's own thrown value did not come back as it was");
      let inner;
      const id = setTimeout(() => $.problem("a timer cleared by its own delay's valueOf ran"), {
        valueOf() { inner = setTimeout(() => $.emit("RAN inner"), 0); queueMicrotask(() => $.emit("RAN microtask")); return 0; },
      });
      setTimeout(() => {}, { valueOf() { clearTimeout(inner); clearTimeout(id); return 0; } });
      setTimeout(() => $.emit("RAN after"), { valueOf() { clearTimeout(id); return 0; } });
      $.finish(2);`,
    expect: ["RAN microtask", "RAN after"],
  },
  {
    name: "errors thrown by callbacks: Proxy getters for stack and message, toString, a thrown Proxy",
    source: `
      const e1 = new Error("getters");
      Object.defineProperty(e1, "stack", { get: $.spy("stack getter", "stack text") });
      Object.defineProperty(e1, "message", { get: $.spy("message getter", "m") });
      setTimeout(() => { throw e1; }, 0);
      setTimeout(() => { throw { toString: $.spy("thrown toString", "t") }; }, 0);
      setImmediate(() => { throw $.trapped("thrown Proxy"); });
      queueMicrotask(() => { throw { get stack() { return $.spy("microtask stack getter", "s")(); }, toString: $.spy("microtask thrown toString", "t") }; });
      $.finish(2);`,
    expect: ["CALLED stack getter", "CALLED thrown toString"],
  },
  {
    name: "the script's own uncaught throw and an unhandled rejection with Proxy hooks",
    paths: ["cli"],
    source: `
      setTimeout(() => Promise.reject({ toString: $.spy("rejection toString", "r") }), 0);
      $.finish(2);
      throw { toString: $.spy("script throw toString", "s") };`,
    expect: ["CALLED rejection toString", "CALLED script throw toString"],
  },
  {
    name: "thenables and await inside callbacks: the resolving functions",
    source: `
      setTimeout(async () => {
        const value = await { then(resolve, reject) { $.check("resolve", resolve); $.escape("resolve", resolve); $.escape("reject", reject); resolve(7); } };
        if (value !== 7) $.problem("thenable value");
        await new Promise((resolve) => Promise.resolve({ then: $.spy("thenable then", () => resolve()) }));
        $.emit("RAN");
        $.finish();
      }, 0);`,
    expect: ["RAN", "CALLED thenable then"],
  },
  {
    name: "Symbol.species and Promise.prototype.constructor replaced: queueMicrotask ignores them",
    paths: ["cli", "vm"], // SES: the intrinsics are frozen (the "hardened intrinsics" vector)
    source: `
      const Evil = function (executor) { $.problem("queueMicrotask used the guest's species"); return new Promise(executor); };
      Object.defineProperty(Promise, Symbol.species, { get() { $.problem("queueMicrotask read Promise[Symbol.species]"); return Evil; }, configurable: true });
      Evil[Symbol.species] = Evil;
      Promise.prototype.constructor = Evil;
      const then = Promise.prototype.then;
      Promise.prototype.then = $.spy("then (never used by the loop)");
      queueMicrotask(() => $.emit("RAN microtask"));
      Promise.prototype.then = then;
      setTimeout(() => { Promise.prototype.constructor = Promise; delete Promise[Symbol.species]; $.finish(); }, 0);`,
    expect: ["RAN microtask"],
  },
  {
    name: "Error.prepareStackTrace: call sites of errors the loop throws and of callback frames",
    paths: ["cli", "vm"],
    source: `
      Error.prepareStackTrace = function (error, sites) {
        $.check("prepareStackTrace error", error);
        for (let i = 0; i < sites.length; i++) {
          const site = sites[i];
          $.check("call site " + i, site);
          $.escape("call site " + i, site);
          $.check("call site " + i + " getFunction()", site.getFunction());
          $.check("call site " + i + " getThis()", site.getThis());
        }
        $.emit("CALLED prepareStackTrace");
        return "stack";
      };
      try { setTimeout(42); } catch (error) { void error.stack; }
      setTimeout(function sloppy() { void new Error("in a callback").stack; }, 0);
      setTimeout(() => {}, { valueOf() { void new Error("in valueOf").stack; return 0; } });
      if ($.profile === "html" && $.path === "cli") setTimeout("[object Object]", 0); // a SyntaxError when it fires
      setTimeout(() => { Error.prepareStackTrace = undefined; $.finish(); }, 1);`,
    expect: ["CALLED prepareStackTrace"],
  },
  {
    name: "Function.prototype.call/apply/bind and Reflect.apply replaced by spies",
    paths: ["cli", "vm"], // SES: the intrinsics are frozen (the "hardened intrinsics" vector)
    source: `
      const FP = Function.prototype;
      const saved = [FP.call, FP.apply, FP.bind, Reflect.apply];
      FP.call = $.spy("Function.prototype.call");
      FP.apply = $.spy("Function.prototype.apply");
      FP.bind = $.spy("Function.prototype.bind");
      Reflect.apply = $.spy("Reflect.apply");
      let ran = 0;
      setTimeout(() => ran++, 0, 1);
      setTimeout(() => ran++, 0);
      setImmediate(() => ran++, 1);
      queueMicrotask(() => ran++);
      setTimeout(() => setImmediate(() => {
        FP.call = saved[0]; FP.apply = saved[1]; FP.bind = saved[2]; Reflect.apply = saved[3];
        if (ran !== 4) $.problem("callbacks ran " + ran + " times, not 4");
        $.emit("RAN");
        $.finish();
      }), 1);`,
    expect: ["RAN"],
  },
  {
    name: "prototype pollution: setters on Object.prototype and Array.prototype, iterators, then",
    paths: ["cli", "vm"], // SES: the intrinsics are frozen (the "hardened intrinsics" vector)
    source: `
      const keys = ["kind", "value", "thrown", "name", "message", "code", "capacity", "limit", "functions",
        "global", "constructor", "length", "0", "1", "stack", "cause", "then", "callee"];
      for (const key of keys) $.recorder("Object.prototype." + key, Object.prototype, key);
      for (const key of ["0", "1", "2", "length"]) $.recorder("Array.prototype." + key, Array.prototype, key);
      const iterator = Array.prototype[Symbol.iterator];
      Array.prototype[Symbol.iterator] = $.through("Array.prototype[Symbol.iterator]", iterator);
      // (Not Object.prototype[Symbol.toPrimitive]: Node's own stack formatter, host code,
      // converts the guest's call sites with it; escape.test.ts shows that door is Node's.)
      let ran = 0;
      setTimeout((a, b) => { if (a === 1 && b === 2) ran++; }, 0, 1, 2);
      setImmediate(() => ran++);
      queueMicrotask(() => ran++);
      try { setTimeout(42); } catch (error) { $.check("error", error); }
      try { setImmediate(null); } catch (error) { $.check("error", error); }
      setTimeout(() => setImmediate(() => {
        for (const key of keys) delete Object.prototype[key];
        for (const key of ["0", "1", "2"]) delete Array.prototype[key];
        Array.prototype[Symbol.iterator] = iterator;
        if (ran !== 3) $.problem("callbacks ran " + ran + " times, not 3");
        $.emit("RAN");
        $.finish();
      }), 1);`,
    expect: ["RAN"],
  },
  {
    name: "intrinsics the trampoline uses replaced after install (defineProperty, WeakSet, Promise.resolve)",
    paths: ["cli", "vm"], // SES: the intrinsics are frozen (the "hardened intrinsics" vector)
    source: `
      Object.defineProperty = $.spy("Object.defineProperty");
      Object.create = $.spy("Object.create");
      WeakSet.prototype.has = $.spy("WeakSet.prototype.has", true);
      Promise.resolve = $.spy("Promise.resolve");
      Reflect.getPrototypeOf = $.spy("Reflect.getPrototypeOf");
      Array.isArray = $.spy("Array.isArray");
      let ran = 0;
      setTimeout(() => ran++, { valueOf() { return 0; } });
      clearTimeout({});
      queueMicrotask(() => ran++);
      try { setTimeout({}); } catch (error) { $.check("error", error); }
      setTimeout(() => { if (ran !== 2) $.problem("callbacks ran " + ran + " times"); $.finish(); }, 1);`,
  },
  {
    name: "a revoked Proxy as handler, delay and id",
    source: `
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      $.throws("setTimeout(revoked)", () => setTimeout(proxy, 0));
      $.throws("setTimeout(fn, revoked)", () => setTimeout(() => {}, proxy));
      try { clearTimeout(proxy); } catch (error) { $.check("clearTimeout(revoked) (thrown)", error); $.escape("clearTimeout(revoked) (thrown)", error); }
      $.finish();`,
  },
  {
    name: "html string handlers run as the guest's own code; a handler object's toString is a Proxy",
    profiles: ["html"],
    paths: ["cli", "vm"],
    source: `
      setTimeout("$.check('string handler this', this); $.escape('string handler this', this); $.emit('RAN string');", 0);
      setTimeout({ toString: $.spy("handler toString", "void 0") }, 0);
      $.finish(2);`,
    expect: ["RAN string", "CALLED handler toString"],
  },
  {
    name: "a budget reached: the guest-realm CapacityError",
    capacity: { timers: 8 },
    source: `
      let caught;
      const ids = [];
      try { for (let i = 0; i < 100; i++) ids.push(setTimeout(() => {}, 1000)); } catch (error) { caught = error; }
      for (const id of ids) clearTimeout(id);
      $.check("CapacityError", caught);
      $.escape("CapacityError", caught);
      $.escape("CapacityError [[Prototype]]", Object.getPrototypeOf(caught));
      if (!$.isError(caught) || !(caught instanceof RangeError)) $.problem("not a guest RangeError");
      $.record("budget", caught);
      $.done();`,
    expect: ["ERR budget = CapacityError | ERR_LOOP_CAPACITY"],
  },
  {
    name: "hardened intrinsics: every replacement the cli/vm vectors make throws",
    paths: ["ses"],
    source: `
      const attempts = [
        () => { Function.prototype.call = null; },
        () => { Reflect.apply = null; },
        () => { Promise.prototype.constructor = null; },
        () => { Object.defineProperty(Promise, Symbol.species, { value: null }); },
        () => { Object.prototype.value = 1; },
        () => { Array.prototype[Symbol.iterator] = null; },
        () => { Error.prepareStackTrace = () => "x"; if (typeof new Error("e").stack !== "string") throw 1; throw 0; },
      ];
      for (const name of $.names) if (!Object.isFrozen(globalThis[name])) $.problem(name + " is not hardened");
      try { setTimeout(42); } catch (error) { if (!Object.isFrozen(Object.getPrototypeOf(error))) $.problem("an error's prototype is not frozen"); }
      const handle = setTimeout(() => {}, 0);
      if (typeof handle === "object" && !Object.isFrozen(Object.getPrototypeOf(handle))) $.problem("Timeout.prototype is not frozen");
      for (let i = 0; i < attempts.length; i++) {
        try { attempts[i](); $.problem("replacement " + i + " succeeded"); } catch (error) { $.check("replacement " + i + " (thrown)", error); }
      }
      $.emit("RAN");
      $.finish();`,
    expect: ["RAN"],
  },
  {
    name: "the CLI's console and performance",
    paths: ["cli"],
    source: `
      for (const name of ["console", "performance"]) {
        for (const key of Reflect.ownKeys(globalThis[name])) {
          $.escape(name + "." + String(key), globalThis[name][key]);
        }
      }
      $.check("performance.now()", performance.now());
      console.log({ toString: $.spy("logged toString") }, [$.trapped("logged Proxy")]);
      $.finish();`,
  },
];
