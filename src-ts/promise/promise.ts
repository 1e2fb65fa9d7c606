/**
 * The loop's Promise: an ECMAScript Promise (ECMA-262 §27.2) whose jobs run on the loop's microtask queue.
 *
 * One class for every loop. `createPromiseClass(host)` makes a per-loop *domain* (the loop's job queue,
 * rejection tracker, shutdown registry) and a per-loop constructor (`loop.Promise`) over the one class:
 * every promise holds its domain in `#d`, and all loops' promises share one prototype and one hidden
 * class. Why: call sites shared by many loops (ours: `then`, the jobs; the user's: `p.then(...)`) stay
 * monomorphic. A class per loop gave every loop its own `#private` names and its own map, and a chain of
 * `then`s ran 8-10x slower as soon as a second loop had been used (bench suite `many_loops`).
 * So, like the promises of one realm, the promises of all loops share `loop.Promise.prototype` (a brand
 * check passes for any loop's promise; `instanceof` any loop's Promise is true); what tells them apart is
 * the domain: `p.constructor` (an accessor on the shared prototype) is the promise's own loop's Promise,
 * so SpeciesConstructor, `Promise.resolve(p)` and subclassing see the loop a promise belongs to.
 *
 * Every job (reaction job, thenable job) is queued with `domain.host.enqueueJob(job, arg)`, where `job` is
 * one of a few functions created once per process and `arg` is the object the job works on, so no closure
 * is allocated per reaction or per job. A reaction's job runs on the loop of the promise that settles.
 *
 * Storage (see docs/PROMISE.md for the full picture):
 * - A promise has seven fields: `#d` (its domain), `#bits` (state and flags), `#value`, `#reactions`,
 *   `#onFul`, `#onRej`, `#ref`. `#reactions` is `undefined`, one reaction, or an array of 2+ reactions (FIFO).
 * - The common reaction is the derived promise itself: `then` stores its handlers on the promise it
 *   returns, and that promise is the reaction record. When the parent settles, the parent's value is
 *   parked in the child's `#value` and the child is queued; the child's job runs the handler and resolves
 *   the child. `then` therefore allocates exactly one object.
 * - Other reactions (a subclass's capability, combinator elements) are `Reaction` records.
 * - Pending promises with at least one reaction that wait on something outside the loop's promise graph
 *   are registered so that `terminatePending` can reach the ones someone can still observe, while an
 *   abandoned one (nothing references it any more) is collected like a native promise. Registration is
 *   two-stage because most such promises settle within the checkpoint that linked them: a new link is a
 *   push onto a strong `nursery` array (no allocation beyond the slot); at the end of every microtask
 *   checkpoint (`checkpointEnd`), the nursery's entries that are still pending get a WeakRef in the
 *   `waiting` Set (kept in `#ref` for O(1) removal) and the nursery is emptied. So the registry holds a
 *   promise strongly for at most one checkpoint, and only long waits pay for a WeakRef. Settling
 *   unregisters; dead refs are swept lazily when the set has doubled since the last sweep.
 * @module
 */
import { describeValue } from "../errors.ts";
import type { LoopEvent } from "../web.ts";
import {
  type RejectionInspector,
  RejectionTracker,
  type UnhandledRejectionsMode,
} from "./rejection_tracker.ts";

export type { UnhandledRejectionsMode } from "./rejection_tracker.ts";
export {
  PromiseRejectionEvent,
  RejectionTracker,
  UnhandledPromiseRejection,
} from "./rejection_tracker.ts";

/** What the loop provides to its Promise class. */
export interface PromiseHost {
  /** Append job(arg) to the tail of the loop's microtask FIFO (shared with queueMicrotask). */
  enqueueJob(job: (arg: any) => void, arg: any): void;
  /** Report an error that has no promise to reject (like HTML "report an exception"). Must not throw. */
  reportError(error: unknown): void;
  /** Queue a macrotask on the loop (used to fire rejection events from a task). */
  queueTask(task: () => void): void;
  /** Dispatch an event on the loop (the loop is an EventTarget). Returns dispatchEvent's result. */
  dispatchEvent(event: LoopEvent): boolean;
  /** Emit a process-style warning (node profile "warn" modes). */
  warn(message: string, detail?: unknown): void;
  /** Set the process-style exit code (node profile "warn-with-error-code"). */
  setExitCode(code: number): void;
}

/** Options of {@link createPromiseClass}. */
export interface PromiseOptions {
  /** How unhandled rejections are reported; "html" by default. The node profile uses "throw" (Node's default). */
  unhandledRejections?: UnhandledRejectionsMode;
  /** Debug: record a stack at every promise creation and attach it to unhandled-rejection reports. */
  trackCreation?: boolean;
}

/** The object returned by `withResolvers`. */
export interface LoopPromiseWithResolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: any) => void;
}

/** The type of `loop.Promise`: the native PromiseConstructor plus ES2024/2025 statics. */
export interface LoopPromiseConstructor extends PromiseConstructor {
  /** Promise.withResolvers (ES2024). */
  withResolvers<T>(): LoopPromiseWithResolvers<T>;
  /** Promise.try (ES2025). */
  try<T, U extends unknown[]>(
    callbackFn: (...args: U) => T | PromiseLike<T>,
    ...args: U
  ): Promise<Awaited<T>>;
  /** Promise.allKeyed (TC39 await-dictionary proposal): `Promise.all` over an object's values. */
  allKeyed<T extends object>(promises: T): Promise<{ [K in keyof T]: Awaited<T[K]> }>;
  /** Promise.allSettledKeyed (TC39 await-dictionary proposal). */
  allSettledKeyed<T extends object>(
    promises: T,
  ): Promise<{ [K in keyof T]: PromiseSettledResult<Awaited<T[K]>> }>;
}

/** What {@link createPromiseClass} returns. */
export interface LoopPromiseKit {
  /** The loop's Promise constructor (all loops share its prototype; see the module comment). */
  Promise: LoopPromiseConstructor;
  /** The unhandled-rejection tracker (its `checkpointEnd` is called by the kit's). */
  tracker: RejectionTracker;
  /**
   * The loop calls this at the end of every microtask checkpoint: it moves the registry's nursery
   * to weak entries, then runs the tracker's `checkpointEnd` (HTML "notify about rejected promises").
   */
  checkpointEnd(): void;
  /** Links waiting in the nursery for the next `checkpointEnd` (counts toward "work pending"). */
  readonly nurserySize: number;
  /**
   * Called when the nursery goes from empty to non-empty: the loop makes sure a checkpoint end comes
   * (outside any turn it queues one), so an abandoned promise is not held strongly for long.
   */
  onNurseryStart: (() => void) | undefined;
  /**
   * Rejects every pending promise that someone waits on with `reason` (marked handled); see
   * {@link createPromiseClass}. Returns how many were rejected.
   */
  terminatePending(reason: unknown): number;
  /** How many pending promises with reactions are linked in the registry right now. */
  pendingCount(): number;
}

// #bits layout.
const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const STATE = 3;
/** [[PromiseIsHandled]]. */
const HANDLED = 1 << 2;
/** [[AlreadyResolved]] of the internal capability (promises created without a user-visible executor). */
const RESOLVED = 1 << 3;
/** Linked in the pending-with-reactions registry. */
const LINKED = 1 << 4;
/** Is a reaction of a pending loop promise (a derived or adopting promise waiting on its parent). */
const ATTACHED = 1 << 5;
/** Its reaction job is queued; `#value` holds the job's argument until the job runs. */
const QUEUED = 1 << 6;
/** The queued argument is a rejection reason. */
const ARG_REJECTED = 1 << 7;
/** A NewPromiseResolveThenableJob is queued; `#onFul` holds the thenable and `#onRej` its `then`. */
const THENABLE = 1 << 8;
/** Flags that survive settlement. */
const KEEP_ON_SETTLE = HANDLED | RESOLVED;
/** A promise with one of these is about to make progress by itself, so termination leaves it alone. */
const NOT_WAITING = ATTACHED | QUEUED | THENABLE;

// Reaction kinds (Reaction.kind); REACTION_REJECTED is or-ed in when the reaction is triggered.
const K_CAPABILITY = 1;
const K_ALL = 2;
const K_ALL_SETTLED = 3;
const K_ANY = 4;
const K_RACE = 5;
/** Promise.allKeyed / allSettledKeyed (the await-dictionary proposal). */
const K_ALL_KEYED = 6;
const K_ALL_SETTLED_KEYED = 7;
const REACTION_REJECTED = 16;

// Intrinsics captured at load: user code that later replaces them changes nothing here.
const kSpecies: typeof Symbol.species = Symbol.species;
const ReflectApply = Reflect.apply;
const ReflectOwnKeys = Reflect.ownKeys;
const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const ArrayIsArray = Array.isArray;
const ArrayPrototypeSlice = Array.prototype.slice;
const ObjectCreate = Object.create;
const ObjectDefineProperty = Object.defineProperty;
const ObjectSetPrototypeOf = Object.setPrototypeOf;
const NativeAggregateError = AggregateError;
/** An iterable of no errors: `new AggregateError(NO_ERRORS)` reads nothing user code can replace. */
const NO_ERRORS = ObjectDefineProperty({}, Symbol.iterator, {
  value: () => ({ next: () => ({ done: true, value: undefined }) }),
}) as Iterable<never>;

/**
 * A List (the spec's internal values list): an array with no prototype, so storing an
 * element never runs a setter inherited from Array.prototype (`Promise.all` must behave as
 * if it used CreateDataProperty). `toArray` makes the result array (CreateArrayFromList):
 * slice on a prototype-less array finds no `constructor`, so it creates a plain Array and
 * defines each element.
 */
function newList(): unknown[] {
  return ObjectSetPrototypeOf([], null) as unknown[];
}
function toArray(list: unknown[]): unknown[] {
  return ReflectApply(ArrayPrototypeSlice, list, []) as unknown[];
}

/** Sentinel executor: `new LoopPromise(INTERNAL)` creates a promise without running an executor. */
const INTERNAL = function internalExecutor(): void {};

/** A PromiseCapability Record. For loop promises created internally, `resolve`/`reject` stay undefined
 * until a real function is needed; the internal path then uses the promise's RESOLVED flag. */
class Capability {
  promise: any;
  resolve: ((value: unknown) => void) | undefined;
  reject: ((reason: unknown) => void) | undefined;
  constructor(
    promise: any,
    resolve: ((value: unknown) => void) | undefined,
    reject: ((reason: unknown) => void) | undefined,
  ) {
    this.promise = promise;
    this.resolve = resolve;
    this.reject = reject;
  }
}

/** Shared state of one Promise.all / allSettled / any / allKeyed / allSettledKeyed call. */
class CombinatorState {
  /** The spec's values (or errors) List (see newList). */
  values: unknown[];
  /** allKeyed / allSettledKeyed: the keys, in the order of the values. */
  keys: PropertyKey[] | undefined;
  remaining: number;
  cap: Capability;
  kind: number;
  constructor(cap: Capability, kind: number) {
    this.values = newList();
    this.keys =
      kind === K_ALL_KEYED || kind === K_ALL_SETTLED_KEYED
        ? (newList() as PropertyKey[])
        : undefined;
    this.remaining = 1;
    this.cap = cap;
    this.kind = kind;
  }
}

/**
 * A reaction that is not a derived loop promise. Like V8's PromiseReaction, the record turns into its own
 * job when triggered: `arg` receives the settled value and `kind` the REACTION_REJECTED bit.
 * K_CAPABILITY: a = onFulfilled, b = onRejected, c = capability resolve, d = capability reject.
 * K_ALL/K_ALL_SETTLED/K_ANY: a = CombinatorState, d = index. K_RACE: a = Capability.
 */
class Reaction {
  kind: number;
  a: any;
  b: any;
  c: any;
  d: any;
  arg: unknown;
  /** The loop whose `reportError` gets what a user-supplied capability function throws. */
  domain: PromiseDomain;
  constructor(kind: number, a: unknown, b: unknown, c: unknown, d: unknown, domain: PromiseDomain) {
    this.kind = kind;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    this.arg = undefined;
    this.domain = domain;
  }
}

type Executor = (resolve: (value: unknown) => void, reject: (reason?: unknown) => void) => void;

const ReflectConstruct = Reflect.construct;
/** %Promise% of this realm: the default constructor where no loop can be known (see `finally`). */
const NativePromise = Promise;

/**
 * One loop's side of the Promise implementation: where its promises' jobs and tasks go, its
 * rejection tracker, its shutdown registry and termination state, and its constructor. Every
 * promise holds its domain in `#d`; a derived promise takes its parent's.
 */
class PromiseDomain {
  readonly host: PromiseHost;
  readonly tracker: RejectionTracker;
  readonly kit: LoopPromiseKit;
  /** Creation stacks (option `trackCreation`), or undefined. */
  readonly creationErrors: WeakMap<object, Error> | undefined;
  /** `loop.Promise`: SpeciesConstructor returning it means "a promise of this domain". */
  ctor: LoopPromiseConstructor;
  /** The constructor's original `resolve`: combinators skip the Call when `C.resolve` is still it. */
  originalResolve: unknown;
  // The pending-with-reactions registry: a strong nursery for this checkpoint's links, weak after.
  // Internal lists have no prototype: a setter user code put on Array.prototype never runs here.
  readonly nursery: LoopPromise[] = newList() as LoopPromise[];
  readonly waiting = new Set<RegistryRef<LoopPromise>>();
  sweepAt = 1024;
  /** terminatePending was called: new waits reject at once. */
  terminated = false;
  terminationReasons: Set<unknown> | undefined = undefined;
  lastTerminationReason: unknown = undefined;

  constructor(
    host: PromiseHost,
    tracker: RejectionTracker,
    kit: LoopPromiseKit,
    creationErrors: WeakMap<object, Error> | undefined,
  ) {
    this.host = host;
    this.tracker = tracker;
    this.kit = kit;
    this.creationErrors = creationErrors;
    this.ctor = undefined as unknown as LoopPromiseConstructor; // set by createPromiseClass
    this.originalResolve = undefined;
  }
}

/**
 * Creates one loop's Promise: a constructor over the shared class, its rejection tracker and its
 * shutdown registry.
 *
 * Shutdown (`terminatePending(reason)`): rejects, with `reason`, every pending promise of this loop that
 * has at least one reaction and is not about to make progress by itself (i.e. is not itself waiting on
 * another loop promise and has no job queued). The rejection flows along the chains through the usual
 * reaction jobs, so the loop must drain its microtask queue afterwards for `catch`/`finally` handlers to
 * run. These rejections are marked handled, and so is every later rejection whose reason is one of the
 * termination reasons (SameValue), so termination never produces unhandled-rejection reports. After the
 * first call the loop's promises are in terminated mode: attaching a reaction to a pending promise that
 * is not about to make progress by itself rejects that promise at once with the termination reason (new
 * waits cannot hang forever); promises that settle on their own keep working.
 *
 * @param host The loop's job queue, task queue, event target and error/warning hooks.
 * @param options `unhandledRejections` mode (default "html") and `trackCreation` (default false).
 * @returns The constructor (`Promise`), its rejection `tracker`, `terminatePending` and `pendingCount`.
 * @throws {TypeError} if a host method is missing or an option has the wrong type or value.
 * @example
 * ```ts
 * const kit = createPromiseClass(host, { unhandledRejections: "html" });
 * const LoopPromise = kit.Promise;
 * LoopPromise.resolve(1).then((v) => console.log(v)); // runs when the loop drains its microtasks
 * // the loop, after every microtask checkpoint:
 * kit.checkpointEnd(); // nursery promotion + "notify about rejected promises"
 * ```
 */
export function createPromiseClass(
  host: PromiseHost,
  options: PromiseOptions = {},
): LoopPromiseKit {
  if (host === null || typeof host !== "object") {
    throw new TypeError(`createPromiseClass: host must be an object, got ${describeValue(host)}`);
  }
  if (typeof host.enqueueJob !== "function") {
    throw new TypeError(
      `createPromiseClass: host.enqueueJob must be a function, got ${describeValue(host.enqueueJob)}`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `createPromiseClass: options must be an object, got ${describeValue(options)}`,
    );
  }
  if (options.trackCreation !== undefined && typeof options.trackCreation !== "boolean") {
    throw new TypeError(
      `createPromiseClass: options.trackCreation must be a boolean, got ${describeValue(options.trackCreation)}`,
    );
  }
  const tracker = new RejectionTracker(
    host,
    { unhandledRejections: options.unhandledRejections },
    inspector,
  );
  const kit: LoopPromiseKit = {
    Promise: undefined as unknown as LoopPromiseConstructor, // set below
    tracker,
    checkpointEnd: (): void => {
      promoteNursery(domain);
      tracker.checkpointEnd();
    },
    get nurserySize(): number {
      return domain.nursery.length;
    },
    onNurseryStart: undefined,
    terminatePending: (reason: unknown): number => terminatePending(domain, reason),
    pendingCount: (): number => pendingCount(domain),
  };
  const domain = new PromiseDomain(
    host,
    tracker,
    kit,
    options.trackCreation === true ? new WeakMap<object, Error>() : undefined,
  );
  const ctor = makeConstructor(domain);
  domain.ctor = ctor;
  domain.originalResolve = ctor.resolve;
  kit.Promise = ctor;
  return kit;
}

/** get Promise[@@species] (§27.2.4.9), shared by every loop's constructor. */
const SPECIES: PropertyDescriptor = {
  ...ReflectGetOwnPropertyDescriptor(
    {
      get [kSpecies](): unknown {
        return this;
      },
    },
    kSpecies,
  ),
  enumerable: false,
};

/**
 * `loop.Promise`: a constructor whose `prototype` is the shared one, and the statics of §27.2.4,
 * whose fast paths (`C` is this loop's constructor) make promises of this domain directly.
 */
function makeConstructor(d: PromiseDomain): LoopPromiseConstructor {
  // A plain function (not a class): its `prototype` can be the shared one. Named "Promise",
  // length 1 (§27.2.3). `new.target` is the subclass when `class X extends loop.Promise` calls super.
  // biome-ignore lint/suspicious/noShadowRestrictedNames: the spec's name; setting `name` later would put the function in dictionary mode
  const ctor = function Promise(executor: Executor): LoopPromise {
    if (new.target === undefined) {
      throw new TypeError("Promise constructor cannot be invoked without 'new'");
    }
    return (new.target as unknown) === ctor
      ? new LoopPromise(executor, d)
      : (ReflectConstruct(LoopPromise, [executor, d], new.target) as LoopPromise);
  } as unknown as LoopPromiseConstructor;
  // An assignment, not defineProperty with `writable: false` as the spec has it: redefining a
  // function's `prototype` puts all its properties in V8's dictionary mode, and then every
  // `then` pays a dictionary lookup for `Symbol.species` (10 ns; 1 ns in fast mode, where
  // every loop's constructor also has the same map). See docs/PROMISE.md, deviations.
  (ctor as { prototype: unknown }).prototype = LoopPromise.prototype;
  for (const [key, desc] of staticsOf(ctor, d)) ObjectDefineProperty(ctor, key, desc);
  // One getter for every loop's constructor: their maps stay the same, with a constant getter.
  ObjectDefineProperty(ctor, kSpecies, SPECIES);
  return ctor;
}

/**
 * The statics of §27.2.4 for one loop's constructor, as [key, descriptor] pairs: methods of an
 * object literal (non-constructors with the spec's names and lengths), made non-enumerable.
 */
function staticsOf(
  ctor: LoopPromiseConstructor,
  d: PromiseDomain,
): [PropertyKey, PropertyDescriptor][] {
  const statics = {
    /**
     * Promise.resolve (§27.2.4.7): `x` itself if it is a promise whose constructor is `this`.
     * @throws {TypeError} if `this` is not an object.
     */
    resolve(value?: unknown): any {
      const C: unknown = this;
      if (C === null || (typeof C !== "object" && typeof C !== "function")) {
        throw new TypeError(`Promise.resolve called on a non-object: got ${describeValue(C)}`);
      }
      return promiseResolve(C, value, d);
    },
    /**
     * Promise.reject (§27.2.4.6).
     * @throws {TypeError} if `this` is not a promise constructor.
     */
    reject(reason?: unknown): any {
      const C: unknown = this;
      if (C === ctor) {
        const p = newInternal(d);
        rejectPromise(p, reason);
        return p;
      }
      const cap = newPromiseCapability(C);
      callFn(cap.reject, reason);
      return cap.promise;
    },
    /**
     * Promise.withResolvers (§27.2.4.8, ES2024): `{ promise, resolve, reject }`.
     * @throws {TypeError} if `this` is not a promise constructor.
     */
    withResolvers(): any {
      const C: unknown = this;
      if (C === ctor) return makeResolvers(new LoopPromise(INTERNAL, d));
      const cap = newPromiseCapability(C);
      return { promise: cap.promise, resolve: cap.resolve, reject: cap.reject };
    },
    /**
     * Promise.try (ES2025): calls `callbackFn(...args)` now and returns a promise for its result; a
     * synchronous throw becomes a rejection.
     * @throws {TypeError} if `this` is not an object or not a promise constructor.
     */
    try(callbackFn: unknown, ...args: unknown[]): any {
      const C: unknown = this;
      if (C === null || (typeof C !== "object" && typeof C !== "function")) {
        throw new TypeError(`Promise.try called on a non-object: got ${describeValue(C)}`);
      }
      const cap =
        C === ctor
          ? new Capability(new LoopPromise(INTERNAL, d), undefined, undefined)
          : newPromiseCapability(C);
      let result: unknown;
      try {
        if (typeof callbackFn !== "function") {
          throw new TypeError(
            `Promise.try callback is not a function: got ${describeValue(callbackFn)}`,
          );
        }
        result = ReflectApply(callbackFn, undefined, args);
      } catch (error) {
        capabilityReject(cap, error);
        return cap.promise;
      }
      capabilityResolve(cap, result);
      return cap.promise;
    },
    /** Promise.all (§27.2.4.1): the array of values, or the first rejection. */
    all(iterable: unknown): any {
      return combinator(this, iterable, K_ALL, d);
    },
    /** Promise.allSettled (§27.2.4.2): `{status, value|reason}` records. */
    allSettled(iterable: unknown): any {
      return combinator(this, iterable, K_ALL_SETTLED, d);
    },
    /** Promise.any (§27.2.4.3): the first fulfillment, or an AggregateError of all reasons. */
    any(iterable: unknown): any {
      return combinator(this, iterable, K_ANY, d);
    },
    /** Promise.race (§27.2.4.5): settled like the first element to settle. */
    race(iterable: unknown): any {
      return combinator(this, iterable, K_RACE, d);
    },
    /**
     * Promise.allKeyed (TC39 await-dictionary proposal, PerformPromiseAllKeyed ~all~): an object with a
     * null prototype and the keys of `promises`' own enumerable properties, or the first rejection.
     */
    allKeyed(promises: unknown): any {
      return keyedCombinator(this, promises, K_ALL_KEYED, d);
    },
    /** Promise.allSettledKeyed (TC39 await-dictionary proposal, PerformPromiseAllKeyed ~all-settled~). */
    allSettledKeyed(promises: unknown): any {
      return keyedCombinator(this, promises, K_ALL_SETTLED_KEYED, d);
    },
  };
  return ReflectOwnKeys(statics).map((key) => {
    const desc = ReflectGetOwnPropertyDescriptor(statics, key)!;
    desc.enumerable = false; // like a class's static methods (§18: built-in properties)
    return [key, desc];
  });
}

/**
 * CreateResolvingFunctions (§27.2.1.3): two anonymous built-ins (name "", length 1) with one
 * shared [[AlreadyResolved]]. Array elements get no inferred name, as the spec requires.
 */
function resolvingFunctions(
  p: LoopPromise,
): [(resolution: unknown) => void, (reason: unknown) => void] {
  let alreadyResolved = false;
  return [
    (resolution: unknown): void => {
      if (alreadyResolved) return;
      alreadyResolved = true;
      resolvePromise(p, resolution);
    },
    (reason: unknown): void => {
      if (alreadyResolved) return;
      alreadyResolved = true;
      rejectPromise(p, reason);
    },
  ];
}

// Function slots filled by the class's static block (they need the private fields).
let isLoopPromiseImpl: (x: unknown) => boolean;
let inspector: RejectionInspector;
let newInternal: (d: PromiseDomain) => LoopPromise;
let resolvePromise: (p: LoopPromise, x: unknown) => void;
let rejectPromise: (p: LoopPromise, reason: unknown) => void;
let thenWithSpecies: (p: LoopPromise, onF: unknown, onR: unknown, C: unknown) => unknown;
let makeResolvers: (p: LoopPromise) => {
  promise: LoopPromise;
  resolve: (v: unknown) => void;
  reject: (r: unknown) => void;
};
let capabilityResolve: (cap: Capability, value: unknown) => void;
let capabilityReject: (cap: Capability, reason: unknown) => void;
let capabilityFunctions: (cap: Capability) => void;
let promiseResolve: (C: unknown, x: unknown, d: PromiseDomain | undefined) => any;
let speciesConstructor: (o: any, defaultConstructor: unknown) => unknown;
let combinator: (C: unknown, iterable: unknown, kind: number, d: PromiseDomain) => unknown;
let keyedCombinator: (C: unknown, promises: unknown, kind: number, d: PromiseDomain) => unknown;
let promoteNursery: (d: PromiseDomain) => void;
let pendingCount: (d: PromiseDomain) => number;
let terminatePending: (d: PromiseDomain, reason: unknown) => number;

/**
 * A stand-in for `constructor` when it is read from something that is no loop's promise (the shared
 * prototype itself, `Object.create(loop.Promise.prototype)`): there is no loop to name. Constructing it
 * says what to do instead.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: it stands in for a constructor named Promise
const NoLoopPromise = function Promise(): never {
  throw new TypeError(
    "loop.Promise.prototype is shared by every loop, so its constructor names no loop: construct promises with a loop's Promise (loop.Promise)",
  );
};

/** The executor part of the constructor (§27.2.3.1 steps 8-10), out of line. */
function runExecutor(p: LoopPromise, executor: unknown): void {
  if (typeof executor !== "function") {
    throw new TypeError(`Promise resolver is not a function: got ${describeValue(executor)}`);
  }
  const [resolve, reject] = resolvingFunctions(p);
  try {
    executor(resolve, reject);
  } catch (error) {
    reject(error);
  }
}

function recordCreation(d: PromiseDomain, p: LoopPromise): void {
  d.creationErrors!.set(p, new Error("promise created"));
}

// Errors of the hot paths, built out of line: what V8 inlines stays within its bytecode budget.
function incompatibleReceiver(receiver: unknown): TypeError {
  return new TypeError(
    `Promise.prototype.then called on an incompatible receiver: got ${describeValue(receiver)}`,
  );
}
function speciesError(what: string, value: unknown): TypeError {
  return new TypeError(`Promise species lookup: ${what}: got ${describeValue(value)}`);
}
function chainingCycleError(): TypeError {
  return new TypeError("Chaining cycle detected: a promise cannot be resolved with itself");
}

class LoopPromise {
  #d: PromiseDomain;
  #bits = 0;
  #value: any = undefined;
  #reactions: any = undefined;
  #onFul: any = undefined;
  #onRej: any = undefined;
  /** This promise's entry in the waiting registry, while it is linked. */
  #ref: RegistryRef<LoopPromise> | undefined = undefined;

  /** Reached only through a loop's constructor (`makeConstructor`), which passes its domain. */
  constructor(executor: Executor, domain: PromiseDomain) {
    // Small on purpose: V8 inlines this into every internal `new LoopPromise(INTERNAL, d)` of
    // the hot path, within a bytecode budget; the rare parts are calls.
    this.#d = domain;
    if (domain.creationErrors !== undefined) recordCreation(domain, this);
    if (executor !== INTERNAL) runExecutor(this, executor);
  }

  /**
   * Promise.prototype.then (§27.2.5.4).
   * @param onFulfilled Called with the value; non-callables pass the value through.
   * @param onRejected Called with the reason; non-callables pass the reason through.
   * @returns A new promise (of the species constructor) resolved with the handler's result.
   * @throws {TypeError} if `this` is not a loop promise.
   */
  then(onFulfilled?: unknown, onRejected?: unknown): any {
    if (this === null || typeof this !== "object" || !(#bits in this)) {
      throw incompatibleReceiver(this);
    }
    return thenWithSpecies(this, onFulfilled, onRejected, speciesConstructor(this, this.#d.ctor));
  }

  /**
   * Promise.prototype.catch (§27.2.5.1): `this.then(undefined, onRejected)`, generic over `this`.
   * @param onRejected Called with the reason.
   * @returns Whatever `this.then` returns.
   */
  catch(onRejected?: unknown): any {
    return (this as any).then(undefined, onRejected);
  }

  /**
   * Promise.prototype.finally (§27.2.5.3): runs `onFinally` on either outcome, waits for its result, then
   * passes the original value or reason through (a throw or rejection from `onFinally` wins).
   * The default constructor (%Promise%) is the promise's loop's Promise; for a `this` that is no loop's
   * promise and has no species, it is the realm's native Promise (there is no loop to take).
   * @param onFinally Called with no arguments.
   * @returns Whatever `this.then` returns.
   * @throws {TypeError} if `this` is not an object.
   */
  finally(onFinally?: unknown): any {
    const promise: any = this;
    if (promise === null || (typeof promise !== "object" && typeof promise !== "function")) {
      throw new TypeError(
        `Promise.prototype.finally called on a non-object: got ${describeValue(promise)}`,
      );
    }
    const d = isLoopPromise(promise) ? promise.#d : undefined;
    const C = speciesConstructor(promise, d === undefined ? NativePromise : d.ctor);
    if (typeof onFinally !== "function") return promise.then(onFinally, onFinally);
    // Then Finally / Catch Finally functions: anonymous built-ins of length 1 (array elements).
    const [thenFinally, catchFinally] = [
      (value: unknown): unknown => {
        const result = onFinally();
        return promiseResolve(C, result, d).then(() => value);
      },
      (reason: unknown): unknown => {
        const result = onFinally();
        return promiseResolve(C, result, d).then(() => {
          throw reason;
        });
      },
    ];
    return promise.then(thenFinally, catchFinally);
  }

  static {
    ObjectDefineProperty(LoopPromise.prototype, Symbol.toStringTag, {
      value: "Promise",
      writable: false,
      enumerable: false,
      configurable: true,
    });
    // `constructor` is the promise's own loop's Promise (the prototype is shared by all loops).
    // Assigning it makes an own data property, as assigning a prototype's data property would.
    ObjectDefineProperty(LoopPromise.prototype, "constructor", {
      get(this: any): unknown {
        // A private field read throws on anything that is no loop promise: cheaper than `#d in this`
        // (a lookup) when it does not throw, and `then` reads this on every call.
        try {
          return this.#d.ctor;
        } catch {
          return NoLoopPromise;
        }
      },
      set(this: unknown, value: unknown): void {
        ObjectDefineProperty(this, "constructor", {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
      enumerable: false,
      configurable: true,
    });
    // Node's util.inspect names an object by its prototype's `constructor` data property, which
    // the shared prototype does not have (an accessor); it would print "Object [Promise] {}".
    // This prints what it prints for a native promise: `Promise { 1 }`, `Promise { <pending> }`,
    // `Promise { <rejected> reason }` (`Sub [Promise] { … }` for a subclass's promise).
    ObjectDefineProperty(LoopPromise.prototype, Symbol.for("nodejs.util.inspect.custom"), {
      value(
        this: any,
        _depth: number,
        options: unknown,
        inspect: (value: unknown, options: unknown) => string,
      ): unknown {
        if (!isLoopPromise(this) || typeof inspect !== "function") return this;
        const bits = this.#bits;
        const state = bits & STATE;
        const shown =
          state === PENDING
            ? "<pending>"
            : `${state === REJECTED ? "<rejected> " : ""}${inspect(this.#value, options)}`;
        let name: unknown;
        try {
          name = this.constructor?.name;
        } catch {
          name = undefined;
        }
        const label =
          typeof name === "string" && name !== "" && name !== "Promise"
            ? `${name} [Promise]`
            : "Promise";
        return `${label} { ${shown} }`;
      },
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Everything below needs the private fields, so it lives in this static block. The functions are
  // created once per process: these are the jobs and helpers of the hot path.
  // ------------------------------------------------------------------------------------------------
  static {
    const protoThen = LoopPromise.prototype.then;

    const NURSERY_LIMIT = 65_536;
    const sweep = (d: PromiseDomain): void => {
      for (const ref of d.waiting) if (ref.deref() === undefined) d.waiting.delete(ref);
      d.sweepAt = Math.max(1024, d.waiting.size * 2);
    };
    /** Give every nursery entry that is still linked a weak entry, and empty the nursery. */
    promoteNursery = (d: PromiseDomain): void => {
      const nursery = d.nursery;
      const n = nursery.length;
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const p = nursery[i]!;
        // Settled (LINKED cleared by unlink) or already promoted: nothing to do.
        if ((p.#bits & LINKED) === 0 || p.#ref !== undefined) continue;
        const ref = registryRef(p);
        p.#ref = ref;
        d.waiting.add(ref);
      }
      nursery.length = 0;
      if (d.waiting.size >= d.sweepAt) sweep(d);
    };

    isLoopPromiseImpl = (x: unknown): boolean =>
      x !== null && typeof x === "object" && #bits in (x as object);

    inspector = {
      isHandled: (p: object): boolean =>
        isLoopPromise(p) && ((p as LoopPromise).#bits & HANDLED) !== 0,
      creationStack: (p: object): string | undefined => {
        if (!isLoopPromise(p)) return undefined;
        const error = p.#d.creationErrors?.get(p);
        if (error === undefined) return undefined;
        const stack = String(error.stack ?? "");
        const newline = stack.indexOf("\n");
        return newline === -1 ? stack : stack.slice(newline + 1);
      },
    };

    pendingCount = (d: PromiseDomain): number => {
      promoteNursery(d);
      sweep(d);
      return d.waiting.size;
    };

    /** A promise of domain `d` with no executor, already [[AlreadyResolved]] (the internal capability). */
    newInternal = (d: PromiseDomain): LoopPromise => {
      const p = new LoopPromise(INTERNAL, d);
      p.#bits = RESOLVED;
      return p;
    };

    // ---- state transitions --------------------------------------------------------------------------

    /** The promise resolve procedure (§27.2.1.3.2 steps 7-16), minus [[AlreadyResolved]]. */
    resolvePromise = (p: LoopPromise, x: unknown): void => {
      if ((p.#bits & STATE) !== PENDING) return; // only after termination
      if (x === p) {
        rejectPromise(p, chainingCycleError());
        return;
      }
      if (x === null || (typeof x !== "object" && typeof x !== "function")) {
        fulfillPromise(p, x);
        return;
      }
      let then: unknown;
      try {
        then = (x as { then?: unknown }).then;
      } catch (error) {
        rejectPromise(p, error);
        return;
      }
      if (typeof then !== "function") {
        fulfillPromise(p, x);
        return;
      }
      // NewPromiseResolveThenableJob(p, x, then): park x and then in the (free) handler slots.
      p.#onFul = x;
      p.#onRej = then;
      p.#bits |= THENABLE;
      p.#d.host.enqueueJob(thenableJob, p);
    };

    /** FulfillPromise (§27.2.1.4). */
    function fulfillPromise(p: LoopPromise, value: unknown): void {
      const bits = p.#bits;
      if ((bits & STATE) !== PENDING) return;
      const reactions = p.#reactions;
      p.#value = value;
      p.#reactions = undefined;
      p.#bits = (bits & KEEP_ON_SETTLE) | FULFILLED;
      if ((bits & LINKED) !== 0) unlink(p);
      if (reactions !== undefined) triggerReactions(p.#d, reactions, value, false);
    }

    /** RejectPromise (§27.2.1.7), with HostPromiseRejectionTracker(p, "reject"). */
    rejectPromise = (p: LoopPromise, reason: unknown): void => {
      let bits = p.#bits;
      if ((bits & STATE) !== PENDING) return;
      const d = p.#d;
      const reactions = p.#reactions;
      p.#value = reason;
      p.#reactions = undefined;
      if (
        (bits & HANDLED) === 0 &&
        d.terminationReasons !== undefined &&
        d.terminationReasons.has(reason)
      ) {
        bits |= HANDLED; // a consequence of terminatePending: never reported
      }
      p.#bits = (bits & KEEP_ON_SETTLE) | REJECTED;
      if ((bits & LINKED) !== 0) unlink(p);
      if ((bits & HANDLED) === 0) d.tracker.onReject(p, reason);
      if (reactions !== undefined) triggerReactions(d, reactions, reason, true);
    };

    /**
     * TriggerPromiseReactions (§27.2.1.8): queue every reaction in attach order, on the loop of the
     * promise that settled (`d`; a derived promise attached to it has the same domain).
     */
    function triggerReactions(
      d: PromiseDomain,
      reactions: any,
      arg: unknown,
      rejected: boolean,
    ): void {
      if (ArrayIsArray(reactions)) {
        for (let i = 0; i < reactions.length; i++) queueReaction(d, reactions[i], arg, rejected);
      } else {
        queueReaction(d, reactions, arg, rejected);
      }
    }

    function queueReaction(d: PromiseDomain, reaction: any, arg: unknown, rejected: boolean): void {
      if (#bits in reaction) queueChild(reaction as LoopPromise, arg, rejected);
      else queueRecord(d, reaction as Reaction, arg, rejected);
    }

    /** NewPromiseReactionJob for a derived/adopting loop promise: the promise is the job's record. */
    function queueChild(child: LoopPromise, arg: unknown, rejected: boolean): void {
      const bits = child.#bits;
      if ((bits & STATE) !== PENDING) return; // terminated while waiting
      child.#value = arg;
      child.#bits = (bits & ~ATTACHED) | QUEUED | (rejected ? ARG_REJECTED : 0);
      child.#d.host.enqueueJob(childJob, child);
    }

    function queueRecord(
      d: PromiseDomain,
      reaction: Reaction,
      arg: unknown,
      rejected: boolean,
    ): void {
      reaction.arg = arg;
      if (rejected) reaction.kind |= REACTION_REJECTED;
      d.host.enqueueJob(reactionJob, reaction);
    }

    // ---- PerformPromiseThen (§27.2.5.4.1) -----------------------------------------------------------

    /** Attach a derived or adopting loop promise of the same domain as a reaction of `p`. */
    function attachChild(p: LoopPromise, child: LoopPromise): void {
      const bits = p.#bits;
      const state = bits & STATE;
      if (state === PENDING) {
        child.#bits |= ATTACHED;
        addReaction(p, bits, child);
        return;
      }
      if (state === REJECTED && (bits & HANDLED) === 0) p.#d.tracker.onHandle(p);
      p.#bits = bits | HANDLED;
      queueChild(child, p.#value, state === REJECTED);
    }

    /** Attach a Reaction record to `p`. */
    function attachRecord(p: LoopPromise, reaction: Reaction): void {
      const bits = p.#bits;
      const state = bits & STATE;
      if (state === PENDING) {
        addReaction(p, bits, reaction);
        return;
      }
      const d = p.#d;
      if (state === REJECTED && (bits & HANDLED) === 0) d.tracker.onHandle(p);
      p.#bits = bits | HANDLED;
      queueRecord(d, reaction, p.#value, state === REJECTED);
    }

    function addReaction(p: LoopPromise, bits: number, reaction: unknown): void {
      const reactions = p.#reactions;
      p.#bits = bits | HANDLED;
      if (reactions === undefined) {
        p.#reactions = reaction;
        // Only a promise that waits on something outside the loop's promise graph needs to be reachable
        // by terminatePending; a derived/adopting promise (ATTACHED, QUEUED, THENABLE) is not linked.
        if ((bits & NOT_WAITING) === 0) link(p);
      } else {
        appendReaction(p, reactions, reaction);
      }
      if (p.#d.terminated) terminateIfWaiting(p);
    }

    /** A second or later reaction (out of line: most promises have one). */
    function appendReaction(p: LoopPromise, reactions: any, reaction: unknown): void {
      if (ArrayIsArray(reactions)) {
        reactions[reactions.length] = reaction; // a List (no prototype): no inherited setter
      } else {
        const list = newList();
        list[0] = reactions;
        list[1] = reaction;
        p.#reactions = list;
      }
    }

    /** Register a pending promise that has reactions and now waits on something external. */
    function link(p: LoopPromise): void {
      p.#bits |= LINKED;
      // A promise is linked at most once (it stays LINKED until it settles), so no duplicates.
      const d = p.#d;
      const nursery = d.nursery;
      nursery[nursery.length] = p;
      const n = nursery.length;
      if (n === 1) d.kit.onNurseryStart?.();
      else if (n >= NURSERY_LIMIT) promoteNursery(d);
    }

    /** After a thenable job left `p` waiting on a foreign thenable or capability: link it if needed. */
    function linkIfWaiting(p: LoopPromise): void {
      const bits = p.#bits;
      if ((bits & (STATE | LINKED | NOT_WAITING)) === PENDING && p.#reactions !== undefined)
        link(p);
      if (p.#d.terminated) terminateIfWaiting(p);
    }

    /** Settling: the caller has cleared LINKED (a nursery entry is then skipped); drop the weak entry. */
    function unlink(p: LoopPromise): void {
      const ref = p.#ref;
      if (ref === undefined) return;
      p.#d.waiting.delete(ref);
      p.#ref = undefined;
    }

    /** then() after SpeciesConstructor: the derived promise is the reaction when C is p's loop's Promise. */
    thenWithSpecies = (
      p: LoopPromise,
      onFulfilled: unknown,
      onRejected: unknown,
      C: unknown,
    ): unknown => {
      const f = typeof onFulfilled === "function" ? onFulfilled : undefined;
      const r = typeof onRejected === "function" ? onRejected : undefined;
      const d = p.#d;
      if (C === d.ctor) {
        const child = new LoopPromise(INTERNAL, d);
        child.#bits = RESOLVED;
        child.#onFul = f;
        child.#onRej = r;
        attachChild(p, child);
        return child;
      }
      return thenWithCapability(p, f, r, C);
    };

    /** then() with a species that is not p's loop's Promise: a capability and a Reaction record. */
    function thenWithCapability(p: LoopPromise, f: unknown, r: unknown, C: unknown): unknown {
      const cap = newPromiseCapability(C);
      attachRecord(p, new Reaction(K_CAPABILITY, f, r, cap.resolve, cap.reject, p.#d));
      return cap.promise;
    }

    // ---- jobs ---------------------------------------------------------------------------------------

    /** NewPromiseReactionJob (§27.2.2.1) for a derived or adopting loop promise. Never throws. */
    function childJob(child: LoopPromise): void {
      const bits = child.#bits;
      child.#bits = bits & ~(QUEUED | ARG_REJECTED);
      if ((bits & STATE) !== PENDING) return;
      const arg = child.#value;
      child.#value = undefined;
      const rejected = (bits & ARG_REJECTED) !== 0;
      const handler = rejected ? child.#onRej : child.#onFul;
      child.#onFul = undefined;
      child.#onRej = undefined;
      if (handler === undefined) {
        if (rejected) rejectPromise(child, arg);
        else resolvePromise(child, arg);
        return;
      }
      let result: unknown;
      try {
        result = handler(arg);
      } catch (error) {
        rejectPromise(child, error);
        return;
      }
      resolvePromise(child, result);
    }

    /** NewPromiseResolveThenableJob (§27.2.2.2). `then` was read exactly once, by resolvePromise. */
    function thenableJob(p: LoopPromise): void {
      const thenable = p.#onFul;
      const then = p.#onRej;
      p.#onFul = undefined;
      p.#onRej = undefined;
      p.#bits &= ~THENABLE;
      if ((p.#bits & STATE) !== PENDING) return; // terminated meanwhile
      if (then === protoThen && isLoopPromise(thenable)) {
        // Our own then: do what it would do, without creating resolving functions for p or the
        // (unobservable) derived promise. SpeciesConstructor's Gets stay observable as in the spec.
        const td = thenable.#d;
        let C: unknown;
        try {
          C = speciesConstructor(thenable, td.ctor);
        } catch (error) {
          rejectPromise(p, error);
          return;
        }
        if (C === td.ctor && td === p.#d) {
          attachChild(thenable, p);
          return;
        }
        const fns = makeResolvers(p);
        try {
          thenWithSpecies(thenable, fns.resolve, fns.reject, C);
        } catch (error) {
          fns.reject(error);
        }
        linkIfWaiting(p);
        return;
      }
      const fns = makeResolvers(p);
      try {
        ReflectApply(then, thenable, [fns.resolve, fns.reject]);
      } catch (error) {
        fns.reject(error);
      }
      linkIfWaiting(p);
    }

    /** NewPromiseReactionJob (§27.2.2.1) for Reaction records. Never throws. */
    function reactionJob(reaction: Reaction): void {
      const kind = reaction.kind;
      const arg = reaction.arg;
      reaction.arg = undefined;
      const rejected = (kind & REACTION_REJECTED) !== 0;
      try {
        switch (kind & ~REACTION_REJECTED) {
          case K_CAPABILITY:
            capabilityJob(reaction, arg, rejected);
            break;
          case K_ALL:
          case K_ALL_KEYED:
            if (rejected) capabilityReject(reaction.a.cap, arg);
            else allElement(reaction.a, reaction.d, arg);
            break;
          case K_ALL_SETTLED:
          case K_ALL_SETTLED_KEYED:
            allSettledElement(reaction.a, reaction.d, arg, rejected);
            break;
          case K_ANY:
            if (rejected) anyRejectElement(reaction.a, reaction.d, arg);
            else capabilityResolve(reaction.a.cap, arg);
            break;
          case K_RACE:
            if (rejected) capabilityReject(reaction.a, arg);
            else capabilityResolve(reaction.a, arg);
            break;
        }
      } catch (error) {
        // Only a user-supplied capability function can throw here; the spec has no promise to reject.
        reaction.domain.host.reportError(error);
      }
    }

    function capabilityJob(reaction: Reaction, arg: unknown, rejected: boolean): void {
      const handler = rejected ? reaction.b : reaction.a;
      let result = arg;
      let threw = rejected;
      if (handler !== undefined) {
        threw = false;
        try {
          result = handler(arg);
        } catch (error) {
          result = error;
          threw = true;
        }
      }
      const settle = threw ? reaction.d : reaction.c;
      settle(result);
    }

    // ---- capabilities -------------------------------------------------------------------------------

    /** Resolving functions for a loop promise (CreateResolvingFunctions), as the withResolvers object. */
    makeResolvers = (
      p: LoopPromise,
    ): { promise: LoopPromise; resolve: (v: unknown) => void; reject: (r: unknown) => void } => {
      const [resolve, reject] = resolvingFunctions(p);
      return { promise: p, resolve, reject };
    };

    capabilityResolve = (cap: Capability, value: unknown): void => {
      const fn = cap.resolve;
      if (fn !== undefined) {
        fn(value);
        return;
      }
      const p = cap.promise as LoopPromise;
      if ((p.#bits & RESOLVED) !== 0) return;
      p.#bits |= RESOLVED;
      resolvePromise(p, value);
    };

    capabilityReject = (cap: Capability, reason: unknown): void => {
      const fn = cap.reject;
      if (fn !== undefined) {
        fn(reason);
        return;
      }
      const p = cap.promise as LoopPromise;
      if ((p.#bits & RESOLVED) !== 0) return;
      p.#bits |= RESOLVED;
      rejectPromise(p, reason);
    };

    /** Real functions for an internal capability (guarded by the promise's RESOLVED flag). */
    capabilityFunctions = (cap: Capability): void => {
      if (cap.resolve !== undefined) return;
      const p = cap.promise as LoopPromise;
      // Anonymous built-ins (array elements get no inferred name), guarded by the RESOLVED flag.
      [cap.resolve, cap.reject] = [
        (value: unknown): void => {
          if ((p.#bits & RESOLVED) !== 0) return;
          p.#bits |= RESOLVED;
          resolvePromise(p, value);
        },
        (reason: unknown): void => {
          if ((p.#bits & RESOLVED) !== 0) return;
          p.#bits |= RESOLVED;
          rejectPromise(p, reason);
        },
      ];
    };

    /**
     * PromiseResolve (§27.2.4.7.1); `d` is the domain whose constructor takes the fast path
     * (undefined from a `finally` whose `this` is no loop's promise: no fast path).
     */
    promiseResolve = (C: unknown, x: unknown, d: PromiseDomain | undefined): any => {
      if (isLoopPromise(x) && (x as { constructor?: unknown }).constructor === C) return x;
      if (d !== undefined && C === d.ctor) {
        const p = newInternal(d);
        resolvePromise(p, x);
        return p;
      }
      const cap = newPromiseCapability(C);
      callFn(cap.resolve, x);
      return cap.promise;
    };

    /** SpeciesConstructor(O, defaultConstructor) (§7.3.22). */
    speciesConstructor = (o: any, defaultConstructor: unknown): unknown => {
      const C: unknown = o.constructor;
      if (C === undefined) return defaultConstructor;
      if (C === null || (typeof C !== "object" && typeof C !== "function")) {
        throw speciesError("the constructor property is not an object", C);
      }
      const S: unknown = (C as { [kSpecies]?: unknown })[kSpecies];
      if (S === undefined || S === null) return defaultConstructor;
      if (S === defaultConstructor || isConstructor(S)) return S;
      throw speciesError("Symbol.species is not a constructor", S);
    };

    // ---- combinators --------------------------------------------------------------------------------

    /** Promise.all / allSettled / any / race (§27.2.4.1-5): GetPromiseResolve, GetIterator, Perform*. */
    combinator = (C: unknown, iterable: unknown, kind: number, d: PromiseDomain): unknown => {
      const cap =
        C === d.ctor
          ? new Capability(new LoopPromise(INTERNAL, d), undefined, undefined)
          : newPromiseCapability(C);
      let resolveFn: unknown;
      try {
        resolveFn = (C as { resolve?: unknown }).resolve;
        if (typeof resolveFn !== "function") {
          throw new TypeError(
            `${combinatorName(kind)}: the constructor's resolve is not a function: got ${describeValue(resolveFn)}`,
          );
        }
        const fast = C === d.ctor && resolveFn === d.originalResolve;
        const state = kind === K_RACE ? undefined : new CombinatorState(cap, kind);
        let index = 0;
        // for-of is GetIterator + IteratorStepValue + IteratorClose on an abrupt body, exactly the spec's
        // iteration: errors from next()/done/value are not closed over, errors from our steps are.
        for (const value of iterable as Iterable<unknown>) {
          if (state !== undefined) {
            state.values[index] = undefined;
            state.remaining++;
          }
          const next = fast
            ? promiseResolve(C, value, d)
            : ReflectApply(resolveFn as Function, C, [value]);
          attachElement(next, kind, state, cap, index, d);
          index++;
        }
        if (state !== undefined && --state.remaining === 0) finishCombinator(state);
      } catch (error) {
        capabilityReject(cap, error);
      }
      return cap.promise;
    };

    /**
     * Promise.allKeyed / allSettledKeyed (the await-dictionary proposal): PerformPromiseAllKeyed over
     * the own enumerable properties of `promises`, in [[OwnPropertyKeys]] order; the result is an
     * object with a null prototype and the same keys.
     */
    keyedCombinator = (C: unknown, promises: unknown, kind: number, d: PromiseDomain): unknown => {
      const cap =
        C === d.ctor
          ? new Capability(new LoopPromise(INTERNAL, d), undefined, undefined)
          : newPromiseCapability(C);
      try {
        const resolveFn = (C as { resolve?: unknown }).resolve;
        if (typeof resolveFn !== "function") {
          throw new TypeError(
            `${combinatorName(kind)}: the constructor's resolve is not a function: got ${describeValue(resolveFn)}`,
          );
        }
        if (promises === null || (typeof promises !== "object" && typeof promises !== "function")) {
          throw new TypeError(
            `${combinatorName(kind)}: promises must be an object, got ${describeValue(promises)}`,
          );
        }
        const state = new CombinatorState(cap, kind);
        const fast = C === d.ctor && resolveFn === d.originalResolve;
        let index = 0;
        for (const key of ReflectOwnKeys(promises)) {
          const desc = ReflectGetOwnPropertyDescriptor(promises, key);
          if (desc === undefined || !desc.enumerable) continue;
          const value = (promises as Record<PropertyKey, unknown>)[key];
          state.keys![index] = key;
          state.values[index] = undefined;
          const next = fast ? promiseResolve(C, value, d) : ReflectApply(resolveFn, C, [value]);
          state.remaining++;
          attachElement(next, kind, state, cap, index, d);
          index++;
        }
        if (--state.remaining === 0) finishCombinator(state);
      } catch (error) {
        capabilityReject(cap, error);
      }
      return cap.promise;
    };

    /**
     * Invoke(next, "then", « element functions ») with a record instead of closures when `next` is a
     * promise of the combinator's own loop whose species is that loop's Promise.
     */
    function attachElement(
      next: any,
      kind: number,
      state: CombinatorState | undefined,
      cap: Capability,
      index: number,
      d: PromiseDomain,
    ): void {
      const then = next.then;
      if (then === protoThen && isLoopPromise(next)) {
        const nd = next.#d;
        const S = speciesConstructor(next, nd.ctor);
        if (S === nd.ctor && nd === d) {
          attachRecord(
            next,
            new Reaction(kind, state === undefined ? cap : state, undefined, undefined, index, d),
          );
          return;
        }
        const [onF, onR] = elementFunctions(kind, state, cap, index);
        thenWithSpecies(next, onF, onR, S);
        return;
      }
      if (typeof then !== "function") {
        throw new TypeError(
          `${combinatorName(kind)}: element ${index} has no callable then: got ${describeValue(then)}`,
        );
      }
      const [onF, onR] = elementFunctions(kind, state, cap, index);
      ReflectApply(then, next, [onF, onR]);
    }

    /** The spec's per-element built-in functions, for when they must be real functions. */
    function elementFunctions(
      kind: number,
      state: CombinatorState | undefined,
      cap: Capability,
      index: number,
    ): [unknown, unknown] {
      capabilityFunctions(cap);
      let alreadyCalled = false;
      switch (kind) {
        case K_ALL:
        case K_ALL_KEYED:
          return [
            (x: unknown) => {
              if (alreadyCalled) return;
              alreadyCalled = true;
              allElement(state!, index, x);
            },
            cap.reject,
          ];
        case K_ALL_SETTLED:
        case K_ALL_SETTLED_KEYED: {
          const settle = (x: unknown, rejected: boolean): void => {
            if (alreadyCalled) return;
            alreadyCalled = true;
            allSettledElement(state!, index, x, rejected);
          };
          return [(x: unknown) => settle(x, false), (x: unknown) => settle(x, true)];
        }
        case K_ANY:
          return [
            cap.resolve,
            (x: unknown) => {
              if (alreadyCalled) return;
              alreadyCalled = true;
              anyRejectElement(state!, index, x);
            },
          ];
        default:
          return [cap.resolve, cap.reject];
      }
    }

    function allElement(state: CombinatorState, index: number, value: unknown): void {
      state.values[index] = value;
      if (--state.remaining === 0) finishCombinator(state);
    }

    function allSettledElement(
      state: CombinatorState,
      index: number,
      arg: unknown,
      rejected: boolean,
    ): void {
      state.values[index] = rejected
        ? { status: "rejected", reason: arg }
        : { status: "fulfilled", value: arg };
      if (--state.remaining === 0) finishCombinator(state);
    }

    function anyRejectElement(state: CombinatorState, index: number, reason: unknown): void {
      state.values[index] = reason;
      if (--state.remaining === 0) finishCombinator(state);
    }

    /** The combinator's result: CreateArrayFromList, an AggregateError, or the keyed result object. */
    function finishCombinator(state: CombinatorState): void {
      const kind = state.kind;
      if (kind === K_ANY) {
        const error = new NativeAggregateError(NO_ERRORS, "All promises were rejected");
        ObjectDefineProperty(error, "errors", {
          value: toArray(state.values),
          writable: true,
          enumerable: false,
          configurable: true,
        });
        capabilityReject(state.cap, error);
      } else if (state.keys !== undefined) {
        // CreateKeyedPromiseCombinatorResultObject: no prototype, so no setter can run.
        const result = ObjectCreate(null) as Record<PropertyKey, unknown>;
        const keys = state.keys;
        for (let i = 0; i < keys.length; i++) result[keys[i]!] = state.values[i];
        capabilityResolve(state.cap, result);
      } else {
        capabilityResolve(state.cap, toArray(state.values));
      }
    }

    // ---- termination --------------------------------------------------------------------------------

    function terminateIfWaiting(p: LoopPromise): void {
      const bits = p.#bits;
      if ((bits & STATE) !== PENDING || (bits & NOT_WAITING) !== 0 || p.#reactions === undefined)
        return;
      p.#bits = bits | HANDLED | RESOLVED;
      p.#onFul = undefined;
      p.#onRej = undefined;
      rejectPromise(p, p.#d.lastTerminationReason);
    }

    terminatePending = (d: PromiseDomain, reason: unknown): number => {
      d.terminated = true;
      d.lastTerminationReason = reason;
      (d.terminationReasons ??= new Set()).add(reason);
      let count = 0;
      promoteNursery(d);
      for (const ref of [...d.waiting]) {
        const p = ref.deref();
        if (p === undefined) {
          d.waiting.delete(ref);
          continue;
        }
        if ((p.#bits & NOT_WAITING) === 0) {
          terminateIfWaiting(p);
          count++;
        }
      }
      return count;
    };
  }
}

function isLoopPromise(x: unknown): x is LoopPromise {
  return isLoopPromiseImpl(x);
}

/** NewPromiseCapability(C) (§27.2.1.5). */
function newPromiseCapability(C: unknown): Capability {
  if (!isConstructor(C)) {
    throw new TypeError(
      `Cannot create a promise capability: the constructor is not a constructor: got ${describeValue(C)}`,
    );
  }
  const cap = new Capability(undefined, undefined, undefined);
  // GetCapabilitiesExecutor: an anonymous built-in of length 2 (an array element has no inferred name).
  const [executor] = [
    (resolve: unknown, reject: unknown): void => {
      if (cap.resolve !== undefined)
        throw new TypeError("Promise capability executor already called (resolve is set)");
      if (cap.reject !== undefined)
        throw new TypeError("Promise capability executor already called (reject is set)");
      cap.resolve = resolve as (v: unknown) => void;
      cap.reject = reject as (r: unknown) => void;
    },
  ];
  const promise = new (C as new (executor: unknown) => unknown)(executor);
  if (typeof cap.resolve !== "function") {
    throw new TypeError(
      `Promise capability resolve is not a function: got ${describeValue(cap.resolve)}`,
    );
  }
  if (typeof cap.reject !== "function") {
    throw new TypeError(
      `Promise capability reject is not a function: got ${describeValue(cap.reject)}`,
    );
  }
  cap.promise = promise;
  return cap;
}

function combinatorName(kind: number): string {
  switch (kind) {
    case K_ALL:
      return "Promise.all";
    case K_ALL_SETTLED:
      return "Promise.allSettled";
    case K_ANY:
      return "Promise.any";
    case K_ALL_KEYED:
      return "Promise.allKeyed";
    case K_ALL_SETTLED_KEYED:
      return "Promise.allSettledKeyed";
    default:
      return "Promise.race";
  }
}

/** What the shutdown registry holds for a waiting promise: a WeakRef, or a strong stand-in. */
interface RegistryRef<T extends object> {
  deref(): T | undefined;
}

/**
 * A WeakRef where the runtime has one. workerd hides WeakRef under older compatibility
 * dates (absent at 2024-01-01, present at 2025-09-01 and 2026-11-01: the dates
 * `npm run test:runtimes` runs); without it the registry holds waiting promises strongly, so an abandoned one is kept until it settles or the loop shuts down
 * (the behaviour before the registry became weak), and nothing else changes.
 */
const registryRef: <T extends object>(target: T) => RegistryRef<T> =
  typeof WeakRef === "function"
    ? (target) => new WeakRef(target)
    : (target) => ({ deref: () => target });

/** Call(fn, undefined, « arg »). */
function callFn(fn: ((arg: unknown) => void) | undefined, arg: unknown): void {
  (fn as (arg: unknown) => void)(arg);
}

/** IsConstructor (§7.2.4) without side effects: `new` on a Proxy whose construct trap never reaches C. */
function isConstructor(value: unknown): boolean {
  if (typeof value !== "function") return false;
  try {
    new new Proxy(value as new () => unknown, CONSTRUCT_PROBE)();
    return true;
  } catch {
    return false;
  }
}
const CONSTRUCT_PROBE: ProxyHandler<new () => unknown> = {
  construct(): object {
    return CONSTRUCT_PROBE;
  },
};
