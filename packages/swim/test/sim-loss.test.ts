// (a) 100 members, 5 % loss on every link for 30 simulated minutes: nobody is declared dead.
//
// Why it holds: a probe fails only if the direct ping or ack is lost (≈ 10 %) and all three
// indirect paths fail too (each has four packets: ≈ 19 % each), ≈ 0.07 % of probes; the
// suspicion that follows is refuted long before its timeout (≥ 8 s at n = 100) because the
// suspect hears of it within a few gossip rounds, directly through the buddy system.
import t from 'tap';
import { simTest } from '@shoal/sim';
import { converge, startCluster } from './harness.js';

const minutes = 30;

t.test('5 % packet loss for 30 minutes: no member declared dead', async (t) => {
  await simTest(t, '100 members, 5 % loss', { seeds: [1] }, async (sim, t) => {
    const members = await startCluster(sim, 100);
    await converge(sim, members);
    sim.setLinks({ lossRate: 0.05 });
    await sim.runFor(minutes * 60_000);
    let suspicions = 0;
    let refuted = 0;
    let probes = 0;
    for (const m of members) {
      const s = m.swim.stats();
      suspicions += s.suspicions;
      refuted += s.refutations;
      probes += s.probes;
      t.equal(s.deadDeclared, 0, `${m.name} declared nobody dead`);
      t.notOk(m.events.some((e) => e.kind === 'failed'), `${m.name} saw no failure`);
      t.equal(s.members.alive, 100, `${m.name} lists 100 alive`);
    }
    t.comment(`${probes} probes, ${refuted} refutations, ${suspicions} suspicions held (summed over observers), ${sim.stats.net.datagramsDropped.loss} datagrams lost`);
    t.ok(refuted > 0, 'the loss did cause suspicions, all refuted');
  });
});
