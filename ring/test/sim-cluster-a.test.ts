// The ring's main simulation, first half: seeds 1–100 and every seed that once failed
// (fixtures/sim-seeds.json). What it does and what the checker demands: sim-workload.ts.
// Replay one seed: SEED=<n> npx tap ring/dist/test/sim-cluster-a.test.js
import t from 'tap';
import { clusterSimulation, fixtureSeeds } from './sim-cluster.js';

const range = Array.from({ length: 100 }, (_, i) => i + 1);
await clusterSimulation(t, '5 nodes: writes, deletes, reads, crashes, a partition, a join and a leave', [...new Set([...range, ...fixtureSeeds()])]);
