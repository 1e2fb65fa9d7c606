// Chromium runner, page side (a classic script; lib/chromium.mjs drives the page).
//
// Captures console.log lines, reports uncaught errors and unhandled rejections in the
// normalized form every runner shares, then loads the fixture
// (?fixture=<name>) as a classic script of its own.
//
// Completion without guessing: the page counts the fixture's live timeouts and
// intervals (thin wrappers that only add and remove ids; `this`, arguments and
// errors pass through unchanged), and __diffDone resolves with the trace once none
// is live and no line was logged for `quiet` ms (default 200), which covers the
// microtasks and the unhandledrejection task that may follow the last timer. The
// Node side bounds the whole page with a hard timeout.
(() => {
  "use strict";
  var reasonText = window.__diffReasonText;
  var params = new URLSearchParams(location.search);
  var fixture = params.get("fixture");
  var quietMs = Number(params.get("quiet") || 200);
  var POLL_MS = 10;
  var lines = [];
  var loaded = false;
  var resolveDone;
  window.__diffDone = new Promise((resolve) => {
    resolveDone = resolve;
  });

  console.log = function log() {
    lines.push(Array.prototype.map.call(arguments, String).join(" "));
  };
  window.addEventListener("error", (event) => {
    event.preventDefault();
    lines.push(`uncaught ${reasonText(event.error !== undefined ? event.error : event.message)}`);
  });
  window.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    lines.push(`unhandled ${reasonText(event.reason)}`);
  });

  var native = {
    setTimeout: window.setTimeout,
    clearTimeout: window.clearTimeout,
    setInterval: window.setInterval,
    clearInterval: window.clearInterval,
  };
  var live = new Set();
  function track(nativeSet, once) {
    return function (handler) {
      var id;
      var args = Array.prototype.slice.call(arguments);
      if (typeof handler === "function") {
        args[0] = function () {
          if (once) live.delete(id);
          return handler.apply(this, arguments);
        };
      } else if (once) {
        // A string handler runs as global code by indirect eval (what the browser
        // would compile it to), so the tracker sees it finish.
        const code = String(handler);
        args[0] = () => {
          live.delete(id);
          // biome-ignore lint/security/noGlobalEval: a string handler is code; the page runs it as the browser does.
          // biome-ignore lint/complexity/noCommaOperator: (0, eval) is an indirect eval, in global scope.
          (0, eval)(code);
        };
      }
      id = nativeSet.apply(window, args);
      live.add(id);
      return id;
    };
  }
  function untrack(nativeClear) {
    return (id) => {
      live.delete(id);
      return nativeClear.call(window, id);
    };
  }
  window.setTimeout = track(native.setTimeout, true);
  window.setInterval = track(native.setInterval, false);
  // One id space: either clear works on either kind, as in HTML.
  window.clearTimeout = untrack(native.clearTimeout);
  window.clearInterval = untrack(native.clearInterval);

  var seen = -1;
  var quietSince = 0;
  function poll() {
    var now = performance.now();
    if (!loaded || live.size > 0 || lines.length !== seen) {
      seen = lines.length;
      quietSince = now;
    } else if (now - quietSince >= quietMs) {
      resolveDone(lines.slice());
      return;
    }
    native.setTimeout.call(window, poll, POLL_MS);
  }

  var script = document.createElement("script");
  script.src = `../fixtures/${encodeURIComponent(fixture)}.js`;
  script.onload = () => {
    loaded = true;
  };
  script.onerror = () => {
    lines.push(`harness: cannot load fixture ${fixture}`);
    loaded = true;
  };
  document.head.appendChild(script);
  native.setTimeout.call(window, poll, POLL_MS);
})();
