/**
 * The driver compliance suite: the contract of hypervisor.ts, checked the same way against every
 * driver (sim-driver.test.ts, vmadm-driver.test.ts). Each case gets a fresh driver from the
 * factory. Nothing here measures time: waits are bounded polls for an outcome.
 */
import type { Test } from 'tap';
import type { ZoneBrand, ZoneSpec } from '@shoal/wire';
import { DriverError, type DriverErrorCode } from '../src/errors.js';
import type { Hypervisor, ZoneChange } from '../src/hypervisor.js';

export interface DriverUnderTest {
  driver: Hypervisor;
  /** An image the driver can create zones from. */
  imageUuid: string;
  cleanup(): Promise<void>;
}

export type DriverFactory = () => Promise<DriverUnderTest>;

let counter = 0;
export function testUuid(): string {
  counter++;
  return `6a1c0c5e-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

export function specFor(uuid: string, imageUuid: string, brand: ZoneBrand = 'joyent', extra: Partial<ZoneSpec> = {}): ZoneSpec {
  return {
    uuid,
    alias: `web-${uuid.slice(-4)}`,
    brand,
    ramMb: 1024,
    cpuCap: 200,
    quotaGb: 20,
    imageUuid,
    nics: [{ nicTag: 'external', ip: '192.168.50.10', netmask: '255.255.255.0', gateway: '192.168.50.1', vlanId: 12, primary: true }],
    resolvers: ['8.8.8.8', '8.8.4.4'],
    customerMetadata: { 'user-script': '#!/bin/sh\necho hi', role: 'web' },
    ...(brand === 'bhyve' || brand === 'kvm' ? { cpus: 2, diskGb: 10 } : {}),
    ...extra,
  };
}

async function code(p: Promise<unknown>): Promise<DriverErrorCode | 'ok' | string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof DriverError ? err.code : `not a DriverError: ${String(err)}`;
  }
}

/** Waits (bounded) until `check` holds. */
async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function lastState(events: ZoneChange[], uuid: string): string | undefined {
  return events.filter((e) => e.uuid === uuid).at(-1)?.state;
}

async function withDriver(t: Test, make: DriverFactory, fn: (d: DriverUnderTest, events: ZoneChange[]) => Promise<void>): Promise<void> {
  const d = await make();
  const events: ZoneChange[] = [];
  const off = d.driver.subscribe((e) => events.push(e));
  try {
    await fn(d, events);
  } finally {
    off();
    await d.driver.close();
    await d.cleanup();
  }
  t.pass('driver closed');
}

export async function driverCompliance(t: Test, name: string, make: DriverFactory): Promise<void> {
  await t.test(`${name}: Hypervisor compliance`, async (t) => {
    await t.test('info describes the host', (t) => withDriver(t, make, async ({ driver }) => {
      const host = await driver.info();
      t.ok(host.memoryMb > 0 && host.cpus > 0 && host.diskGb > 0, `memory ${host.memoryMb} MB, ${host.cpus} CPUs, ${host.diskGb} GB`);
      t.ok(host.virtualisation.includes('zone'), 'OS zones are supported');
      t.ok(host.nicTags.length > 0, `nic tags ${host.nicTags.join(', ')}`);
      t.ok(host.platform.length > 0);
    }));

    await t.test('create returns a running zone; list and get show it; its states are announced', (t) => withDriver(t, make, async ({ driver, imageUuid }, events) => {
      const uuid = testUuid();
      const zone = await driver.create(specFor(uuid, imageUuid));
      t.equal(zone.state, 'running');
      t.match(zone, { uuid, brand: 'joyent', ramMb: 1024, cpuCap: 200, quotaGb: 20, imageUuid, resolvers: ['8.8.8.8', '8.8.4.4'] });
      t.match(zone.nics[0], { nicTag: 'external', ip: '192.168.50.10', netmask: '255.255.255.0', gateway: '192.168.50.1', vlanId: 12, primary: true });
      t.same(zone.customerMetadata, { 'user-script': '#!/bin/sh\necho hi', role: 'web' });
      t.match((await driver.list()).find((z) => z.uuid === uuid), { uuid, state: 'running', ramMb: 1024 });
      t.match(await driver.get(uuid), { uuid, state: 'running' });
      await eventually(() => lastState(events, uuid) === 'running', 'the running event');
      t.notOk(events.some((e) => e.uuid === uuid && e.state === 'failed'), 'no failure on the way');
    }));

    await t.test('an HVM zone (bhyve) with vCPUs and a data disk', (t) => withDriver(t, make, async ({ driver, imageUuid }) => {
      const uuid = testUuid();
      const zone = await driver.create(specFor(uuid, imageUuid, 'bhyve', { ramMb: 2048 }));
      t.match(zone, { uuid, brand: 'bhyve', state: 'running', ramMb: 2048, cpus: 2, imageUuid });
    }));

    await t.test('existing and unknown ids: exists and not-found, everywhere', (t) => withDriver(t, make, async ({ driver, imageUuid }) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      t.equal(await code(driver.create(specFor(uuid, imageUuid))), 'exists');
      const ghost = testUuid();
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => driver.get(ghost)],
        ['start', () => driver.start(ghost)],
        ['stop', () => driver.stop(ghost)],
        ['reboot', () => driver.reboot(ghost)],
        ['delete', () => driver.delete(ghost)],
        ['update', () => driver.update(ghost, { ramMb: 512 })],
        ['metadata', () => driver.setMetadata(ghost, { set: { a: 'b' } })],
        ['snapshot', () => driver.createSnapshot(ghost, 's1')],
        ['list snapshots', () => driver.listSnapshots(ghost)],
      ];
      for (const [what, call] of calls) t.equal(await code(call()), 'not-found', `${what} of an unknown zone`);
    }));

    await t.test('stop, start, reboot (graceful and forced); wrong states are refused', (t) => withDriver(t, make, async ({ driver, imageUuid }, events) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      t.equal(await code(driver.start(uuid)), 'state', 'starting a running zone');
      await driver.stop(uuid);
      t.equal((await driver.get(uuid)).state, 'stopped');
      await eventually(() => lastState(events, uuid) === 'stopped', 'the stopped event');
      t.equal(await code(driver.stop(uuid)), 'state', 'stopping a stopped zone');
      t.equal(await code(driver.reboot(uuid)), 'state', 'rebooting a stopped zone');
      await driver.start(uuid);
      t.equal((await driver.get(uuid)).state, 'running');
      await eventually(() => lastState(events, uuid) === 'running', 'the running event');
      await driver.reboot(uuid);
      t.equal((await driver.get(uuid)).state, 'running', 'running after a graceful reboot');
      await driver.reboot(uuid, { force: true });
      t.equal((await driver.get(uuid)).state, 'running', 'running after a forced reboot');
      await driver.stop(uuid, { force: true });
      t.equal((await driver.get(uuid)).state, 'stopped', 'stopped at once when forced');
    }));

    await t.test('update memory, CPU cap and quota', (t) => withDriver(t, make, async ({ driver, imageUuid }) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      const z = await driver.update(uuid, { ramMb: 2048, cpuCap: 400, quotaGb: 40 });
      t.match(z, { ramMb: 2048, cpuCap: 400, quotaGb: 40 });
      t.match(await driver.get(uuid), { ramMb: 2048, cpuCap: 400, quotaGb: 40 });
      t.match(await driver.update(uuid, { cpuCap: 100 }), { ramMb: 2048, cpuCap: 100, quotaGb: 40 }, 'fields not given stay');
    }));

    await t.test('customer metadata: set, then remove', (t) => withDriver(t, make, async ({ driver, imageUuid }) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      t.same(await driver.setMetadata(uuid, { set: { owner: 'ops', role: 'db' } }), { 'user-script': '#!/bin/sh\necho hi', role: 'db', owner: 'ops' });
      t.same(await driver.setMetadata(uuid, { remove: ['user-script', 'owner'] }), { role: 'db' });
      t.same((await driver.get(uuid)).customerMetadata, { role: 'db' });
    }));

    await t.test('snapshots: create, list, duplicate, rollback drops newer ones, delete', (t) => withDriver(t, make, async ({ driver, imageUuid }) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      for (const s of ['a', 'b', 'c']) await driver.createSnapshot(uuid, s);
      t.same((await driver.listSnapshots(uuid)).map((s) => s.name), ['a', 'b', 'c']);
      t.equal(await code(driver.createSnapshot(uuid, 'b')), 'exists');
      await driver.rollbackSnapshot(uuid, 'a');
      t.same((await driver.listSnapshots(uuid)).map((s) => s.name), ['a'], 'b and c are gone');
      t.equal((await driver.get(uuid)).state, 'running', 'the zone runs again after the rollback');
      t.equal(await code(driver.rollbackSnapshot(uuid, 'zz')), 'not-found');
      await driver.deleteSnapshot(uuid, 'a');
      t.same(await driver.listSnapshots(uuid), []);
      t.equal(await code(driver.deleteSnapshot(uuid, 'a')), 'not-found');
    }));

    await t.test('delete removes the zone and announces it', (t) => withDriver(t, make, async ({ driver, imageUuid }, events) => {
      const uuid = testUuid();
      await driver.create(specFor(uuid, imageUuid));
      await driver.delete(uuid);
      t.notOk((await driver.list()).some((z) => z.uuid === uuid));
      t.equal(await code(driver.get(uuid)), 'not-found');
      t.equal(await code(driver.delete(uuid)), 'not-found');
      await eventually(() => lastState(events, uuid) === 'deleted', 'the deleted event');
    }));
  });
}
