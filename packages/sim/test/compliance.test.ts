// The shared runtime compliance suites, run against the simulator's Storage and Transport.
import t from 'tap';
import { storageCompliance, transportCompliance } from '@shoal/runtime/compliance';
import { Sim } from '@shoal/sim';

t.test('simulated storage', async (t) => {
  storageCompliance(t, async () => {
    const sim = new Sim({ seed: 1 });
    const node = sim.addNode('n');
    return { open: (name) => node.world.openStorage(name), settle: (p) => sim.settle(p) };
  });
});

t.test('simulated transport', async (t) => {
  transportCompliance(t, async () => {
    const sim = new Sim({ seed: 2, link: { latencyMinMs: 1, latencyMaxMs: 5 } });
    const a = sim.addNode('a');
    const b = sim.addNode('b');
    return {
      a: { transport: a.world.transport, host: a.host },
      b: { transport: b.world.transport, host: b.host },
      nowhere: b.address(9),
      settle: (p) => sim.settle(p),
      waitFor: (done, what) => sim.runUntil(done, { what, timeoutMs: 10_000 }),
      idle: (ms) => sim.runFor(ms),
    };
  });
});

t.test('simulated transport, with bandwidth limits', async (t) => {
  transportCompliance(t, async () => {
    const sim = new Sim({ seed: 3, link: { latencyMinMs: 0.1, latencyMaxMs: 20, bandwidthBytesPerMs: 10_000 } });
    const a = sim.addNode('a');
    const b = sim.addNode('b');
    return {
      a: { transport: a.world.transport, host: a.host },
      b: { transport: b.world.transport, host: b.host },
      nowhere: b.address(9),
      settle: (p) => sim.settle(p),
      waitFor: (done, what) => sim.runUntil(done, { what, timeoutMs: 10_000 }),
      idle: (ms) => sim.runFor(ms),
    };
  });
});
