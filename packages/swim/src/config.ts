/**
 * SWIM + Lifeguard configuration. Every field has a unit, a default and the reason for it;
 * presets bundle them (`lan` = memberlist's DefaultLANConfig so that comparisons with Serf are
 * fair, `local` for loopback clusters, `test` for fast simulations). `swimConfig(preset, over)`
 * validates once and freezes.
 *
 * Formulas (memberlist and Lifeguard, Dadgar et al. 2017):
 * - protocol period = probeIntervalMs × (healthScore + 1); probe timeout = probeTimeoutMs × (healthScore + 1)
 * - suspicion min = suspicionMult × max(1, log10(n)) × probeIntervalMs; max = suspicionMaxTimeoutMult × min
 * - suspicion timeout after c confirmations = max(min, max − log(c+1)/log(k+1) × (max − min)), k = suspicionMult − 2
 * - retransmit limit = retransmitMult × ceil(log10(n + 1))
 * - push-pull interval grows as the cluster passes 32 members: × (ceil(log2(n) − log2(32)) + 1)
 */

export class SwimConfigError extends Error {
  override name = 'SwimConfigError';
}

export interface SwimConfig {
  /** One protocol period: one member probed per period. Lower detects faster, costs more packets. */
  readonly probeIntervalMs: number;
  /** How long to wait for a direct ack before asking others (must be < probeIntervalMs; ~99th percentile RTT). */
  readonly probeTimeoutMs: number;
  /** Members asked to probe indirectly after a missed ack (SWIM's k). More = fewer false positives, more traffic. */
  readonly indirectChecks: number;
  /** Scales the suspicion timeout; also sets k = suspicionMult − 2 expected confirmations. */
  readonly suspicionMult: number;
  /** Upper bound of the suspicion timeout as a multiple of its minimum (Lifeguard's starting point). */
  readonly suspicionMaxTimeoutMult: number;
  /** Broadcast retransmissions = retransmitMult × ceil(log10(n+1)). */
  readonly retransmitMult: number;
  /** Interval of piggyback-only gossip packets. */
  readonly gossipIntervalMs: number;
  /** Members each gossip round is sent to. */
  readonly gossipNodes: number;
  /** Dead members still receive gossip for this long, so a falsely accused member learns it quickly. */
  readonly gossipToTheDeadMs: number;
  /** Full state exchange with a random member over a stream; 0 disables. Anti-entropy for lost gossip. */
  readonly pushPullIntervalMs: number;
  /** Try a push-pull with a random dead (not left) member this often, so partitions heal by themselves; 0 disables. */
  readonly reconnectIntervalMs: number;
  /** Forget dead members after this long (and stop trying to reconnect them). */
  readonly deadRememberMs: number;
  /** Forget members that left gracefully after this long. */
  readonly leftRememberMs: number;
  /** Lifeguard local health multiplier cap (memberlist's AwarenessMaxMultiplier): scores 0 … healthMax − 1. */
  readonly healthMax: number;
  /** A timer firing this much later than asked counts as event-loop starvation and raises the health score. */
  readonly lagThresholdMs: number;
  /** Lifeguard on/off (off = plain SWIM: fixed timeouts, suspicion at max, no nacks), for comparisons. */
  readonly lifeguard: boolean;
  /** Largest UDP packet built (bytes, after encryption overhead is accounted by the shell). */
  readonly packetBytesMax: number;
  /** Bound on queued broadcasts; beyond it the most-transmitted are dropped. */
  readonly broadcastQueueMax: number;
  /** Bound on known members (alive + remembered dead/left); new names beyond it are ignored. */
  readonly membersMax: number;
  /** Bound on outstanding indirect probes we perform for others. */
  readonly indirectPendingMax: number;
  /** Time to let a leave broadcast spread before the node stops. */
  readonly leavePropagateMs: number;
}

const lan: SwimConfig = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 5_000,
  deadRememberMs: 24 * 3600_000,
  leftRememberMs: 3600_000,
  healthMax: 8,
  lagThresholdMs: 250,
  lifeguard: true,
  packetBytesMax: 1400,
  broadcastQueueMax: 4096,
  membersMax: 10_000,
  indirectPendingMax: 1024,
  leavePropagateMs: 1000,
};

/** memberlist's LAN defaults (probe 1 s, timeout 500 ms, 3 indirect, suspicion ×4 up to ×6, gossip 200 ms to 3, push-pull 30 s, health cap 8). */
export const lanPreset: SwimConfig = Object.freeze({ ...lan });

/** Loopback clusters: faster detection, still well above loopback latencies. */
export const localPreset: SwimConfig = Object.freeze({
  ...lan,
  probeIntervalMs: 500,
  probeTimeoutMs: 200,
  gossipIntervalMs: 100,
  pushPullIntervalMs: 15_000,
  reconnectIntervalMs: 2_000,
  gossipToTheDeadMs: 15_000,
  leavePropagateMs: 500,
});

export const presets = { lan: lanPreset, local: localPreset } as const;
export type PresetName = keyof typeof presets;

function positive(name: string, v: number, integer = false): void {
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new SwimConfigError(`${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got ${v}`);
  }
}

export function swimConfig(base: SwimConfig | PresetName = 'lan', overrides: Partial<SwimConfig> = {}): SwimConfig {
  const c: SwimConfig = { ...(typeof base === 'string' ? presets[base] : base), ...overrides };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'number') positive(k, v, !k.endsWith('Ms'));
  }
  if (c.probeIntervalMs <= 0) throw new SwimConfigError('probeIntervalMs must be positive');
  if (c.probeTimeoutMs <= 0 || c.probeTimeoutMs >= c.probeIntervalMs) {
    throw new SwimConfigError(`probeTimeoutMs (${c.probeTimeoutMs}) must be positive and below probeIntervalMs (${c.probeIntervalMs})`);
  }
  if (c.suspicionMult < 1) throw new SwimConfigError('suspicionMult must be at least 1');
  if (c.suspicionMaxTimeoutMult < 1) throw new SwimConfigError('suspicionMaxTimeoutMult must be at least 1');
  if (c.healthMax < 1) throw new SwimConfigError('healthMax must be at least 1');
  if (c.gossipIntervalMs <= 0) throw new SwimConfigError('gossipIntervalMs must be positive');
  if (c.packetBytesMax < 512 || c.packetBytesMax > 65_000) throw new SwimConfigError('packetBytesMax must be between 512 and 65000');
  return Object.freeze(c);
}
