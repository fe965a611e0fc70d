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
  private readonly kept: string[] = [];
  private readonly digestState = new Digest();
  private total = 0;

  constructor(private readonly linesMax: number) {}

  record(atMs: number, what: string): void {
    const line = `${atMs.toFixed(3)} ${what}`;
    this.total++;
    this.digestState.add(line);
    this.kept.push(line);
    if (this.kept.length > this.linesMax) this.kept.splice(0, this.kept.length - this.linesMax);
  }

  /** Lines recorded so far (the last `linesMax` of them). */
  get lines(): readonly string[] {
    return this.kept;
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
    return this.kept.slice(Math.max(0, this.kept.length - n));
  }
}
