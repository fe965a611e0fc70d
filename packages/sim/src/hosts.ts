/**
 * Hosts: what the simulated network knows about each node — its address, whether its current
 * process is alive, and the sockets that process holds (datagram bindings, stream listeners,
 * open stream ends). A crash empties all of them; the host and its address stay.
 *
 * Also the context every network module shares (scheduler, trace, links, cuts, limits, stats).
 */
import type { Address, DatagramHandler } from '@shoal/runtime';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';
import type { Cuts, Links } from './links.js';
import { SimBindError } from './errors.js';

export const ephemeralPortMin = 49152;
const portMax = 65535;

export interface DatagramBinding {
  readonly port: number;
  readonly local: Address;
  readonly handler: DatagramHandler;
  closed: boolean;
}

export class NetHost {
  incarnation = 0;
  alive = false;
  readonly udp = new Map<number, DatagramBinding>();
  /** Stream ports in use (listeners and the local ports of open stream ends). */
  readonly tcpPorts = new Set<number>();
  private nextPort = ephemeralPortMin;

  constructor(
    readonly name: string,
    readonly host: string,
  ) {}

  /** Whether `incarnation` is the live process of this host. */
  isLive(incarnation: number): boolean {
    return this.alive && this.incarnation === incarnation;
  }

  address(port: number): Address {
    return `${this.host}:${port}`;
  }

  /** The next free port of the ephemeral range (the counter survives crashes, as the OS's does). */
  ephemeral(inUse: (port: number) => boolean): number {
    for (let tries = 0; tries <= portMax - ephemeralPortMin; tries++) {
      const port = this.nextPort;
      this.nextPort = port >= portMax ? ephemeralPortMin : port + 1;
      if (!inUse(port)) return port;
    }
    throw new SimBindError(`node ${this.name} has no free ephemeral port`);
  }
}

export type DropReason = 'loss' | 'cut' | 'oversize' | 'no-route' | 'no-listener' | 'down';

export interface NetStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsDuplicated: number;
  datagramsDropped: Record<DropReason, number>;
  streamsOpened: number;
  streamsRefused: number;
  streamsBroken: number;
  framesSent: number;
  framesDelivered: number;
}

export function emptyStats(): NetStats {
  return {
    datagramsSent: 0,
    datagramsDelivered: 0,
    datagramsDuplicated: 0,
    datagramsDropped: { loss: 0, cut: 0, oversize: 0, 'no-route': 0, 'no-listener': 0, down: 0 },
    streamsOpened: 0,
    streamsRefused: 0,
    streamsBroken: 0,
    framesSent: 0,
    framesDelivered: 0,
  };
}

export interface NetLimits {
  /** Largest datagram payload; bigger ones are dropped (UDP over IPv4 carries at most 65 507). */
  datagramBytesMax: number;
  /** How long a connect waits for an answer when the caller gives no timeoutMs. */
  connectTimeoutMs: number;
  /** How long after a partition cuts a stream both ends see it close (a TCP user timeout). */
  streamBreakTimeoutMs: number;
}

export interface NetContext {
  readonly sched: Scheduler;
  readonly trace: Trace;
  readonly links: Links;
  readonly cuts: Cuts;
  readonly limits: NetLimits;
  readonly stats: NetStats;
  hostOf(host: string): NetHost | undefined;
}

export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
