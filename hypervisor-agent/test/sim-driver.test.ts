/**
 * The sim driver: the compliance suite (on real time with short timings and LMDB in a temp
 * directory), then what only the sim driver does — zones surviving a restart, transitional
 * states settled after a crash, and the injected failures (fail, hang, crash mid-create) — on
 * the deterministic simulator.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeClock, openLmdbStorage, silentLogger } from '@shoal/runtime';
import { simTest } from '@shoal/sim';
import { DriverError } from '../src/errors.js';
import { SimHypervisor } from '../src/sim-driver.js';
import type { HostFacts } from '../src/hypervisor.js';
import { driverCompliance, specFor, testUuid } from './compliance.js';

const host: HostFacts = { memoryMb: 65_536, cpus: 16, diskGb: 1_000, nicTags: ['admin', 'external'], virtualisation: ['zone', 'lx', 'bhyve'], platform: 'shoal-sim' };
const image = 'f5a9e1b2-0000-4000-8000-000000000001';

await driverCompliance(t, 'sim', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-simdrv-'));
  const storage = await openLmdbStorage(dir);
  const driver = await SimHypervisor.open({ storage, clock: nodeClock(), log: silentLogger, host, timings: { provisionMs: 5, bootMs: 2, shutdownMs: 2 } });
  return {
    driver,
    imageUuid: image,
    async cleanup() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const timings = { provisionMs: 1_000, bootMs: 300, shutdownMs: 200 };

await simTest(t, 'sim driver: zones survive a restart; a crash mid-transition is settled on open', { seeds: [1, 2] }, async (sim) => {
  const node = sim.addNode('agent');
  const open = async () => SimHypervisor.open({ storage: await node.world.openStorage('/agent/db'), clock: node.world.clock, log: silentLogger, host, timings });
  let driver = await sim.settle(open());
  const [a, b, c] = [testUuid(), testUuid(), testUuid()];
  await sim.settle(driver.create(specFor(a, image)));
  await sim.settle(driver.create(specFor(b, image)));
  const states: string[] = [];
  driver.subscribe((e) => e.uuid === c && states.push(e.state));
  void driver.create(specFor(c, image)).catch(() => undefined);
  void driver.stop(b).catch(() => undefined);
  await sim.runFor(100); // c is provisioning, b is stopping
  if ((await driver.get(c)).state !== 'provisioning' || (await driver.get(b)).state !== 'stopping') throw new Error('expected transitions in progress');
  sim.crash(node);
  node.restart();
  driver = await sim.settle(open());
  const after = Object.fromEntries((await driver.list()).map((z) => [z.uuid, z.state]));
  if (after[a] !== 'running' || after[b] !== 'stopped' || after[c] !== 'failed') throw new Error(`after restart: ${JSON.stringify(after)}`);
  if (states.join(',') !== 'provisioning') throw new Error(`events before the crash: ${states.join(',')}`);
});

await simTest(t, 'sim driver: injected failures — fail the Nth create, hang, crash mid-create', { seeds: [1] }, async (sim) => {
  const node = sim.addNode('agent');
  let crashed = false;
  const driver = await sim.settle(
    (async () =>
      SimHypervisor.open({
        storage: await node.world.openStorage('/agent/db'),
        clock: node.world.clock,
        log: silentLogger,
        host,
        timings,
        faults: { failCreate: [2], hangCreate: [3], crashCreate: [4], onCrash: () => {
          crashed = true;
          sim.crash(node);
        } },
      }))(),
  );
  await sim.settle(driver.create(specFor(testUuid(), image)));
  const failed = testUuid();
  const err = await sim.settle(driver.create(specFor(failed, image))).catch((e: unknown) => e);
  if (!(err instanceof DriverError) || err.code !== 'failed') throw new Error(`create #2 should fail, got ${String(err)}`);
  if ((await driver.get(failed)).state !== 'failed') throw new Error('the failed create leaves a failed zone');
  const ac = new AbortController();
  const hung = driver.create(specFor(testUuid(), image), { signal: ac.signal });
  let settled = false;
  void hung.then(() => (settled = true), () => (settled = true));
  await sim.runFor(60_000);
  if (settled) throw new Error('create #3 should hang');
  ac.abort();
  const hangErr = await sim.settle(hung).catch((e: unknown) => e);
  if (!(hangErr instanceof DriverError) || hangErr.code !== 'timeout') throw new Error(`an abandoned create is a timeout, got ${String(hangErr)}`);
  void driver.create(specFor(testUuid(), image)).catch(() => undefined);
  await sim.runFor(10);
  if (!crashed || node.status !== 'down') throw new Error('create #4 should crash the process');
});
