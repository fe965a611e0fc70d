// Minimal typing of hashring 3.2.0 — only what continuum.ts uses. Deliberately omits `get()`
// (its plain-object cache pollutes Object.prototype on a '__proto__' key), `add`/`remove`/
// `swap` (mutation; we rebuild from committed members instead) and the options object (its
// keys contain spaces and misspellings are silently ignored; we rely on the defaults).
declare module 'hashring' {
  /** Servers as `{ name: { weight } }`; `algorithm` a node:crypto hash name. */
  class HashRing {
    constructor(servers: Record<string, { weight: number; vnodes: number }>, algorithm?: string);
    /** `size` distinct servers, walking the continuum clockwise from the key's hash. */
    range(key: string, size: number): string[];
    /** Continuum points per server. */
    points(servers: string[]): Record<string, number[]>;
  }
  export default HashRing;
}
