/**
 * The guest side of the escape battery: a checker evaluated in the guest realm before a
 * vector runs, as `globalThis.$`. It captures every intrinsic it uses first, so a vector
 * that poisons `Function.prototype.call`, `Array.prototype` or `Object.prototype` cannot
 * blind it, and it stores what it collects in null-prototype objects, which no setter on
 * `Object.prototype` or `Array.prototype` can intercept.
 *
 * `$.check(label, value)` walks everything reachable from `value` through own properties
 * (values, getters, setters) and prototypes, without calling anything, and records a
 * problem for every object whose prototype chain does not end at the guest's own
 * `Object.prototype`: that is a host-realm object (its `constructor.constructor` would be
 * the host's `Function`). `$.escape(label, value)` tries the escape,
 * `value.constructor("return process")()`, and checks what it returns or throws.
 *
 * Plain JavaScript, shared by test/guests/escape.test.ts and the SES child
 * (ses_child.mjs). No `import(` and no HTML comment tokens: SES refuses sources with them.
 *
 * @module
 */

/**
 * The prelude's source. `path` is "cli", "vm" or "ses"; `profile` "html" or "node";
 * `installed`: the names the loop installs (loop/globals.ts GLOBAL_NAMES).
 * On the CLI every line the guest emits also goes to the guest's console.log.
 * @param {{ path: string, profile: string, installed: readonly string[] }} where
 * @returns {string}
 */
export function prelude({ path, profile, installed }) {
  const args = [path, profile, installed].map((value) => JSON.stringify(value)).join(", ");
  return `globalThis.$ = (${guestChecker.toString()})(globalThis, ${args});\n`;
}

/**
 * Evaluated in the guest realm through `toString()` above: it must not refer to
 * anything outside its own body.
 * @param {any} G the guest's global
 * @param {string} path
 * @param {string} profile
 * @param {string[]} installed
 */
function guestChecker(G, path, profile, installed) {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated in the guest as a classic script
  "use strict";
  const O = G.Object;
  const R = G.Reflect;
  const apply = R.apply;
  const ownKeys = R.ownKeys;
  const getProto = R.getPrototypeOf;
  const getDesc = R.getOwnPropertyDescriptor;
  const defineProp = R.defineProperty;
  const OP = O.prototype;
  const isFrozen = O.isFrozen;
  const GFunction = G.Function;
  const GString = G.String;
  const WS = G.WeakSet;
  const wsHas = WS.prototype.has;
  const wsAdd = WS.prototype.add;
  const GError = G.Error;
  const GProxy = G.Proxy;
  const log = G.console && path === "cli" ? G.console.log : undefined;
  const consoleObject = G.console;
  const names = path === "cli" ? installed.concat(["console", "performance"]) : installed;

  /** A list that no setter anywhere can intercept. */
  function list() {
    return { __proto__: null, length: 0 };
  }
  function add(to, value) {
    defineProp(to, to.length, {
      __proto__: null,
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    to.length = to.length + 1;
  }
  const problems = list();
  const output = list();
  let finished = false;

  function emit(line) {
    add(output, line);
    if (log !== undefined) apply(log, consoleObject, [line]);
  }
  function problem(text) {
    add(problems, text);
    emit(`PROBLEM ${text}`);
  }

  // The realm's own objects: never walked again (the walk would cover every intrinsic).
  const known = new WS();
  function mark(value) {
    if (value !== null && (typeof value === "object" || typeof value === "function"))
      apply(wsAdd, known, [value]);
  }
  function isKnown(value) {
    return apply(wsHas, known, [value]);
  }
  mark(G);
  mark(OP);
  mark(GFunction.prototype);
  for (const key of ownKeys(G)) {
    if (typeof key === "string" && (names.includes(key) || key === "$")) continue;
    const desc = getDesc(G, key);
    const value = desc && "value" in desc ? desc.value : undefined;
    if (value === null || (typeof value !== "object" && typeof value !== "function")) continue;
    mark(value);
    const proto = typeof value === "function" ? getDesc(value, "prototype") : undefined;
    if (proto && "value" in proto) mark(proto.value);
  }
  for (const source of [
    function* () {},
    async () => {},
    async function* () {},
    [][Symbol.iterator](),
  ]) {
    let proto = getProto(source);
    while (proto !== null && proto !== OP) {
      mark(proto);
      const ctor = getDesc(proto, "constructor");
      if (ctor && "value" in ctor) mark(ctor.value);
      proto = getProto(proto);
    }
  }

  /** Whether `value`'s prototype chain ends at this realm's Object.prototype (or it has none). */
  function inRealm(value) {
    let current = value;
    for (let steps = 0; steps < 64; steps++) {
      let next;
      try {
        next = getProto(current);
      } catch {
        return true; // a revoked proxy of the guest's: nothing to follow
      }
      if (next === null) return current === value || current === OP;
      current = next;
    }
    return false;
  }

  function hasLoopInternals(value) {
    const keys = ownKeys(value);
    for (let i = 0; i < keys.length; i++) {
      if (typeof keys[i] === "symbol" && GString(keys[i].description).startsWith("zigloop."))
        return true;
    }
    return false;
  }

  /** Walks everything reachable from `root` without calling any of it. */
  function check(label, root) {
    const queue = list();
    add(queue, { __proto__: null, value: root, at: label });
    let walked = 0;
    for (let i = 0; i < queue.length && walked < 5000; i++) {
      const { value, at, isProto } = queue[i];
      if (value === null || (typeof value !== "object" && typeof value !== "function")) continue;
      if (isKnown(value)) continue;
      mark(value);
      walked++;
      if (!inRealm(value)) {
        problem(`${at}: a host-realm ${typeof value}`);
        continue; // never walk into the host
      }
      // Hardened JavaScript: one realm, so what matters is what is shared: a prototype must
      // be frozen (or one compartment changes what another sees), and the loop's own
      // state (its symbol-keyed fields) must stay out of reach.
      if (path === "ses" && isProto && !isFrozen(value))
        problem(`${at}: a prototype that is not frozen`);
      if (path === "ses" && hasLoopInternals(value)) problem(`${at}: the loop's internal fields`);
      let keys;
      try {
        keys = ownKeys(value);
      } catch {
        keys = [];
      }
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        let desc;
        try {
          desc = getDesc(value, key);
        } catch {
          continue;
        }
        if (desc === undefined) continue;
        const name = `${at}.${GString(key)}`;
        if ("value" in desc) add(queue, { __proto__: null, value: desc.value, at: name });
        if (desc.get) add(queue, { __proto__: null, value: desc.get, at: `${name} (getter)` });
        if (desc.set) add(queue, { __proto__: null, value: desc.set, at: `${name} (setter)` });
      }
      try {
        add(queue, {
          __proto__: null,
          value: getProto(value),
          at: `${at}.[[Prototype]]`,
          isProto: true,
        });
      } catch {
        // a revoked proxy
      }
    }
  }

  /** The issue's escape through `value`'s constructor and its constructor's constructor. */
  function tryEscape(label, value) {
    if (value === null || value === undefined) return;
    let ctor;
    try {
      ctor = value.constructor;
    } catch (error) {
      check(`${label}.constructor (thrown)`, error);
      return;
    }
    attempt(label, "constructor", ctor);
    if (typeof ctor === "function") attempt(label, "constructor.constructor", ctor.constructor);
  }
  function attempt(label, via, fn) {
    if (typeof fn === "function") {
      try {
        let result = fn("return typeof process === 'undefined' ? undefined : process");
        if (typeof result === "function") result = result();
        if (result !== null && typeof result === "object" && typeof result.pid === "number")
          problem(`${label}.${via}("return process")() is the host's process`);
        check(`${label}.${via}("return process")()`, result);
      } catch (error) {
        check(`${label}.${via}("return process")() (thrown)`, error);
      }
    }
  }

  /** Calls `fn`, which must throw; checks and returns what it threw. */
  function throws(label, fn) {
    try {
      fn();
    } catch (error) {
      check(`${label} (thrown)`, error);
      tryEscape(`${label} (thrown)`, error);
      return error;
    }
    problem(`${label}: did not throw`);
    return undefined;
  }

  /** Emits `error`'s name, code and message for the host to compare with its own API's. */
  function record(label, error) {
    if (error === null || typeof error !== "object") {
      emit(`ERR ${label} = ${GString(error)}`);
      return;
    }
    const field = (value) => (value === undefined ? "-" : GString(value));
    emit(
      `ERR ${label} = ${field(error.name)} | ${field(error.code)} | ${field(error.message)}` +
        ` | ${field(error.capacity)} | ${field(error.limit)}`,
    );
  }

  /**
   * A function that records the arguments list and `this` it is called with: a Proxy,
   * because a Proxy has no realm of its own, so the array its `apply` trap receives is
   * made in the realm of whoever calls it.
   */
  const called = { __proto__: null };
  function hit(label) {
    if (called[label] === true) return;
    called[label] = true;
    emit(`CALLED ${label}`);
  }
  function spy(label, result) {
    return new GProxy(function spied() {}, {
      apply(_target, thisArg, args) {
        hit(label);
        check(`${label}: arguments array`, args);
        check(`${label}: this`, thisArg);
        return typeof result === "function" ? result() : result;
      },
      construct(_target, args, newTarget) {
        hit(label);
        check(`${label}: construct arguments array`, args);
        check(`${label}: new.target`, newTarget);
        return {};
      },
    });
  }

  /** `fn` behind a Proxy that records what it is called with, then calls `fn`. */
  function through(label, fn) {
    return new GProxy(fn, {
      apply(target, thisArg, args) {
        hit(label);
        check(`${label}: arguments array`, args);
        check(`${label}: this`, thisArg);
        return apply(target, thisArg, args);
      },
      construct(target, args, newTarget) {
        check(`${label}: construct arguments array`, args);
        return R.construct(target, args, newTarget);
      },
    });
  }

  /**
   * An accessor on `object` for `key` that records what it is given and stays out of the
   * way: reads find nothing (undefined), writes make an own data property, as if it were
   * not there.
   */
  function recorder(label, object, key) {
    return defineProp(object, key, {
      __proto__: null,
      configurable: true,
      get() {
        check(`${label} getter: this`, this);
        return undefined;
      },
      set(value) {
        check(`${label} setter: value`, value);
        check(`${label} setter: this`, this);
        defineProp(this, key, {
          __proto__: null,
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
    });
  }

  /** A Proxy whose every trap is a spy: anything the host does to it shows up. */
  function trapped(label, target) {
    const handler = { __proto__: null };
    const traps = [
      "getPrototypeOf",
      "get",
      "has",
      "ownKeys",
      "getOwnPropertyDescriptor",
      "defineProperty",
      "set",
      "deleteProperty",
      "isExtensible",
      "preventExtensions",
      "setPrototypeOf",
    ];
    for (let i = 0; i < traps.length; i++) {
      const trap = traps[i];
      const spied = new GProxy(R[trap], {
        apply(fn, _thisArg, args) {
          hit(label);
          check(`${label}: ${trap} trap arguments array`, args);
          return apply(fn, R, args);
        },
      });
      defineProp(handler, trap, { __proto__: null, value: spied });
    }
    return new GProxy(target ?? {}, handler);
  }

  function done() {
    if (finished) return;
    finished = true;
    emit(`DONE ${problems.length} problems`);
  }

  // Captured now, before any vector runs: after the attack, the loop must still work.
  const setTimeout0 = G.setTimeout;
  const queueMicrotask0 = G.queueMicrotask;
  const setImmediate0 = G.setImmediate;
  /** After `ms`: a timer, an immediate and a microtask still run, in that order; then done. */
  function finish(ms = 1) {
    const steps = list();
    apply(setTimeout0, undefined, [
      () => {
        add(steps, "timer");
        apply(setImmediate0, undefined, [
          () => {
            add(steps, "immediate");
            apply(queueMicrotask0, undefined, [
              () => {
                add(steps, "microtask");
                emit(`ALIVE ${steps[0]} ${steps[1]} ${steps[2]}`);
                done();
              },
            ]);
          },
        ]);
      },
      ms,
    ]);
  }

  return O.freeze({
    __proto__: null,
    path,
    profile,
    names,
    /** Classic scripts in a vm context are sloppy; a Compartment evaluates strict code. */
    sloppy: path !== "ses",
    check,
    escape: tryEscape,
    throws,
    record,
    problem,
    emit,
    spy,
    through,
    recorder,
    trapped,
    inRealm,
    done,
    finish,
    isError: (value) => value instanceof GError,
    output: () => {
      let text = "";
      for (let i = 0; i < output.length; i++) text += `${output[i]}\n`;
      return text;
    },
  });
}
