// The one normalization of an uncaught error or rejection reason, shared by every
// runner: Node's preload and the zigloop harness require() it, Chromium's page loads
// it as a classic script. An error-like value gives its `message`, anything else
// String(value), so "uncaught boom" reads the same whether `boom` was an Error from
// this realm, from a vm context, or a thrown string.
((root) => {
  "use strict";
  function reasonText(value) {
    try {
      if (value !== null && typeof value === "object" && "message" in value)
        return String(value.message);
      return String(value);
    } catch {
      return "<unprintable>";
    }
  }
  if (typeof module === "object" && module !== null && module.exports)
    module.exports = { reasonText };
  else root.__diffReasonText = reasonText;
})(this);
