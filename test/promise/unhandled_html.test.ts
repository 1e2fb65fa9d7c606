/**
 * Unhandled rejections, html mode: WPT html/webappapis/scripting/processing-model-2/unhandled-promise-rejections
 * (support/promise-rejection-events.js, promise-rejection-events-attached-in-event.any.js,
 * promise-rejection-event-constructor.any.js) re-expressed on the stub loop. The test body plays the part
 * of the script's task: `host.run()` then performs its checkpoint and every later task.
 * WPT's queueTask → host.queueTask; mutationObserverMicrotask → host.queueMicrotask; setTimeout → the stub's
 * virtual-time timers.
 */
import { describe, expect, test } from "vitest";
import { PromiseRejectionEvent } from "../../src-ts/promise/rejection_tracker.ts";
import { makeLoop } from "./_stub_host.ts";

type Loop = ReturnType<typeof makeLoop>;

/** Records unhandledrejection/rejectionhandled events as [type, promise, reason]. */
function listen(loop: Loop, onUnhandled?: (e: PromiseRejectionEvent) => void) {
  const events: [string, unknown, unknown][] = [];
  loop.host.target.addEventListener("unhandledrejection", (e) => {
    const ev = e as unknown as PromiseRejectionEvent;
    events.push(["unhandledrejection", ev.promise, ev.reason]);
    onUnhandled?.(ev);
  });
  loop.host.target.addEventListener("rejectionhandled", (e) => {
    const ev = e as unknown as PromiseRejectionEvent;
    events.push(["rejectionhandled", ev.promise, ev.reason]);
  });
  return events;
}

describe("unhandledrejection fires (and is reported when not canceled)", () => {
  const cases: Record<string, (loop: Loop, e: Error) => Promise<unknown>> = {
    "from Promise.reject": (loop, e) => loop.Promise.reject(e),
    "from a synchronous rejection in new Promise": (loop, e) =>
      new loop.Promise((_, reject) => reject(e)),
    "from a task-delayed rejection": (loop, e) =>
      new loop.Promise((_, reject) => loop.host.queueTask(() => reject(e))),
    "from a setTimeout-delayed rejection": (loop, e) =>
      new loop.Promise((_, reject) => loop.host.setTimeout(() => reject(e), 1)),
    "from a throw in a fulfillment handler": (loop, e) =>
      loop.Promise.resolve().then(() => {
        throw e;
      }),
    "from returning a Promise.reject-created rejection in a fulfillment handler": (loop, e) =>
      loop.Promise.resolve().then(() => loop.Promise.reject(e)),
    "from a throw in a rejection handler chained off of Promise.reject": (loop, e) =>
      loop.Promise.reject(new Error("first")).then(undefined, () => {
        throw e;
      }),
    "from Promise.reject, indirected through Promise.all": (loop, e) =>
      loop.Promise.all([loop.Promise.reject(e)]),
  };
  for (const [name, make] of Object.entries(cases)) {
    test(`unhandledrejection: ${name}`, () => {
      const loop = makeLoop();
      const events = listen(loop);
      const e = new Error(name);
      const p = make(loop, e);
      loop.host.run();
      expect(events).toEqual([["unhandledrejection", p, e]]);
      expect(loop.host.errors).toEqual([e]); // html: reported because not canceled
    });
  }

  test("a canceled unhandledrejection is not reported", () => {
    const loop = makeLoop();
    const events = listen(loop, (ev) => ev.preventDefault());
    const p = loop.Promise.reject(new Error("x"));
    loop.host.run();
    expect(events.map((e) => e[0])).toEqual(["unhandledrejection"]);
    expect(events[0]![1]).toBe(p);
    expect(loop.host.errors).toEqual([]);
  });

  test("the event is a cancelable PromiseRejectionEvent fired from a queued task, one task per checkpoint", () => {
    const loop = makeLoop();
    const seen: { cancelable: boolean; isEvent: boolean; checkpoint: number }[] = [];
    loop.host.target.addEventListener("unhandledrejection", (e) => {
      seen.push({
        cancelable: e.cancelable,
        isEvent: e instanceof Event,
        checkpoint: loop.host.checkpoints,
      });
    });
    loop.Promise.reject(1);
    loop.Promise.reject(2);
    loop.host.runMicrotasks();
    expect(seen).toEqual([]); // not at the end of the checkpoint itself
    expect(loop.host.pendingTasks).toBe(1); // one task for the whole list
    loop.host.runTask();
    expect(seen).toEqual([
      { cancelable: true, isEvent: true, checkpoint: 1 },
      { cancelable: true, isEvent: true, checkpoint: 1 },
    ]);
  });
});

describe("no unhandledrejection/rejectionhandled", () => {
  const cases: Record<string, (loop: Loop) => Promise<unknown>> = {
    "rejection handler attached synchronously to a promise from Promise.reject": (loop) =>
      loop.Promise.reject(new Error()).then(
        () => {},
        () => {},
      ),
    "rejection handler attached synchronously, indirecting through Promise.all": (loop) =>
      loop.Promise.all([loop.Promise.reject(new Error())]).then(
        () => {},
        () => {},
      ),
    "rejection handler attached synchronously to a promise created from throwing in a fulfillment handler":
      (loop) =>
        loop.Promise.resolve()
          .then(() => {
            throw new Error();
          })
          .then(
            () => {},
            () => {},
          ),
    "delayed handling: a microtask delay before attaching a handler prevents both events": (
      loop,
    ) => {
      const p = loop.Promise.reject(new Error());
      loop.host.queueMicrotask(() => {
        p.then(
          () => {},
          () => {},
        );
      });
      return p;
    },
    "delayed handling: a microtask delay before attaching the handler, and before rejecting, through Promise.all":
      (loop) => {
        const p1 = new loop.Promise((_, reject) =>
          loop.host.queueMicrotask(() => reject(new Error())),
        );
        const p2 = loop.Promise.all([p1]);
        loop.host.queueMicrotask(() => {
          p2.then(
            () => {},
            () => {},
          );
        });
        return p2;
      },
    "microtask nesting: attaching a handler inside a combination of microtasks and promise jobs": (
      loop,
    ) => {
      const p = loop.Promise.reject(new Error());
      loop.host.queueMicrotask(() => {
        loop.Promise.resolve().then(() => {
          loop.host.queueMicrotask(() => {
            loop.Promise.resolve().then(() => {
              p.catch(() => {});
            });
          });
        });
      });
      return p;
    },
    "delayed handling: a task delay before attaching a handler prevents unhandledrejection": (
      loop,
    ) => {
      let rejectIt!: (e: unknown) => void;
      const p = new loop.Promise((_, reject) => {
        rejectIt = reject;
      });
      rejectIt(new Error());
      loop.host.queueTask(() => {
        p.then(
          () => {},
          () => {},
        );
      });
      return p;
    },
    "delayed handling: queueTask before rejection, plus many promise jobs, is not too late": (
      loop,
    ) => {
      let p!: Promise<unknown>;
      loop.host.queueTask(() => {
        loop.Promise.resolve().then(() =>
          loop.Promise.resolve().then(() =>
            loop.Promise.resolve().then(() => {
              p.catch(() => {});
            }),
          ),
        );
      });
      p = loop.Promise.reject(new Error());
      return p;
    },
    "all inside a queued task, a rejection handler attached synchronously": (loop) => {
      const holder: { p?: Promise<unknown> } = {};
      loop.host.queueTask(() => {
        holder.p = loop.Promise.resolve()
          .then(() => loop.Promise.reject(new Error()))
          .catch(() => {});
      });
      return loop.Promise.resolve();
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    test(name, () => {
      const loop = makeLoop();
      const events = listen(loop);
      make(loop);
      loop.host.run();
      expect(events).toEqual([]);
      expect(loop.host.errors).toEqual([]);
    });
  }

  test("a handler attached after the checkpoint but before the notification task runs suppresses the event", () => {
    const loop = makeLoop();
    const events = listen(loop);
    const p = loop.Promise.reject(new Error());
    loop.host.runMicrotasks(); // checkpoint: the notification task is now queued
    p.catch(() => {}); // [[PromiseIsHandled]] is checked when the task runs
    loop.host.run();
    expect(events).toEqual([]);
    expect(loop.host.errors).toEqual([]);
  });
});

describe("delayed handling that is too late", () => {
  test("a nested-task delay before attaching a handler causes unhandledrejection, then rejectionhandled", () => {
    const loop = makeLoop();
    const events = listen(loop);
    const e = new Error();
    let rejectIt!: (e: unknown) => void;
    const p = new loop.Promise((_, reject) => {
      rejectIt = reject;
    });
    rejectIt(e);
    loop.host.queueTask(() =>
      loop.host.queueTask(() => {
        p.then(
          () => {},
          () => {},
        );
      }),
    );
    loop.host.run();
    expect(events).toEqual([
      ["unhandledrejection", p, e],
      ["rejectionhandled", p, e],
    ]);
  });

  test("delaying handling by setTimeout(,10) will cause both events to fire", () => {
    const loop = makeLoop();
    const events = listen(loop);
    const e = new Error();
    const p = new loop.Promise(() => {
      throw e;
    });
    loop.host.setTimeout(() => {
      p.then(
        () => {},
        () => {},
      );
    }, 10);
    loop.host.run();
    expect(events).toEqual([
      ["unhandledrejection", p, e],
      ["rejectionhandled", p, e],
    ]);
  });

  test("rejectionhandled is dispatched from a queued task, and not immediately", () => {
    const loop = makeLoop();
    const sequence: string[] = [];
    const p = loop.Promise.reject(new Error());
    loop.host.target.addEventListener("unhandledrejection", (ev) => {
      if ((ev as unknown as PromiseRejectionEvent).promise !== p) return;
      sequence.push("unhandled");
      loop.host.setTimeout(() => {
        loop.host.queueTask(() => sequence.push("task before catch"));
        p.catch(() => sequence.push("catch"));
        loop.host.queueTask(() => sequence.push("task after catch"));
        sequence.push("after catch");
      }, 10);
    });
    loop.host.target.addEventListener("rejectionhandled", (ev) => {
      if ((ev as unknown as PromiseRejectionEvent).promise === p) sequence.push("handled");
    });
    loop.host.run();
    expect(sequence).toEqual([
      "unhandled",
      "after catch",
      "catch",
      "task before catch",
      "handled",
      "task after catch",
    ]);
  });

  test("attaching a handler in unhandledrejection does not fire rejectionhandled", () => {
    const loop = makeLoop();
    const e = new Error("e");
    const p = loop.Promise.reject(e);
    let handlerReason: unknown;
    const events = listen(loop, (ev) => {
      expect(ev.promise).toBe(p);
      expect(ev.reason).toBe(e);
      p.then(
        () => {},
        (reason) => {
          handlerReason = reason;
        },
      );
    });
    loop.host.run();
    expect(events).toEqual([["unhandledrejection", p, e]]);
    expect(handlerReason).toBe(e);
    // The listener did not cancel, so the rejection is still reported (cancelation, not handling, decides).
    expect(loop.host.errors).toEqual([e]);
  });

  test("queueTask ordering vs. the task queued for unhandled rejection notification (1)", () => {
    const loop = makeLoop();
    const sequence: unknown[] = [];
    const p1 = loop.Promise.reject(1);
    let p2: Promise<unknown> | undefined;
    loop.host.target.addEventListener("unhandledrejection", (ev) => {
      const promise = (ev as unknown as PromiseRejectionEvent).promise;
      if (promise === p1 || promise === p2) sequence.push(promise);
    });
    loop.host.queueTask(() => {
      p2 = loop.Promise.reject(2);
      loop.host.queueTask(() => sequence.push("queueTask"));
    });
    loop.host.run();
    expect(sequence).toEqual([p1, "queueTask", p2]);
  });

  test("queueTask ordering vs. the task queued for unhandled rejection notification (2)", () => {
    const loop = makeLoop();
    const sequence: unknown[] = [];
    let p2: Promise<unknown> | undefined;
    loop.host.target.addEventListener("unhandledrejection", (ev) => {
      if ((ev as unknown as PromiseRejectionEvent).promise === p2) sequence.push(p2);
    });
    loop.host.queueTask(() => {
      p2 = loop.Promise.reject(2);
      loop.host.queueTask(() => sequence.push("queueTask"));
    });
    loop.host.run();
    expect(sequence).toEqual(["queueTask", p2]);
  });

  test("microtasks queued by an unhandledrejection listener run before the next task", () => {
    const loop = makeLoop();
    const order: number[] = [];
    loop.host.target.addEventListener("unhandledrejection", () => {
      loop.host.queueMicrotask(() => order.push(1));
      loop.host.setTimeout(() => order.push(2), 1);
    });
    loop.Promise.reject(new Error());
    loop.host.run();
    expect(order).toEqual([1, 2]);
  });
});

describe("PromiseRejectionEvent", () => {
  test("constructor requires an object promise (WPT promise-rejection-event-constructor)", () => {
    const p = { then() {} };
    expect(() => new PromiseRejectionEvent("x", undefined as never)).toThrow(TypeError);
    expect(() => new PromiseRejectionEvent("x", {} as never)).toThrow(
      /promise must be an object, got undefined/,
    );
    expect(() => new PromiseRejectionEvent("x", { promise: 1 as never })).toThrow(
      /got type number \(1\)/,
    );
    const ev = new PromiseRejectionEvent("unhandledrejection", {
      promise: p,
      reason: "r",
      cancelable: true,
    });
    expect(ev.type).toBe("unhandledrejection");
    expect(ev.promise).toBe(p);
    expect(ev.reason).toBe("r");
    expect(ev.cancelable).toBe(true);
    expect(new PromiseRejectionEvent("x", { promise: p }).reason).toBeUndefined();
    expect(new PromiseRejectionEvent("x", { promise: p }).cancelable).toBe(false);
  });
});
