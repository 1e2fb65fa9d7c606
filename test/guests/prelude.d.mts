/** The escape battery's guest-side checker (prelude.mjs). */
export function prelude(where: {
  path: "cli" | "vm" | "ses";
  profile: "html" | "node";
  installed: readonly string[];
}): string;
