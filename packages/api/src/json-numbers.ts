/**
 * Numbers that JSON.parse would silently change. A JSON number becomes a double, which holds
 * every integer only up to 2^53 − 1 (`Number.MAX_SAFE_INTEGER`): 12345678901234567890 is read
 * as 12345678901234567168 and would be stored so, without a word; and a number past the largest
 * double (1e400) becomes Infinity, which JSON.stringify sends as null. The gateway (boundary.ts
 * `parseJsonBody`) and `shoal db put` refuse a value holding either instead, quoting the number,
 * so that the sender can write it as a string. An integer beyond 2^53 − 1 that a double holds
 * exactly (100000000000000000000) is kept: nothing of it is lost. Integers count only as integer
 * literals (no fraction, no exponent): a number written with either is floating-point by the
 * sender's choice.
 *
 * The CLI imports this module on its own (`@shoal/api/json-numbers`), without the server.
 */

/** Characters of a number quoted in a message (a body may hold one a million digits long). */
const shownCharsMax = 40;

/** Index of the closing quote of the string that opens at `start` (valid JSON: it has one). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2; // a backslash escapes the next character (\" and \\ included)
    else if (c === 0x22) return i;
    else i++;
  }
  return i;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65; // 0-9 - + . E e
}

/** Why the number literal `token` would not survive JSON.parse, or undefined if it would. */
function lossOf(token: string): string | undefined {
  const n = Number(token);
  if (/^-?\d+$/.test(token)) {
    if (Number.isSafeInteger(n)) return undefined;
    // Past 2^53 − 1 only some integers are doubles; any other is read as its nearest one. (A
    // finite double has at most 309 digits, so the BigInt is cheap.)
    return Number.isFinite(n) && BigInt(token) === BigInt(n) ? undefined : 'which is beyond ±(2^53 − 1) and would lose precision';
  }
  return Number.isFinite(n) ? undefined : 'which is too large for a number and would become infinite';
}

/**
 * The first number of `text` (JSON that JSON.parse accepted) that parsing would change: the
 * literal as written and why; undefined if there is none.
 */
export function lossyNumberIn(text: string): { readonly number: string; readonly why: string } | undefined {
  // It takes 16 digits in a row to pass 2^53 − 1 (9007199254740991), or a 3-digit exponent (or
  // 309 digits) to pass the largest double: most bodies have neither, and are not scanned.
  if (!/\d{16}|[eE][+-]?\d{3}/.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = endOfString(text, i);
      continue;
    }
    if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) continue;
    let end = i + 1;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
    const token = text.slice(i, end);
    const why = lossOf(token);
    if (why !== undefined) return { number: token, why };
    i = end - 1;
  }
  return undefined;
}

/** The sentence for such a number: what `what` holds, why it is refused, what to do instead. */
export function lossyNumberMessage(what: string, found: { readonly number: string; readonly why: string }): string {
  const n = found.number;
  const shown = n.length > shownCharsMax ? `${n.slice(0, shownCharsMax)}… (${n.length} characters)` : n;
  const noun = /^-?\d+$/.test(n) ? 'integer' : 'number';
  return `${what} holds the ${noun} ${shown}, ${found.why}; write it as a string`;
}
