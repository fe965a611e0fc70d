/**
 * Trace: what happened in a simulation, as text lines `<timeMs> <what>`.
 *
 * The simulator records every decision that shapes a run (timer fires, datagram sends, drops
 * with their reason, deliveries, duplicates, stream connects, frames and closes, storage
 * commits, crashes, restarts, pauses, partitions) and nothing that depends on the host (no real
 * time, no object identities). Two runs with the same seed therefore produce identical traces,
 * and a test proves determinism by comparing them. All lines feed a running digest; only the
 * last `linesMax` are kept, so a long run costs bounded memory.
 */
import { Digest } from './seed.js';

export class Trace {
  /**
   * The last `linesMax` lines in a ring (`start` is the oldest): dropping the oldest line of a
   * full trace is O(1). (An array spliced at its head cost O(linesMax) per line, which made long
   * runs spend most of their time moving the trace.)
   */
  private readonly ring: string[] = [];
  private start = 0;
  private readonly digestState = new Digest();
  private total = 0;

  constructor(private readonly linesMax: number) {}

  record(atMs: number, what: string): void {
    const line = `${atMs.toFixed(3)} ${what}`;
    this.total++;
    this.digestState.add(line);
    if (this.ring.length < this.linesMax) {
      this.ring.push(line);
      return;
    }
    this.ring[this.start] = line;
    this.start = (this.start + 1) % this.linesMax;
  }

  /** Lines recorded so far (the last `linesMax` of them), oldest first. */
  get lines(): readonly string[] {
    return this.start === 0 ? this.ring : [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }

  /** How many lines were recorded in all, kept or not. */
  get count(): number {
    return this.total;
  }

  /** A 16-hex-digit digest of every line recorded, in order. */
  digest(): string {
    return this.digestState.hex();
  }

  tail(n: number): string[] {
    const lines = this.lines;
    return lines.slice(Math.max(0, lines.length - n));
  }
}
