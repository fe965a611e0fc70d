/**
 * SWIM + Lifeguard configuration. Every field has a unit, a default and the reason for it;
 * presets bundle them (`lan` = memberlist's DefaultLANConfig, i.e. Serf's `-profile=lan`, so that
 * comparisons with Serf are fair; `local` for loopback clusters and tests). `swimConfig(preset,
 * overrides)` validates once and freezes.
 *
 * Formulas (memberlist and Lifeguard, Dadgar, Phillips, Currey 2017), with h the local health
 * score (0 … healthMax − 1) and n the number of live members (this node included):
 * - protocol period = probeIntervalMs × (h + 1); direct-ack timeout = probeTimeoutMs × (h + 1)
 * - suspicion min = suspicionMult × max(1, log10 n) × probeIntervalMs; max = suspicionMaxTimeoutMult × min
 * - suspicion timeout after c independent confirmations = max(min, max − log(c+1)/log(k+1) × (max − min)),
 *   k = suspicionMult − 2 (0 when n − 2 < k); with Lifeguard off it is always min
 * - retransmissions of a broadcast = retransmitMult × ceil(log10(n + 1))
 * - push-pull interval = pushPullIntervalMs × (ceil(log2 n − log2 32) + 1) once n > 32
 * - event-loop lag above lagThresholdMs adds ceil(lag / probeIntervalMs) to h
 *
 * The `lan` values are memberlist's; the fields memberlist lacks (reconnect, remember times, lag,
 * limits, join retry) follow Serf's agent defaults where it has one and say why otherwise.
 */

export class SwimConfigError extends Error {
  override name = 'SwimConfigError';
}

/** Hard ceiling of `membersMax`: the push-pull frame limits are derived from it (codec.ts). */
export const membersMaxCeiling = 10_000;
/** Smallest `packetBytesMax`: the largest probe message plus the largest `alive` must fit (codec test). */
export const packetBytesMin = 1200;

export interface SwimConfig {
  /**
   * One protocol period, ms: one member probed per period (SWIM's T'). Lower detects failures
   * sooner and costs more packets. lan 1000 (memberlist ProbeInterval).
   */
  readonly probeIntervalMs: number;
  /**
   * Wait for a direct ack before asking others, ms; must be below probeIntervalMs. Set it to the
   * 99th percentile round trip (including a busy peer's scheduling). lan 500.
   */
  readonly probeTimeoutMs: number;
  /**
   * Members asked to probe indirectly after a missed ack (SWIM's k). More means fewer false
   * positives from one bad path, and more packets per failed probe. lan 3.
   */
  readonly indirectChecks: number;
  /**
   * Scales the suspicion timeout (see the formulas); also sets k = suspicionMult − 2, the
   * confirmations that bring a suspicion down to its minimum. lan 4.
   */
  readonly suspicionMult: number;
  /**
   * Lifeguard's starting suspicion timeout as a multiple of the minimum: how long a suspect with
   * no independent confirmation has to refute. Higher means fewer false positives, slower
   * detection when confirmations are missing. lan 6.
   */
  readonly suspicionMaxTimeoutMult: number;
  /** Broadcast retransmissions = retransmitMult × ceil(log10(n+1)); higher = surer, more bytes. lan 4. */
  readonly retransmitMult: number;
  /** Interval of piggyback-only gossip rounds, ms. Lower spreads news faster. lan 200. */
  readonly gossipIntervalMs: number;
  /** Members each gossip round is sent to (fan-out). lan 3. */
  readonly gossipNodes: number;
  /**
   * Dead members still receive gossip for this long, ms, so a falsely declared member learns it
   * and refutes quickly. lan 30 000 (memberlist GossipToTheDeadTime).
   */
  readonly gossipToTheDeadMs: number;
  /**
   * Full state exchange with one random live member over a stream, ms; 0 disables. Anti-entropy
   * for news lost with packets; scaled up past 32 members. lan 30 000.
   */
  readonly pushPullIntervalMs: number;
  /**
   * Push-pull with one random dead (not left) member this often (× 0.5–1.5 jitter), ms; 0
   * disables. This is how partitions heal with no operator (Serf's reconnect, 30 s there; 5 s
   * here because a remembered dead member costs one stream attempt per interval per node).
   */
  readonly reconnectIntervalMs: number;
  /** Forget dead members after this long, ms, and stop trying to reconnect them. lan 24 h (Serf's ReconnectTimeout). */
  readonly deadRememberMs: number;
  /** Forget members that left gracefully after this long, ms. lan 1 h. */
  readonly leftRememberMs: number;
  /**
   * Lifeguard local health cap (memberlist AwarenessMaxMultiplier): the score lives in
   * 0 … healthMax − 1, stretching the protocol period up to healthMax ×. lan 8.
   */
  readonly healthMax: number;
  /**
   * A shell timer firing this much later than asked, ms, counts as event-loop starvation: the
   * health score rises, and the overdue deadlines are decided only after pending packets were
   * read (a starved process doubts itself before it accuses others). lan 250.
   */
  readonly lagThresholdMs: number;
  /**
   * Lifeguard on (default) or off (plain SWIM: fixed suspicion timeout at its minimum, no
   * confirmations, no nacks, no health score, no buddy suspicion in probes, no lag input). Off
   * exists to measure what Lifeguard buys.
   */
  readonly lifeguard: boolean;
  /** Largest UDP packet sent, bytes, after sealing (memberlist UDPBufferSize). lan 1400: under any LAN MTU. */
  readonly packetBytesMax: number;
  /** Queued broadcasts, at most; beyond it the most-transmitted are dropped. lan 4096. */
  readonly broadcastQueueMax: number;
  /** Known members (any state), at most; new names beyond it are ignored. lan 10 000 (= ceiling). */
  readonly membersMax: number;
  /** Outstanding indirect probes we run for others, at most; more requests are ignored. lan 1024. */
  readonly indirectPendingMax: number;
  /** After leave(), keep gossiping this long, ms, so the leave reaches everyone before we stop. lan 1000. */
  readonly leavePropagateMs: number;
  /** Connect + exchange deadline of one push-pull, ms (memberlist TCPTimeout). lan 10 000. */
  readonly pushPullTimeoutMs: number;
  /** Background join: first retry delay, ms; doubles per failed round (± 25 % jitter). lan 1000. */
  readonly joinRetryMinMs: number;
  /** Background join: longest retry delay, ms. lan 30 000. */
  readonly joinRetryMaxMs: number;
  /**
   * A member that joins or leaves also tells up to this many random members directly, once,
   * besides gossiping it: at small n the retransmit limit (4 × ceil(log10(n + 1)) = 4 below
   * n = 10) left a member out of the epidemic in about one event in ten (measured), and at
   * n = 50 a burst of joins announced to 16 members each still left one member behind for 20 s
   * in five bursts; with 64, none. One packet per member once per event. lan 64; 0 disables.
   */
  readonly announceMembersMax: number;
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
  membersMax: membersMaxCeiling,
  indirectPendingMax: 1024,
  leavePropagateMs: 1000,
  pushPullTimeoutMs: 10_000,
  joinRetryMinMs: 1000,
  joinRetryMaxMs: 30_000,
  announceMembersMax: 64,
};

/** memberlist's LAN defaults (probe 1 s, timeout 500 ms, 3 indirect, suspicion ×4 up to ×6, gossip 200 ms to 3, push-pull 30 s, health cap 8). */
export const lanPreset: SwimConfig = Object.freeze({ ...lan });

/**
 * Loopback clusters (tests, one machine): twice as fast, still far above loopback round trips
 * (≈ 0.1 ms) and ordinary event-loop hiccups (the timeout is 200 ms).
 */
export const localPreset: SwimConfig = Object.freeze({
  ...lan,
  probeIntervalMs: 500,
  probeTimeoutMs: 200,
  gossipIntervalMs: 100,
  pushPullIntervalMs: 15_000,
  reconnectIntervalMs: 2_000,
  gossipToTheDeadMs: 15_000,
  leavePropagateMs: 500,
  pushPullTimeoutMs: 5_000,
  joinRetryMinMs: 500,
});

export const presets = { lan: lanPreset, local: localPreset } as const;
export type PresetName = keyof typeof presets;

export function isPresetName(s: string): s is PresetName {
  return Object.hasOwn(presets, s);
}

function nonNegative(name: string, v: number, integer: boolean): void {
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new SwimConfigError(`${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got ${v}`);
  }
}

function check(ok: boolean, sentence: string): void {
  if (!ok) throw new SwimConfigError(sentence);
}

/** A validated, frozen configuration: a preset (or a config) with overrides. Throws SwimConfigError. */
export function swimConfig(base: SwimConfig | PresetName = 'lan', overrides: Partial<SwimConfig> = {}): SwimConfig {
  const c: SwimConfig = { ...(typeof base === 'string' ? presets[base] : base), ...overrides };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'number') nonNegative(k, v, !k.endsWith('Ms'));
  }
  check(c.probeIntervalMs > 0, 'probeIntervalMs must be positive');
  check(c.probeTimeoutMs > 0 && c.probeTimeoutMs < c.probeIntervalMs, `probeTimeoutMs (${c.probeTimeoutMs}) must be positive and below probeIntervalMs (${c.probeIntervalMs})`);
  check(c.suspicionMult >= 1, 'suspicionMult must be at least 1');
  check(c.suspicionMaxTimeoutMult >= 1, 'suspicionMaxTimeoutMult must be at least 1');
  check(c.retransmitMult >= 1, 'retransmitMult must be at least 1');
  check(c.healthMax >= 1, 'healthMax must be at least 1');
  check(c.gossipIntervalMs > 0, 'gossipIntervalMs must be positive');
  check(c.packetBytesMax >= packetBytesMin && c.packetBytesMax <= 65_000, `packetBytesMax must be between ${packetBytesMin} and 65000`);
  check(c.membersMax >= 1 && c.membersMax <= membersMaxCeiling, `membersMax must be between 1 and ${membersMaxCeiling}`);
  check(c.indirectPendingMax >= 1 && c.broadcastQueueMax >= 1, 'indirectPendingMax and broadcastQueueMax must be at least 1');
  check(c.pushPullTimeoutMs > 0, 'pushPullTimeoutMs must be positive');
  check(c.joinRetryMinMs > 0 && c.joinRetryMaxMs >= c.joinRetryMinMs, 'joinRetryMinMs must be positive and at most joinRetryMaxMs');
  check(typeof c.lifeguard === 'boolean', 'lifeguard must be a boolean');
  return Object.freeze(c);
}
