/**
 * How the CLI prints what a guest leaves uncaught. The html profile reports an error and
 * goes on, as a browser does; an interval that throws on every beat must not print the
 * same error without bound, so an error identical to one already printed is counted, and
 * the count is printed at 10, 100, 1000... repeats and when the run ends.
 *
 * @module
 */

export class ErrorPrinter {
  readonly #write: (text: string) => void;
  readonly #textOf: (error: unknown) => string;
  readonly #seen = new Map<string, number>();

  /** `textOf`: the text of a value the guest left uncaught (cli/guest_host.ts `errorText`). */
  constructor(write: (text: string) => void, textOf: (error: unknown) => string) {
    this.#write = write;
    this.#textOf = textOf;
  }

  /** Prints `error` under `label`, or counts it if the same text was printed before. */
  report(label: string, error: unknown): void {
    const text = `${label}: ${this.#textOf(error)}`;
    const count = (this.#seen.get(text) ?? 0) + 1;
    this.#seen.set(text, count);
    if (count === 1) this.#write(`${text}\n`);
    else if (isPowerOfTen(count))
      this.#write(`${firstLine(text)} (the same error again: ${count} times so far)\n`);
  }

  /** At the end of the run: how often each repeated error was raised in all. */
  summary(): void {
    for (const [text, count] of this.#seen) {
      if (count > 1) this.#write(`${firstLine(text)} (raised ${count} times in all)\n`);
    }
  }
}

function isPowerOfTen(n: number): boolean {
  for (let p = 10; p <= n; p *= 10) if (p === n) return true;
  return false;
}

function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline === -1 ? text : text.slice(0, newline);
}
