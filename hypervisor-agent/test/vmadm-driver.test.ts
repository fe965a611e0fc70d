/**
 * The vmadm driver against fake `vmadm`/`imgadm`/`sysinfo` binaries on PATH (fake-smartos.ts):
 * the compliance suite, then what the driver sends — argv and the JSON payload on stdin — and
 * how it reads the tools' output and failures.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeClock, silentLogger } from '@shoal/runtime';
import { DriverError } from '../src/errors.js';
import { VmadmHypervisor } from '../src/vmadm-driver.js';
import type { ZoneChange } from '../src/hypervisor.js';
import { driverCompliance, specFor, testUuid } from './compliance.js';
import { installFakeSmartos, type FakeSmartos } from './fake-smartos.js';

const image = 'c193a558-1d63-11e9-97cf-97bb3ee5c14f';

async function fake(t: { teardown(fn: () => void): void } | undefined, opts: { pollMs?: number; installed?: string[] } = {}): Promise<{ fs: FakeSmartos; driver: VmadmHypervisor; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-vmadm-'));
  t?.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fs = installFakeSmartos(dir, { available: [image], installed: opts.installed ?? [] });
  const driver = await VmadmHypervisor.open({ clock: nodeClock(), log: silentLogger, env: fs.env, pollMs: opts.pollMs ?? 0 });
  return { fs, driver, dir };
}

await driverCompliance(t, 'vmadm (fake binaries)', async () => {
  const { driver, dir } = await fake(undefined);
  return { driver, imageUuid: image, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

t.test('create: imports the image, sends the payload on stdin, then reads the VM back', async (t) => {
  const { fs, driver } = await fake(t);
  const uuid = testUuid();
  await driver.create(specFor(uuid, image));
  const calls = fs.calls().map((c) => `${c.tool} ${c.argv.join(' ')}`);
  t.same(calls.slice(0, 5), ['vmadm list -p -o uuid,brand,state,ram,max_physical_memory,cpu_cap,quota,alias', `imgadm get ${image}`, `imgadm import -q ${image}`, 'vmadm create', `vmadm get ${uuid}`]);
  const payload = JSON.parse(fs.calls()[3]!.stdin) as Record<string, unknown>;
  t.same(payload, {
    uuid,
    alias: `web-${uuid.slice(-4)}`,
    brand: 'joyent',
    autoboot: true,
    cpu_cap: 200,
    quota: 20,
    resolvers: ['8.8.8.8', '8.8.4.4'],
    nics: [{ nic_tag: 'external', ip: '192.168.50.10', netmask: '255.255.255.0', gateway: '192.168.50.1', vlan_id: 12, primary: true }],
    customer_metadata: { 'user-script': '#!/bin/sh\necho hi', role: 'web' },
    image_uuid: image,
    max_physical_memory: 1024,
  });
  const again = testUuid();
  await driver.create(specFor(again, image));
  t.notOk(fs.calls().slice(5).some((c) => c.tool === 'imgadm' && c.argv[0] === 'import'), 'an installed image is not imported again');
  await driver.close();
});

t.test('create of an HVM zone: ram, vcpus, disks with the image, virtio NICs', async (t) => {
  const { fs, driver } = await fake(t, { installed: [image] });
  const uuid = testUuid();
  await driver.create(specFor(uuid, image, 'bhyve', { ramMb: 4096, cpus: 4, diskGb: 50 }));
  const create = fs.calls().find((c) => c.argv[0] === 'create')!;
  t.match(JSON.parse(create.stdin), {
    brand: 'bhyve',
    ram: 4096,
    vcpus: 4,
    disks: [{ image_uuid: image, boot: true, model: 'virtio' }, { size: 51_200, model: 'virtio' }],
    nics: [{ nic_tag: 'external', model: 'virtio' }],
  });
  t.notOk('max_physical_memory' in JSON.parse(create.stdin), 'HVM zones size with ram');
  t.equal((await driver.get(uuid)).ramMb, 4096, 'an HVM zone reports its ram, not its zone memory cap');
  await driver.close();
});

t.test('verbs, update and snapshots are the vmadm commands', async (t) => {
  const { fs, driver } = await fake(t, { installed: [image] });
  const uuid = testUuid();
  await driver.create(specFor(uuid, image));
  const from = fs.calls().length;
  await driver.stop(uuid, { force: true });
  await driver.start(uuid);
  await driver.reboot(uuid);
  await driver.update(uuid, { ramMb: 2048, cpuCap: 50 });
  await driver.setMetadata(uuid, { set: { a: '1' }, remove: ['role'] });
  await driver.createSnapshot(uuid, 'before-upgrade');
  await driver.rollbackSnapshot(uuid, 'before-upgrade');
  await driver.deleteSnapshot(uuid, 'before-upgrade');
  await driver.delete(uuid);
  const calls = fs.calls().slice(from).filter((c) => c.argv[0] !== 'get');
  t.same(calls.map((c) => c.argv.join(' ')), [
    `stop ${uuid} -F`,
    `start ${uuid}`,
    `reboot ${uuid}`,
    `update ${uuid}`,
    `update ${uuid}`,
    `create-snapshot ${uuid} before-upgrade`,
    `rollback-snapshot ${uuid} before-upgrade`,
    `delete-snapshot ${uuid} before-upgrade`,
    `delete ${uuid}`,
  ]);
  t.same(JSON.parse(calls[3]!.stdin), { max_physical_memory: 2048, cpu_cap: 50 });
  t.same(JSON.parse(calls[4]!.stdin), { set_customer_metadata: { a: '1' }, remove_customer_metadata: ['role'] });
  await driver.close();
});

t.test('failures are typed: a missing image, a failing create, a missing vmadm', async (t) => {
  const { fs, driver } = await fake(t);
  const err = await driver.create(specFor(testUuid(), 'deadbeef-0000-4000-8000-000000000000')).catch((e: unknown) => e);
  t.type(err, DriverError);
  t.equal((err as DriverError).code, 'invalid', 'an image the sources do not have');
  const bad = await driver.create(specFor(testUuid(), image, 'joyent', { alias: 'fail-me' })).catch((e: unknown) => e);
  t.equal((bad as DriverError).code, 'failed');
  t.match((bad as DriverError).message, /zoneadm install failed/, 'vmadm\'s reason is kept');
  t.ok(fs.calls().length > 0);
  await driver.close();
  const missing = await VmadmHypervisor.open({ clock: nodeClock(), log: silentLogger, vmadm: '/nonexistent/vmadm', pollMs: 0 }).catch((e: unknown) => e);
  t.equal((missing as DriverError).code, 'unavailable');
});

t.test('the poller announces changes made behind the driver\'s back, and VMs of other brands are left out', async (t) => {
  const { fs, driver } = await fake(t, { installed: [image], pollMs: 100 });
  const events: ZoneChange[] = [];
  driver.subscribe((e) => events.push(e));
  const uuid = testUuid();
  await driver.create(specFor(uuid, image));
  const state = fs.state();
  state.vms[uuid]!.state = 'stopped';
  state.vms['headnode-zone'] = { uuid: 'headnode-zone', brand: 'sngl', state: 'running', ram: 1 };
  fs.setState(state);
  for (let i = 0; i < 100 && !events.some((e) => e.uuid === uuid && e.state === 'stopped'); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(events.some((e) => e.uuid === uuid && e.state === 'stopped' && e.previous === 'running'), 'stopped outside the driver: announced');
  delete state.vms[uuid];
  fs.setState(state);
  for (let i = 0; i < 100 && !events.some((e) => e.uuid === uuid && e.state === 'deleted'); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(events.some((e) => e.uuid === uuid && e.state === 'deleted'), 'deleted outside the driver: announced');
  t.same((await driver.list()).map((z) => z.uuid), [], 'the sngl VM is not Shoal\'s');
  await driver.close();
});

t.test('info reads sysinfo; configured figures override it', async (t) => {
  const { fs, driver } = await fake(t);
  t.same(await driver.info(), { memoryMb: 262_035, cpus: 56, diskGb: 7_150, nicTags: ['admin', 'external', 'internal'], virtualisation: ['zone', 'lx', 'bhyve', 'kvm'], platform: 'SmartOS 20240307T000552Z' });
  await driver.close();
  const capped = await VmadmHypervisor.open({ clock: nodeClock(), log: silentLogger, env: fs.env, pollMs: 0, host: { memoryMb: 131_072 } });
  t.equal((await capped.info()).memoryMb, 131_072);
  await capped.close();
});
