/**
 * Fake `vmadm`, `imgadm` and `sysinfo` for tests: small Node scripts written into a temp
 * directory that goes first on PATH. They keep their VMs in `state.json` there, record every
 * call (argv and stdin) in `calls.jsonl`, and answer in the formats of the real SmartOS tools:
 * JSON from `vmadm get`, `imgadm get` and `sysinfo`; colon-separated rows without a header from
 * `vmadm list -p -o …` (`\:` inside a value); one-line messages on stderr and exit status 0/1
 * from the verbs ("Successfully created VM …", "… No such zone configured", "… is already not
 * 'running' (currently: stopped)").
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FakeCall {
  tool: string;
  argv: string[];
  stdin: string;
}

export interface FakeSmartos {
  dir: string;
  env: Record<string, string>;
  calls(): FakeCall[];
  state(): FakeState;
  setState(state: FakeState): void;
}

export interface FakeState {
  vms: Record<string, Record<string, unknown>>;
  /** Images the image source offers. */
  available: string[];
  /** Images already on the zpool. */
  installed: string[];
}

const common = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const dir = __dirname;
const stateFile = path.join(dir, 'state.json');
const load = () => JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const save = (s) => { fs.writeFileSync(stateFile + '.tmp', JSON.stringify(s)); fs.renameSync(stateFile + '.tmp', stateFile); };
const readStdin = () => { try { return fs.readFileSync(0, 'utf8'); } catch { return ''; } };
const fail = (msg) => { process.stderr.write(msg + '\n'); process.exit(1); };
const ok = (msg) => { if (msg) process.stderr.write(msg + '\n'); process.exit(0); };
function record(tool, argv, stdin) { fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ tool, argv, stdin }) + '\n'); }
`;

const vmadm = String.raw`#!/usr/bin/env node
${common}
const argv = process.argv.slice(2);
const [cmd, uuid, name] = argv;
const needsStdin = cmd === 'create' || (cmd === 'update' && argv.length === 2);
const stdin = needsStdin ? readStdin() : '';
record('vmadm', argv, stdin);
const s = load();
const vm = uuid ? s.vms[uuid] : undefined;
const hvm = (b) => b === 'bhyve' || b === 'kvm';
const need = (what) => { if (!vm) fail('Failed to ' + what + ' VM ' + uuid + ': No such zone configured'); };
const setState = (st) => { vm.state = st; vm.zone_state = st === 'running' ? 'running' : 'installed'; };
switch (cmd) {
  case 'create': {
    let p; try { p = JSON.parse(stdin); } catch { fail('Failed to create VM: Invalid JSON payload'); }
    if (!p.brand) fail('Invalid value(s) for: brand');
    const id = p.uuid || require('node:crypto').randomUUID();
    if (s.vms[id]) fail('Failed to create VM: VM with UUID ' + id + ' already exists');
    const image = hvm(p.brand) ? (p.disks && p.disks[0] && p.disks[0].image_uuid) : p.image_uuid;
    if (!s.installed.includes(image)) fail('Failed to create VM: image ' + image + ' is not installed');
    if (p.alias === 'fail-me') fail('Failed to create VM: zoneadm install failed');
    const nics = (p.nics || []).map((n, i) => ({ interface: 'net' + i, mac: '90:b8:d0:00:00:0' + i, ...n }));
    const v = { uuid: id, alias: p.alias, brand: p.brand, state: 'running', zone_state: 'running', autoboot: true,
      cpu_cap: p.cpu_cap, quota: p.quota, resolvers: p.resolvers || [], nics, customer_metadata: p.customer_metadata || {},
      snapshots: [], create_timestamp: new Date().toISOString(), zonepath: '/zones/' + id };
    if (hvm(p.brand)) { v.ram = p.ram; v.max_physical_memory = p.ram + 1024; v.vcpus = p.vcpus; v.disks = p.disks; }
    else { v.max_physical_memory = p.max_physical_memory; v.ram = p.max_physical_memory; v.image_uuid = p.image_uuid; if (p.kernel_version) v.kernel_version = p.kernel_version; }
    s.vms[id] = v; save(s);
    ok('Successfully created VM ' + id);
  }
  case 'list': {
    const o = argv[argv.indexOf('-o') + 1].split(',');
    const esc = (x) => (x === undefined || x === null ? '' : String(x)).replace(/:/g, '\\:');
    const rows = Object.values(s.vms).sort((a, b) => (a.ram - b.ram) || (a.uuid < b.uuid ? -1 : 1));
    process.stdout.write(rows.map((v) => o.map((f) => esc(v[f])).join(':') + '\n').join(''));
    process.exit(0);
  }
  case 'get': need('get'); process.stdout.write(JSON.stringify(vm, null, 2) + '\n'); process.exit(0);
  case 'start':
    need('start');
    if (vm.state === 'running') fail('Failed to start ' + uuid + ': VM ' + uuid + ' is already running');
    setState('running'); save(s); ok('Successfully started VM ' + uuid);
  case 'stop':
    need('stop');
    if (vm.state !== 'running') fail("Failed to stop " + uuid + ": VM " + uuid + " is already not 'running' (currently: " + vm.state + ')');
    setState('stopped'); save(s); ok('Successfully completed stop for VM ' + uuid);
  case 'reboot':
    need('reboot');
    if (vm.state !== 'running') fail("Failed to reboot " + uuid + ": VM " + uuid + " is not running (currently: " + vm.state + ')');
    ok('Successfully completed reboot for VM ' + uuid);
  case 'delete': need('delete'); delete s.vms[uuid]; save(s); ok('Successfully deleted VM ' + uuid);
  case 'update': {
    need('update');
    const p = JSON.parse(stdin || '{}');
    for (const k of ['max_physical_memory', 'ram', 'cpu_cap', 'quota']) if (p[k] !== undefined) vm[k] = p[k];
    if (!hvm(vm.brand) && p.max_physical_memory !== undefined) vm.ram = p.max_physical_memory;
    Object.assign(vm.customer_metadata, p.set_customer_metadata || {});
    for (const k of p.remove_customer_metadata || []) delete vm.customer_metadata[k];
    save(s); ok('Successfully updated VM ' + uuid);
  }
  case 'create-snapshot':
    need('snapshot');
    if (vm.snapshots.some((x) => x.name === name)) fail('Failed to create snapshot: snapshot with name "' + name + '" already exists.');
    vm.snapshots.push({ name, created_at: new Date().toISOString() }); save(s);
    process.stdout.write('Created snapshot ' + name + ' for VM ' + uuid + '\n'); process.exit(0);
  case 'rollback-snapshot': {
    need('rollback');
    const i = vm.snapshots.findIndex((x) => x.name === name);
    if (i < 0) fail('Failed to rollback snapshot: snapshot "' + name + '" does not exist');
    vm.snapshots = vm.snapshots.slice(0, i + 1); save(s);
    process.stdout.write('Rolled back VM ' + uuid + ' to snapshot ' + name + '\n'); process.exit(0);
  }
  case 'delete-snapshot':
    need('delete snapshot of');
    if (!vm.snapshots.some((x) => x.name === name)) fail('Failed to delete snapshot: snapshot "' + name + '" does not exist');
    vm.snapshots = vm.snapshots.filter((x) => x.name !== name); save(s);
    process.stdout.write('Deleted snapshot ' + name + ' for VM ' + uuid + '\n'); process.exit(0);
  default: fail('vmadm: unknown command ' + cmd);
}
`;

const imgadm = String.raw`#!/usr/bin/env node
${common}
const argv = process.argv.slice(2);
record('imgadm', argv, '');
const s = load();
const image = argv[argv.length - 1];
const manifest = (u) => ({ manifest: { v: 2, uuid: u, name: 'base-64-lts', version: '23.4.0', type: 'zone-dataset', os: 'smartos' }, zpool: 'zones' });
if (argv[0] === 'get') {
  if (!s.installed.includes(image)) fail('imgadm get: error (ImageNotInstalled): image "' + image + '" was not found on zpool "zones"');
  process.stdout.write(JSON.stringify(manifest(image), null, 2) + '\n'); process.exit(0);
}
if (argv[0] === 'import') {
  if (!s.available.includes(image)) fail('imgadm import: error (ActiveImageNotFound): an active image "' + image + '" was not found in image sources');
  if (!s.installed.includes(image)) { s.installed.push(image); save(s); }
  if (!argv.includes('-q')) process.stdout.write('Importing ' + image + ' (base-64-lts@23.4.0) from "https://images.smartos.org"\nImported image ' + image + ' (base-64-lts@23.4.0)\n');
  process.exit(0);
}
fail('imgadm: unknown command ' + argv[0]);
`;

const sysinfo = String.raw`#!/usr/bin/env node
${common}
record('sysinfo', process.argv.slice(2), '');
process.stdout.write(JSON.stringify({
  'Live Image': '20240307T000552Z', 'System Type': 'SunOS', 'Boot Time': '1709770000', 'UUID': '44454c4c-3800-104b-8050-b3c04f595031',
  'Hostname': 'fake-cn1', 'CPU Type': 'Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz', 'CPU Total Cores': 56, 'CPU Online Count': 56,
  'MiB of Memory': '262035', 'Zpool': 'zones', 'Zpool Size in GiB': 7150, 'Bhyve Capable': true, 'VM Capable': true,
  'Network Interfaces': {
    'ixgbe0': { 'MAC Address': '0c:c4:7a:00:00:01', 'ip4addr': '10.0.0.21', 'Link Status': 'up', 'NIC Names': ['admin'] },
    'ixgbe1': { 'MAC Address': '0c:c4:7a:00:00:02', 'ip4addr': '', 'Link Status': 'up', 'NIC Names': ['external', 'internal'] }
  }
}, null, 2) + '\n');
`;

/** Writes the fake tools into `dir` and returns the PATH overlay and inspectors. */
export function installFakeSmartos(dir: string, init: Partial<FakeState> = {}): FakeSmartos {
  mkdirSync(dir, { recursive: true });
  // The scripts are CommonJS; the repository's package.json says "type": "module".
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  for (const [name, text] of [['vmadm', vmadm], ['imgadm', imgadm], ['sysinfo', sysinfo]] as const) {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, 0o755);
  }
  const stateFile = path.join(dir, 'state.json');
  const setState = (state: FakeState): void => writeFileSync(stateFile, JSON.stringify(state));
  setState({ vms: init.vms ?? {}, available: init.available ?? [], installed: init.installed ?? [] });
  return {
    dir,
    env: { PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` },
    calls: () => {
      const file = path.join(dir, 'calls.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall);
    },
    state: () => JSON.parse(readFileSync(stateFile, 'utf8')) as FakeState,
    setState,
  };
}
