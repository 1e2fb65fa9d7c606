// The host API's hot paths as workloads for comparing two builds of the host:
// bench/ab_host.mjs times them side by side, bench/instructions.mjs counts their
// instructions under valgrind. Each takes a build's exports (its dist/node.js).

/** Each workload: ops per call, and a factory of `run(ops)` for one build. */
export const WORKLOADS = {
  "pair (html)": {
    ops: 8192,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop();
      const fn = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(fn, 1000));
      };
    },
  },
  "pair (node)": {
    ops: 8192,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ profile: "node" });
      const fn = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.clearTimeout(loop.setTimeout(fn, 1000));
      };
    },
  },
  "queueMicrotask 1e3 + run": {
    ops: 1000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      let ran = 0;
      const job = () => {
        ran++;
      };
      return (ops) => {
        loop.submit(() => {
          for (let i = 0; i < ops; i++) loop.queueMicrotask(job);
        });
        loop.runUntilIdle();
        if (ran === -1) throw new Error("unreachable");
      };
    },
  },
  "resolve + 10 thens, 1e3 chains": {
    ops: 1000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const P = loop.Promise;
      const step = (v) => v + 1;
      return (ops) => {
        loop.submit(() => {
          for (let c = 0; c < ops; c++) {
            let p = P.resolve(c);
            for (let k = 0; k < 10; k++) p = p.then(step);
          }
        });
        loop.runUntilIdle();
      };
    },
  },
  "submit 1024 + run": {
    ops: 1024,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const task = () => {};
      return (ops) => {
        for (let i = 0; i < ops; i++) loop.submit(task);
        loop.runUntilIdle();
      };
    },
  },
  "1e4 timers schedule + runAll": {
    ops: 10_000,
    async make(zigloop) {
      const loop = await zigloop.createEventLoop({ clock: "manual" });
      const fn = () => {};
      let seed = 1;
      return (ops) => {
        for (let i = 0; i < ops; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          loop.setTimeout(fn, seed % 1_000_000);
        }
        loop.runAll();
      };
    },
  },
};
