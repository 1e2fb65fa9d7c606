/**
 * The loop's Promise: an ECMAScript Promise (ECMA-262 §27.2) whose jobs run on the loop's microtask queue.
 *
 * `createPromiseClass(host)` returns a class bound to one loop. Every job (reaction job, thenable job) is
 * queued with `host.enqueueJob(job, arg)`, where `job` is one of a few functions created once per class and
 * `arg` is the object the job works on, so no closure is allocated per reaction or per job.
 *
 * Storage (see docs/PROMISE.md for the full picture):
 * - A promise has six fields: `#bits` (state and flags), `#value`, `#reactions`, `#onFul`, `#onRej`,
 *   `#ref`. `#reactions` is `undefined`, one reaction, or an array of 2+ reactions (FIFO).
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
  /** The Promise class bound to the loop. */
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
  constructor(kind: number, a: unknown, b: unknown, c: unknown, d: unknown) {
    this.kind = kind;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    this.arg = undefined;
  }
}

type Executor = (resolve: (value: unknown) => void, reject: (reason?: unknown) => void) => void;

/**
 * Creates a Promise class bound to one loop.
 *
 * Shutdown (`terminatePending(reason)`): rejects, with `reason`, every pending promise of this class that
 * has at least one reaction and is not about to make progress by itself (i.e. is not itself waiting on
 * another loop promise and has no job queued). The rejection flows along the chains through the usual
 * reaction jobs, so the loop must drain its microtask queue afterwards for `catch`/`finally` handlers to
 * run. These rejections are marked handled, and so is every later rejection whose reason is one of the
 * termination reasons (SameValue), so termination never produces unhandled-rejection reports. After the
 * first call the class is in terminated mode: attaching a reaction to a pending promise that is not
 * about to make progress by itself rejects that promise at once with the termination reason (new waits
 * cannot hang forever); promises that settle on their own keep working.
 *
 * @param host The loop's job queue, task queue, event target and error/warning hooks.
 * @param options `unhandledRejections` mode (default "html") and `trackCreation` (default false).
 * @returns The class (`Promise`), its rejection `tracker`, `terminatePending` and `pendingCount`.
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
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the class's #private fields are reachable only from code inside this function's class body
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
  const creationErrors = options.trackCreation === true ? new WeakMap<object, Error>() : undefined;

  // Filled in by the class's static block, which can read the private fields.
  let inspector!: RejectionInspector;
  let terminatePending!: (reason: unknown) => number;
  let pendingCount!: () => number;
  let promoteNursery!: () => void;
  let nurserySize!: () => number;

  const tracker = new RejectionTracker(
    host,
    { unhandledRejections: options.unhandledRejections },
    {
      isHandled: (p) => inspector.isHandled(p),
      creationStack: (p) => inspector.creationStack(p),
    },
  );

  const kit: LoopPromiseKit = {
    Promise: undefined as unknown as LoopPromiseConstructor, // set below, once the class exists
    tracker,
    checkpointEnd: (): void => {
      promoteNursery();
      tracker.checkpointEnd();
    },
    get nurserySize(): number {
      return nurserySize();
    },
    onNurseryStart: undefined,
    terminatePending: (reason: unknown): number => terminatePending(reason),
    pendingCount: (): number => pendingCount(),
  };

  // Function slots filled by the class's static block (they need the private fields). Declared before
  // the class so that the static block can assign them.
  let isLoopPromiseImpl: (x: unknown) => boolean;
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
  let promiseResolve: (C: unknown, x: unknown) => any;
  let speciesConstructor: (o: any) => unknown;
  let combinator: (C: unknown, iterable: unknown, kind: number) => unknown;
  let keyedCombinator: (C: unknown, promises: unknown, kind: number) => unknown;

  let terminated = false;
  let terminationReasons: Set<unknown> | undefined;

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

  class LoopPromise {
    #bits = 0;
    #value: any = undefined;
    #reactions: any = undefined;
    #onFul: any = undefined;
    #onRej: any = undefined;
    /** This promise's entry in the waiting registry, while it is linked. */
    #ref: RegistryRef<LoopPromise> | undefined = undefined;

    constructor(executor: Executor) {
      if (creationErrors !== undefined) creationErrors.set(this, new Error("promise created"));
      if (executor === INTERNAL) return;
      if (typeof executor !== "function") {
        throw new TypeError(`Promise resolver is not a function: got ${describeValue(executor)}`);
      }
      const [resolve, reject] = resolvingFunctions(this);
      try {
        executor(resolve, reject);
      } catch (error) {
        reject(error);
      }
    }

    /**
     * Promise.prototype.then (§27.2.5.4).
     * @param onFulfilled Called with the value; non-callables pass the value through.
     * @param onRejected Called with the reason; non-callables pass the reason through.
     * @returns A new promise (of the species constructor) resolved with the handler's result.
     * @throws {TypeError} if `this` is not a promise of this class.
     */
    then(onFulfilled?: unknown, onRejected?: unknown): any {
      if (this === null || typeof this !== "object" || !(#bits in this)) {
        throw new TypeError(
          `Promise.prototype.then called on an incompatible receiver: got ${describeValue(this)}`,
        );
      }
      return thenWithSpecies(this, onFulfilled, onRejected, speciesConstructor(this));
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
      const C = speciesConstructor(promise);
      if (typeof onFinally !== "function") return promise.then(onFinally, onFinally);
      // Then Finally / Catch Finally functions: anonymous built-ins of length 1 (array elements).
      const [thenFinally, catchFinally] = [
        (value: unknown): unknown => {
          const result = onFinally();
          return promiseResolve(C, result).then(() => value);
        },
        (reason: unknown): unknown => {
          const result = onFinally();
          return promiseResolve(C, result).then(() => {
            throw reason;
          });
        },
      ];
      return promise.then(thenFinally, catchFinally);
    }

    /** get Promise[@@species] (§27.2.4.9). */
    static get [Symbol.species](): unknown {
      return this;
    }

    /**
     * Promise.resolve (§27.2.4.7): `x` itself if it is a promise whose constructor is `this`.
     * @param value The resolution.
     * @returns A promise resolved with `value`.
     * @throws {TypeError} if `this` is not an object.
     */
    static resolve(value?: unknown): any {
      const C: unknown = this;
      if (C === null || (typeof C !== "object" && typeof C !== "function")) {
        throw new TypeError(`Promise.resolve called on a non-object: got ${describeValue(C)}`);
      }
      return promiseResolve(C, value);
    }

    /**
     * Promise.reject (§27.2.4.6).
     * @param reason The rejection reason.
     * @returns A promise rejected with `reason`.
     * @throws {TypeError} if `this` is not a promise constructor.
     */
    static reject(reason?: unknown): any {
      const C: unknown = this;
      if (C === LoopPromise) {
        const p = new LoopPromise(INTERNAL);
        p.#bits = RESOLVED;
        rejectPromise(p, reason);
        return p;
      }
      const cap = newPromiseCapability(C);
      callFn(cap.reject, reason);
      return cap.promise;
    }

    /**
     * Promise.withResolvers (§27.2.4.8, ES2024).
     * @returns `{ promise, resolve, reject }`.
     * @throws {TypeError} if `this` is not a promise constructor.
     */
    static withResolvers(): any {
      const C: unknown = this;
      if (C === LoopPromise) return makeResolvers(new LoopPromise(INTERNAL));
      const cap = newPromiseCapability(C);
      return { promise: cap.promise, resolve: cap.resolve, reject: cap.reject };
    }

    /**
     * Promise.try (§27.2.4.8 in ES2025): calls `callbackFn(...args)` now and returns a promise for its
     * result; a synchronous throw becomes a rejection.
     * @param callbackFn The function to call.
     * @param args Its arguments.
     * @returns A promise resolved with the result or rejected with the thrown error.
     * @throws {TypeError} if `this` is not an object or not a promise constructor.
     */
    static try(callbackFn: unknown, ...args: unknown[]): any {
      const C: unknown = this;
      if (C === null || (typeof C !== "object" && typeof C !== "function")) {
        throw new TypeError(`Promise.try called on a non-object: got ${describeValue(C)}`);
      }
      const cap =
        C === LoopPromise
          ? new Capability(new LoopPromise(INTERNAL), undefined, undefined)
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
    }

    /**
     * Promise.all (§27.2.4.1).
     * @param iterable Values or thenables.
     * @returns A promise for the array of values, or the first rejection.
     */
    static all(iterable: unknown): any {
      return combinator(this, iterable, K_ALL);
    }

    /**
     * Promise.allSettled (§27.2.4.2).
     * @param iterable Values or thenables.
     * @returns A promise for `{status, value|reason}` records.
     */
    static allSettled(iterable: unknown): any {
      return combinator(this, iterable, K_ALL_SETTLED);
    }

    /**
     * Promise.any (§27.2.4.3).
     * @param iterable Values or thenables.
     * @returns A promise for the first fulfillment, or rejected with an AggregateError of all reasons.
     */
    static any(iterable: unknown): any {
      return combinator(this, iterable, K_ANY);
    }

    /**
     * Promise.race (§27.2.4.5).
     * @param iterable Values or thenables.
     * @returns A promise settled like the first element to settle.
     */
    static race(iterable: unknown): any {
      return combinator(this, iterable, K_RACE);
    }

    /**
     * Promise.allKeyed (TC39 await-dictionary proposal, PerformPromiseAllKeyed ~all~).
     * @param promises An object whose own enumerable properties are values or thenables.
     * @returns A promise for an object with a null prototype and the same keys, or the first rejection.
     */
    static allKeyed(promises: unknown): any {
      return keyedCombinator(this, promises, K_ALL_KEYED);
    }

    /**
     * Promise.allSettledKeyed (TC39 await-dictionary proposal, PerformPromiseAllKeyed ~all-settled~).
     * @param promises An object whose own enumerable properties are values or thenables.
     * @returns A promise for an object with a null prototype of `{status, value|reason}` records.
     */
    static allSettledKeyed(promises: unknown): any {
      return keyedCombinator(this, promises, K_ALL_SETTLED_KEYED);
    }

    static {
      // The constructor's name is "Promise" (§27.2.3), whatever this class is called here.
      ObjectDefineProperty(LoopPromise, "name", { value: "Promise" });
      ObjectDefineProperty(LoopPromise.prototype, Symbol.toStringTag, {
        value: "Promise",
        writable: false,
        enumerable: false,
        configurable: true,
      });
    }

    // ------------------------------------------------------------------------------------------------
    // Everything below needs the private fields, so it lives in this static block. The functions are
    // created once per class: these are the "static" jobs and helpers of the hot path.
    // ------------------------------------------------------------------------------------------------
    static {
      const protoThen = LoopPromise.prototype.then;
      const originalResolve = LoopPromise.resolve;

      // The pending-with-reactions registry: a strong nursery for this checkpoint's links, weak after.
      const NURSERY_LIMIT = 65_536;
      // Internal lists have no prototype: a setter user code put on Array.prototype never runs here.
      const nursery = newList() as LoopPromise[];
      const waiting = new Set<RegistryRef<LoopPromise>>();
      let sweepAt = 1024;
      const sweep = (): void => {
        for (const ref of waiting) if (ref.deref() === undefined) waiting.delete(ref);
        sweepAt = Math.max(1024, waiting.size * 2);
      };
      /** Give every nursery entry that is still linked a weak entry, and empty the nursery. */
      promoteNursery = (): void => {
        const n = nursery.length;
        if (n === 0) return;
        for (let i = 0; i < n; i++) {
          const p = nursery[i]!;
          // Settled (LINKED cleared by unlink) or already promoted: nothing to do.
          if ((p.#bits & LINKED) === 0 || p.#ref !== undefined) continue;
          const ref = registryRef(p);
          p.#ref = ref;
          waiting.add(ref);
        }
        nursery.length = 0;
        if (waiting.size >= sweepAt) sweep();
      };
      nurserySize = (): number => nursery.length;

      isLoopPromiseImpl = (x: unknown): boolean =>
        x !== null && typeof x === "object" && #bits in (x as object);

      inspector = {
        isHandled: (p: object): boolean =>
          isLoopPromise(p) && ((p as LoopPromise).#bits & HANDLED) !== 0,
        creationStack: (p: object): string | undefined => creationStackOf(p),
      };

      pendingCount = (): number => {
        promoteNursery();
        sweep();
        return waiting.size;
      };

      // ---- state transitions --------------------------------------------------------------------------

      /** The promise resolve procedure (§27.2.1.3.2 steps 7-16), minus [[AlreadyResolved]]. */
      resolvePromise = (p: LoopPromise, x: unknown): void => {
        if ((p.#bits & STATE) !== PENDING) return; // only after termination
        if (x === p) {
          rejectPromise(
            p,
            new TypeError("Chaining cycle detected: a promise cannot be resolved with itself"),
          );
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
        host.enqueueJob(thenableJob, p);
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
        if (reactions !== undefined) triggerReactions(reactions, value, false);
      }

      /** RejectPromise (§27.2.1.7), with HostPromiseRejectionTracker(p, "reject"). */
      rejectPromise = (p: LoopPromise, reason: unknown): void => {
        let bits = p.#bits;
        if ((bits & STATE) !== PENDING) return;
        const reactions = p.#reactions;
        p.#value = reason;
        p.#reactions = undefined;
        if (
          (bits & HANDLED) === 0 &&
          terminationReasons !== undefined &&
          terminationReasons.has(reason)
        ) {
          bits |= HANDLED; // a consequence of terminatePending: never reported
        }
        p.#bits = (bits & KEEP_ON_SETTLE) | REJECTED;
        if ((bits & LINKED) !== 0) unlink(p);
        if ((bits & HANDLED) === 0) tracker.onReject(p, reason);
        if (reactions !== undefined) triggerReactions(reactions, reason, true);
      };

      /** TriggerPromiseReactions (§27.2.1.8): queue every reaction in attach order. */
      function triggerReactions(reactions: any, arg: unknown, rejected: boolean): void {
        if (ArrayIsArray(reactions)) {
          for (let i = 0; i < reactions.length; i++) queueReaction(reactions[i], arg, rejected);
        } else {
          queueReaction(reactions, arg, rejected);
        }
      }

      function queueReaction(reaction: any, arg: unknown, rejected: boolean): void {
        if (#bits in reaction) queueChild(reaction as LoopPromise, arg, rejected);
        else queueRecord(reaction as Reaction, arg, rejected);
      }

      /** NewPromiseReactionJob for a derived/adopting loop promise: the promise is the job's record. */
      function queueChild(child: LoopPromise, arg: unknown, rejected: boolean): void {
        const bits = child.#bits;
        if ((bits & STATE) !== PENDING) return; // terminated while waiting
        child.#value = arg;
        child.#bits = (bits & ~ATTACHED) | QUEUED | (rejected ? ARG_REJECTED : 0);
        host.enqueueJob(childJob, child);
      }

      function queueRecord(reaction: Reaction, arg: unknown, rejected: boolean): void {
        reaction.arg = arg;
        if (rejected) reaction.kind |= REACTION_REJECTED;
        host.enqueueJob(reactionJob, reaction);
      }

      // ---- PerformPromiseThen (§27.2.5.4.1) -----------------------------------------------------------

      /** Attach a derived or adopting loop promise as a reaction of `p`. */
      function attachChild(p: LoopPromise, child: LoopPromise): void {
        const bits = p.#bits;
        const state = bits & STATE;
        if (state === PENDING) {
          child.#bits |= ATTACHED;
          addReaction(p, bits, child);
          return;
        }
        if (state === REJECTED && (bits & HANDLED) === 0) tracker.onHandle(p);
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
        if (state === REJECTED && (bits & HANDLED) === 0) tracker.onHandle(p);
        p.#bits = bits | HANDLED;
        queueRecord(reaction, p.#value, state === REJECTED);
      }

      function addReaction(p: LoopPromise, bits: number, reaction: unknown): void {
        const reactions = p.#reactions;
        p.#bits = bits | HANDLED;
        if (reactions === undefined) {
          p.#reactions = reaction;
          // Only a promise that waits on something outside the loop's promise graph needs to be reachable
          // by terminatePending; a derived/adopting promise (ATTACHED, QUEUED, THENABLE) is not linked.
          if ((bits & NOT_WAITING) === 0) link(p);
        } else if (ArrayIsArray(reactions)) {
          reactions[reactions.length] = reaction; // a List (no prototype): no inherited setter
        } else {
          const list = newList();
          list[0] = reactions;
          list[1] = reaction;
          p.#reactions = list;
        }
        if (terminated) terminateIfWaiting(p);
      }

      /** Register a pending promise that has reactions and now waits on something external. */
      function link(p: LoopPromise): void {
        p.#bits |= LINKED;
        // A promise is linked at most once (it stays LINKED until it settles), so no duplicates.
        nursery[nursery.length] = p;
        const n = nursery.length;
        if (n === 1) kit.onNurseryStart?.();
        else if (n >= NURSERY_LIMIT) promoteNursery();
      }

      /** After a thenable job left `p` waiting on a foreign thenable or capability: link it if needed. */
      function linkIfWaiting(p: LoopPromise): void {
        const bits = p.#bits;
        if ((bits & (STATE | LINKED | NOT_WAITING)) === PENDING && p.#reactions !== undefined)
          link(p);
        if (terminated) terminateIfWaiting(p);
      }

      /** Settling: the caller has cleared LINKED (a nursery entry is then skipped); drop the weak entry. */
      function unlink(p: LoopPromise): void {
        const ref = p.#ref;
        if (ref === undefined) return;
        waiting.delete(ref);
        p.#ref = undefined;
      }

      /** then() after SpeciesConstructor: the derived promise is the reaction when C is this class. */
      thenWithSpecies = (
        p: LoopPromise,
        onFulfilled: unknown,
        onRejected: unknown,
        C: unknown,
      ): unknown => {
        const f = typeof onFulfilled === "function" ? onFulfilled : undefined;
        const r = typeof onRejected === "function" ? onRejected : undefined;
        if (C === LoopPromise) {
          const child = new LoopPromise(INTERNAL);
          child.#bits = RESOLVED;
          child.#onFul = f;
          child.#onRej = r;
          attachChild(p, child);
          return child;
        }
        const cap = newPromiseCapability(C);
        attachRecord(p, new Reaction(K_CAPABILITY, f, r, cap.resolve, cap.reject));
        return cap.promise;
      };

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
          let C: unknown;
          try {
            C = speciesConstructor(thenable);
          } catch (error) {
            rejectPromise(p, error);
            return;
          }
          if (C === LoopPromise) {
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
          host.reportError(error);
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

      /** PromiseResolve (§27.2.4.7.1). */
      promiseResolve = (C: unknown, x: unknown): any => {
        if (isLoopPromise(x) && (x as { constructor?: unknown }).constructor === C) return x;
        if (C === LoopPromise) {
          const p = new LoopPromise(INTERNAL);
          p.#bits = RESOLVED;
          resolvePromise(p, x);
          return p;
        }
        const cap = newPromiseCapability(C);
        callFn(cap.resolve, x);
        return cap.promise;
      };

      /** SpeciesConstructor(O, this class) (§7.3.22). */
      speciesConstructor = (o: any): unknown => {
        const C: unknown = o.constructor;
        if (C === undefined) return LoopPromise;
        if (C === null || (typeof C !== "object" && typeof C !== "function")) {
          throw new TypeError(
            `Promise species lookup: the constructor property is not an object: got ${describeValue(C)}`,
          );
        }
        const S: unknown = (C as { [kSpecies]?: unknown })[kSpecies];
        if (S === undefined || S === null) return LoopPromise;
        if (S === LoopPromise || isConstructor(S)) return S;
        throw new TypeError(
          `Promise species lookup: Symbol.species is not a constructor: got ${describeValue(S)}`,
        );
      };

      // ---- combinators --------------------------------------------------------------------------------

      /** Promise.all / allSettled / any / race (§27.2.4.1-5): GetPromiseResolve, GetIterator, Perform*. */
      combinator = (C: unknown, iterable: unknown, kind: number): unknown => {
        const cap =
          C === LoopPromise
            ? new Capability(new LoopPromise(INTERNAL), undefined, undefined)
            : newPromiseCapability(C);
        let resolveFn: unknown;
        try {
          resolveFn = (C as { resolve?: unknown }).resolve;
          if (typeof resolveFn !== "function") {
            throw new TypeError(
              `${combinatorName(kind)}: the constructor's resolve is not a function: got ${describeValue(resolveFn)}`,
            );
          }
          const fast = C === LoopPromise && resolveFn === originalResolve;
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
              ? promiseResolve(LoopPromise, value)
              : ReflectApply(resolveFn as Function, C, [value]);
            attachElement(next, kind, state, cap, index);
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
      keyedCombinator = (C: unknown, promises: unknown, kind: number): unknown => {
        const cap =
          C === LoopPromise
            ? new Capability(new LoopPromise(INTERNAL), undefined, undefined)
            : newPromiseCapability(C);
        try {
          const resolveFn = (C as { resolve?: unknown }).resolve;
          if (typeof resolveFn !== "function") {
            throw new TypeError(
              `${combinatorName(kind)}: the constructor's resolve is not a function: got ${describeValue(resolveFn)}`,
            );
          }
          if (
            promises === null ||
            (typeof promises !== "object" && typeof promises !== "function")
          ) {
            throw new TypeError(
              `${combinatorName(kind)}: promises must be an object, got ${describeValue(promises)}`,
            );
          }
          const state = new CombinatorState(cap, kind);
          const fast = C === LoopPromise && resolveFn === originalResolve;
          let index = 0;
          for (const key of ReflectOwnKeys(promises)) {
            const desc = ReflectGetOwnPropertyDescriptor(promises, key);
            if (desc === undefined || !desc.enumerable) continue;
            const value = (promises as Record<PropertyKey, unknown>)[key];
            state.keys![index] = key;
            state.values[index] = undefined;
            const next = fast
              ? promiseResolve(LoopPromise, value)
              : ReflectApply(resolveFn, C, [value]);
            state.remaining++;
            attachElement(next, kind, state, cap, index);
            index++;
          }
          if (--state.remaining === 0) finishCombinator(state);
        } catch (error) {
          capabilityReject(cap, error);
        }
        return cap.promise;
      };

      /** Invoke(next, "then", « element functions ») with a record instead of closures when possible. */
      function attachElement(
        next: any,
        kind: number,
        state: CombinatorState | undefined,
        cap: Capability,
        index: number,
      ): void {
        const then = next.then;
        if (then === protoThen && isLoopPromise(next)) {
          const S = speciesConstructor(next);
          if (S === LoopPromise) {
            attachRecord(
              next,
              new Reaction(kind, state === undefined ? cap : state, undefined, undefined, index),
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
        rejectPromise(p, lastTerminationReason);
      }

      let lastTerminationReason: unknown;
      terminatePending = (reason: unknown): number => {
        terminated = true;
        lastTerminationReason = reason;
        (terminationReasons ??= new Set()).add(reason);
        let count = 0;
        promoteNursery();
        for (const ref of [...waiting]) {
          const p = ref.deref();
          if (p === undefined) {
            waiting.delete(ref);
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

  function creationStackOf(p: object): string | undefined {
    const error = creationErrors?.get(p);
    if (error === undefined) return undefined;
    const stack = String(error.stack ?? "");
    const newline = stack.indexOf("\n");
    return newline === -1 ? stack : stack.slice(newline + 1);
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

  kit.Promise = LoopPromise as unknown as LoopPromiseConstructor;
  return kit;
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
