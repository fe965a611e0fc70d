/**
 * Links and cuts: the shape of the simulated network between nodes.
 *
 * A link is directed (`a → b` and `b → a` are configured and cut independently). Each has a
 * latency drawn uniformly from `[latencyMinMs, latencyMaxMs]`, a datagram loss rate, a
 * duplication rate and a reorder rate (a reordered datagram waits an extra uniform
 * `[0, reorderDelayMaxMs]`, so later packets overtake it). An optional bandwidth serializes
 * everything sent on the link: a send departs when the link finished sending earlier bytes,
 * after `bytes / bandwidthBytesPerMs`. Each directed link draws from its own random stream
 * (derived from the run seed and the two node names), so traffic on one link never changes the
 * fate of packets on another.
 *
 * Cuts are partitions: a set of blocked directed node pairs plus a set of isolated nodes. A
 * node's link to itself (loopback) is never cut and uses the `loopback` configuration.
 */
import { seededRandom, type Random } from '@shoal/runtime';
import { deriveSeed } from './seed.js';
import { SimConfigError } from './errors.js';

export interface LinkConfig {
  /** Lowest one-way delay, ms. */
  latencyMinMs: number;
  /** Highest one-way delay, ms (uniform between the two). */
  latencyMaxMs: number;
  /** Probability that a datagram is lost, 0..1. Streams are never lossy. */
  lossRate: number;
  /** Probability that a datagram is delivered twice (each copy with its own delay), 0..1. */
  duplicateRate: number;
  /** Probability that a datagram is held back by an extra delay so that later ones overtake it. */
  reorderRate: number;
  /** Largest extra delay of a reordered datagram, ms. */
  reorderDelayMaxMs: number;
  /** Bytes the link carries per ms; undefined: unlimited. */
  bandwidthBytesPerMs?: number | undefined;
}

/** A LAN-like default: 0.5–2 ms, no faults. Tests turn faults on per link or for all links. */
export const defaultLink: Readonly<LinkConfig> = Object.freeze({
  latencyMinMs: 0.5,
  latencyMaxMs: 2,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 0,
});

export const defaultLoopback: Readonly<LinkConfig> = Object.freeze({ ...defaultLink, latencyMinMs: 0.01, latencyMaxMs: 0.01 });

export function checkLink(cfg: LinkConfig): Readonly<LinkConfig> {
  const rates: (keyof LinkConfig)[] = ['lossRate', 'duplicateRate', 'reorderRate'];
  for (const k of rates) {
    const v = cfg[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new SimConfigError(`link ${k} must be a probability in [0, 1], got ${v}`);
  }
  if (!(cfg.latencyMinMs >= 0 && cfg.latencyMaxMs >= cfg.latencyMinMs)) {
    throw new SimConfigError(`link latency must satisfy 0 <= latencyMinMs <= latencyMaxMs, got ${cfg.latencyMinMs}..${cfg.latencyMaxMs}`);
  }
  if (!(cfg.reorderDelayMaxMs >= 0)) throw new SimConfigError(`link reorderDelayMaxMs must be >= 0, got ${cfg.reorderDelayMaxMs}`);
  if (cfg.bandwidthBytesPerMs !== undefined && !(cfg.bandwidthBytesPerMs > 0)) {
    throw new SimConfigError(`link bandwidthBytesPerMs must be > 0, got ${cfg.bandwidthBytesPerMs}`);
  }
  return Object.freeze({ ...cfg });
}

const pairKey = (from: string, to: string): string => `${from}>${to}`;

export class Links {
  private defaults: Readonly<LinkConfig>;
  private readonly overrides = new Map<string, Readonly<LinkConfig>>();
  private readonly randoms = new Map<string, Random>();
  private readonly busyUntilMs = new Map<string, number>();

  constructor(
    private readonly seed: number,
    defaults: LinkConfig,
    private loopback: Readonly<LinkConfig>,
  ) {
    this.defaults = checkLink(defaults);
  }

  /** Changes the default for every link between distinct nodes that has no override. */
  setDefault(patch: Partial<LinkConfig>): void {
    this.defaults = checkLink({ ...this.defaults, ...patch });
  }

  setLoopback(patch: Partial<LinkConfig>): void {
    this.loopback = checkLink({ ...this.loopback, ...patch });
  }

  /** Overrides one directed link (patching its current configuration). */
  set(from: string, to: string, patch: Partial<LinkConfig>): void {
    this.overrides.set(pairKey(from, to), checkLink({ ...this.config(from, to), ...patch }));
  }

  /** Drops every per-link override. */
  reset(): void {
    this.overrides.clear();
  }

  config(from: string, to: string): Readonly<LinkConfig> {
    return this.overrides.get(pairKey(from, to)) ?? (from === to ? this.loopback : this.defaults);
  }

  random(from: string, to: string): Random {
    const key = pairKey(from, to);
    let r = this.randoms.get(key);
    if (!r) {
      r = seededRandom(deriveSeed(this.seed, 'link', from, to));
      this.randoms.set(key, r);
    }
    return r;
  }

  /** One-way delay sample for this link. */
  latencyMs(from: string, to: string): number {
    const cfg = this.config(from, to);
    const span = cfg.latencyMaxMs - cfg.latencyMinMs;
    return cfg.latencyMinMs + (span > 0 ? this.random(from, to).float() * span : 0);
  }

  /** When `bytes` sent now leave the sender, given the link's bandwidth queue. */
  departMs(from: string, to: string, bytes: number, nowMs: number): number {
    const rate = this.config(from, to).bandwidthBytesPerMs;
    if (rate === undefined) return nowMs;
    const key = pairKey(from, to);
    const start = Math.max(nowMs, this.busyUntilMs.get(key) ?? 0);
    const done = start + bytes / rate;
    this.busyUntilMs.set(key, done);
    return done;
  }
}

export class Cuts {
  private readonly blocked = new Set<string>();
  private readonly isolated = new Set<string>();

  isCut(from: string, to: string): boolean {
    if (from === to) return false;
    return this.isolated.has(from) || this.isolated.has(to) || this.blocked.has(pairKey(from, to));
  }

  blockOneWay(from: string, to: string): void {
    if (from !== to) this.blocked.add(pairKey(from, to));
  }

  isolate(node: string): void {
    this.isolated.add(node);
  }

  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  describe(): string {
    return [...[...this.blocked].sort(), ...[...this.isolated].sort().map((n) => `isolated:${n}`)].join(' ') || 'none';
  }
}
