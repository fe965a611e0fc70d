/**
 * Seeds and digests.
 *
 * Every random stream of a simulation is derived from the one run seed plus a label
 * (`deriveSeed(seed, 'node', 'a', 1)`, `deriveSeed(seed, 'link', 'a', 'b')`), never forked from a
 * shared stream in creation order. So a stream's numbers depend only on its own label: adding a
 * node, a link or a log line elsewhere does not change what another stream draws.
 *
 * `Digest` folds text into a 64-bit hash (two independent 32-bit FNV-1a lanes with a murmur3
 * finalizer) so that two runs' traces can be compared in constant memory.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uint32 seed for the stream named by `labels`, derived from the run seed. */
export function deriveSeed(seed: number, ...labels: readonly (string | number)[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const label of labels) h = fmix32(fnv1a(h, `\u0001${String(label)}`));
  return h;
}

/** A running 64-bit digest of lines of text. */
export class Digest {
  private a = 0x811c9dc5;
  private b = 0x2c1b3c6d;

  add(line: string): void {
    this.a = fnv1a(this.a, line);
    this.b = fnv1a(this.b ^ 0x5bd1e995, line);
  }

  hex(): string {
    return fmix32(this.a).toString(16).padStart(8, '0') + fmix32(this.b ^ this.a).toString(16).padStart(8, '0');
  }
}
