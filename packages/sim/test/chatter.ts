/**
 * A non-trivial scenario for determinism tests: N nodes run a small "application" written
 * against `World` only (as production code is) — periodic datagrams to random peers with
 * replies, a stream to the next node with echoed frames and reconnects, counters persisted to
 * storage — over lossy, duplicating, reordering links, while the scenario partitions, crashes,
 * restarts, pauses and heals nodes.
 */
import { every, type Stream, type World } from '@shoal/runtime';
import type { Sim, SimNode } from '@shoal/sim';

const udpPort = 7000;
const tcpPort = 7100;

export interface ChatterResult {
  datagramsSeen: Record<string, number>;
  framesEchoed: Record<string, number>;
}

function startApp(world: World, self: SimNode, peers: SimNode[], next: SimNode, result: ChatterResult): void {
  const { clock, random, transport, logger } = world;
  const log = logger.child({ app: 'chatter' });
  void (async () => {
    const store = (await world.openStorage('/data')).store<number>('seen');
    const ep = await transport.bindDatagram(self.address(udpPort), (data, from) => {
      result.datagramsSeen[self.name] = (result.datagramsSeen[self.name] ?? 0) + 1;
      void store.put(['from', from], (store.get(['from', from]) ?? 0) + 1);
      if (data[0] === 1 && random.chance(0.5)) ep.send(from, new Uint8Array([2, ...data.subarray(1, 8)]));
    });
    await transport.listenStreams(self.address(tcpPort), (s) => {
      s.attach({ onFrame: (f) => !s.closed && s.send(f), onClose: (why) => log.debug('inbound stream closed', { why }) });
    }, { maxFrameBytes: 4096 });
    every(clock, 10 + random.int(5), () => {
      const peer = peers[random.int(peers.length)] as SimNode;
      ep.send(peer.address(udpPort), new Uint8Array([1, ...random.bytes(1 + random.int(40))]));
    });
    let out: Stream | undefined;
    const connect = (): void => {
      transport.connectStream(next.address(tcpPort), { maxFrameBytes: 4096, timeoutMs: 200 }).then(
        (s) => {
          out = s;
          s.attach({
            onFrame: () => (result.framesEchoed[self.name] = (result.framesEchoed[self.name] ?? 0) + 1),
            onClose: () => ((out = undefined), clock.setTimer(50, connect)),
          });
        },
        (err: Error) => (log.info('connect failed', { err: err.message }), clock.setTimer(50, connect)),
      );
    };
    connect();
    every(clock, 25, () => out && !out.closed && out.send(random.bytes(1 + random.int(100))));
  })();
}

export async function chatter(sim: Sim, opts: { nodes?: number; durationMs?: number } = {}): Promise<ChatterResult> {
  const count = opts.nodes ?? 4;
  const durationMs = opts.durationMs ?? 2000;
  sim.setLinks({ latencyMinMs: 1, latencyMaxMs: 8, lossRate: 0.1, duplicateRate: 0.05, reorderRate: 0.2, reorderDelayMaxMs: 10 });
  const nodes = Array.from({ length: count }, (_, i) => sim.addNode(`n${i + 1}`));
  const result: ChatterResult = { datagramsSeen: {}, framesEchoed: {} };
  const start = (n: SimNode, i: number): void => startApp(n.world, n, nodes.filter((p) => p !== n), nodes[(i + 1) % count] as SimNode, result);
  nodes.forEach(start);
  const [n1, n2, n3, n4] = nodes as [SimNode, SimNode, SimNode, SimNode];
  sim.at(durationMs * 0.15, () => sim.partition([n1], [n2, n3]), 'partition n1 | n2 n3');
  sim.at(durationMs * 0.35, () => sim.heal(), 'heal');
  sim.at(durationMs * 0.45, () => n2.crash(), 'crash n2');
  sim.at(durationMs * 0.5, () => (n2.restart(), start(n2, 1)), 'restart n2');
  sim.at(durationMs * 0.6, () => n3.pause(80), 'pause n3');
  sim.at(durationMs * 0.7, () => sim.blockOneWay(n4, n1), 'block n4>n1');
  sim.at(durationMs * 0.8, () => sim.heal(), 'heal');
  await sim.runFor(durationMs);
  return result;
}

