/**
 * SimNetwork: the simulated network, and the `Transport` it hands each node.
 *
 * Datagram fault model: a send is decided when it is made, from the link's own random stream:
 * dropped if it is over `datagramBytesMax` (silently, as UDP's EMSGSIZE is in the Node
 * transport), if no node has the destination host, if the path is cut, or with probability
 * `lossRate`; otherwise delivered once, or twice with probability `duplicateRate`, each copy
 * after its own link delay plus, with probability `reorderRate`, an extra reorder delay. On
 * arrival it is dropped if the path was cut meanwhile, the destination process is down, or no
 * socket is bound to the port (no ICMP is modelled). Payloads are copied on send and on
 * delivery, so no two parties share bytes. Packets already on the wire survive a crash of
 * either side (they are owned by no process); arrivals at a paused node wait for the pause.
 *
 * Streams: see streams.ts. Addresses: node hosts are `10.0.0.N` unless given; a node may bind
 * its own host or 0.0.0.0 (reported as its own host); port 0 picks the next ephemeral port
 * (49152 and up, per node, never reused before wrapping).
 */
import { parseAddress, type Address, type DatagramEndpoint, type DatagramHandler, type Transport } from '@shoal/runtime';
import { Cuts, Links, type LinkConfig } from './links.js';
import { SimBindError } from './errors.js';
import { StreamNet, checkBindHost } from './streams.js';
import { NetHost, emptyStats, never, type DatagramBinding, type DropReason, type NetContext, type NetLimits, type NetStats } from './hosts.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

export class SimNetwork {
  readonly links: Links;
  readonly cuts = new Cuts();
  readonly stats: NetStats = emptyStats();
  private readonly hosts = new Map<string, NetHost>();
  private readonly ctx: NetContext;
  private readonly streams: StreamNet;
  private datagramId = 0;

  constructor(
    seed: number,
    private readonly sched: Scheduler,
    private readonly trace: Trace,
    readonly limits: NetLimits,
    link: LinkConfig,
    loopback: LinkConfig,
  ) {
    this.links = new Links(seed, link, loopback);
    this.ctx = { sched, trace, links: this.links, cuts: this.cuts, limits, stats: this.stats, hostOf: (h) => this.hosts.get(h) };
    this.streams = new StreamNet(this.ctx);
  }

  addHost(name: string, host: string): NetHost {
    if (this.hosts.has(host)) throw new SimBindError(`host ${host} is already taken by node ${this.hosts.get(host)?.name}`);
    const h = new NetHost(name, host);
    this.hosts.set(host, h);
    return h;
  }

  /** The Transport of one process (incarnation) of a host; inert once that process died. */
  transport(h: NetHost, incarnation: number): Transport {
    return {
      bindDatagram: async (local, onDatagram) => {
        if (!h.isLive(incarnation)) return never();
        return this.bindDatagram(h, local, onDatagram);
      },
      listenStreams: async (local, onStream, opts) => {
        if (!h.isLive(incarnation)) return never();
        return this.streams.listen(h, local, onStream, opts);
      },
      connectStream: async (remote, opts) => {
        if (!h.isLive(incarnation)) return never();
        return this.streams.connect(h, incarnation, remote, opts);
      },
    };
  }

  /** Closes every socket of the host's current process (its streams break as the header says). */
  crash(h: NetHost): void {
    for (const binding of h.udp.values()) binding.closed = true;
    h.udp.clear();
    this.streams.crash(h);
    h.tcpPorts.clear();
  }

  /** Call after any change of cuts: dooms the streams whose path is now severed. */
  cutsChanged(): void {
    this.trace.record(this.sched.nowMs, `cuts ${this.cuts.describe()}`);
    this.streams.doomCutStreams();
  }

  private bindDatagram(h: NetHost, local: Address, onDatagram: DatagramHandler): DatagramEndpoint {
    const { host, port: asked } = parseAddress(local);
    checkBindHost(h, host);
    if (asked !== 0 && h.udp.has(asked)) throw new SimBindError(`${h.address(asked)} is already in use`);
    const port = asked === 0 ? h.ephemeral((p) => h.udp.has(p)) : asked;
    const binding: DatagramBinding = { port, local: h.address(port), handler: onDatagram, closed: false };
    h.udp.set(port, binding);
    this.trace.record(this.sched.nowMs, `bind ${h.name} ${binding.local}`);
    return {
      local: binding.local,
      send: (to, data) => {
        if (!binding.closed) this.sendDatagram(h, binding.local, to, data);
      },
      close: () => {
        binding.closed = true;
        if (h.udp.get(port) === binding) h.udp.delete(port);
        return Promise.resolve();
      },
    };
  }

  private drop(id: number, reason: DropReason): void {
    this.stats.datagramsDropped[reason]++;
    this.trace.record(this.sched.nowMs, `dgram #${id} drop ${reason}`);
  }

  private sendDatagram(from: NetHost, fromAddress: Address, to: Address, data: Uint8Array): void {
    const { host, port } = parseAddress(to);
    const id = ++this.datagramId;
    const dest = this.hosts.get(host);
    this.stats.datagramsSent++;
    this.trace.record(this.sched.nowMs, `dgram #${id} ${from.name}>${dest?.name ?? '?'} ${data.byteLength}B`);
    if (data.byteLength > this.limits.datagramBytesMax) return this.drop(id, 'oversize');
    if (!dest) return this.drop(id, 'no-route');
    if (this.cuts.isCut(from.name, dest.name)) return this.drop(id, 'cut');
    const cfg = this.links.config(from.name, dest.name);
    const random = this.links.random(from.name, dest.name);
    if (random.chance(cfg.lossRate)) return this.drop(id, 'loss');
    const copies = random.chance(cfg.duplicateRate) ? 2 : 1;
    if (copies === 2) {
      this.stats.datagramsDuplicated++;
      this.trace.record(this.sched.nowMs, `dgram #${id} duplicate`);
    }
    const bytes = data.slice();
    for (let copy = 0; copy < copies; copy++) {
      const departMs = this.links.departMs(from.name, dest.name, bytes.byteLength, this.sched.nowMs);
      const extraMs = random.chance(cfg.reorderRate) ? random.float() * cfg.reorderDelayMaxMs : 0;
      const atMs = departMs + this.links.latencyMs(from.name, dest.name) + extraMs;
      this.sched.schedule(atMs, { node: dest.name }, 'datagram', () => this.deliverDatagram(id, from, fromAddress, dest, port, bytes));
    }
  }

  private deliverDatagram(id: number, from: NetHost, fromAddress: Address, dest: NetHost, port: number, bytes: Uint8Array): void {
    if (this.cuts.isCut(from.name, dest.name)) return this.drop(id, 'cut');
    if (!dest.alive) return this.drop(id, 'down');
    const binding = dest.udp.get(port);
    if (!binding || binding.closed) return this.drop(id, 'no-listener');
    this.stats.datagramsDelivered++;
    this.trace.record(this.sched.nowMs, `dgram #${id} deliver ${dest.name}`);
    binding.handler(bytes.slice(), fromAddress);
  }
}
