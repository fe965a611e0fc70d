/**
 * SmartOS vmadm / imgadm / sysinfo formats, pure: Shoal's zone spec → vmadm's JSON payload, and
 * vmadm's outputs → typed values. No process is run here (vmadm-driver.ts does that).
 *
 * Formats followed (vmadm(1M), imgadm(1M), sysinfo(1M) of SmartOS):
 * - `vmadm create` reads a JSON payload on stdin. OS VMs (brands joyent, joyent-minimal, lx)
 *   take `image_uuid` and `max_physical_memory` (MiB); HVM VMs (bhyve, kvm) take `ram`, `vcpus`
 *   and `disks` (the first, bootable, cloned from `image_uuid`). NICs are
 *   `{ nic_tag, ip, netmask, gateway, vlan_id, primary }`; `cpu_cap` is percent of one CPU;
 *   `quota` is GiB; `customer_metadata` is a flat string map. `autoboot: true` makes the VM run
 *   once created.
 * - `vmadm list -p -o f1,f2,…` prints one VM per line, fields separated by `:` with no header;
 *   a `:` inside a value is written `\:`; an unset field prints empty or `-`.
 * - `vmadm get UUID` prints the VM object as JSON (`max_physical_memory`/`ram`, `state`,
 *   `nics`, `customer_metadata`, `snapshots: [{ name, created_at }]`, `create_timestamp` …).
 * - `vmadm update UUID` reads a JSON object on stdin; `set_customer_metadata` and
 *   `remove_customer_metadata` edit the metadata map.
 * - Success and failure are the exit status; a failure says why on stderr ("… No such zone
 *   configured", "… already exists", "… VM is not running" …).
 * - `sysinfo` prints the host as JSON: "MiB of Memory", "CPU Total Cores", "Zpool Size in GiB",
 *   "Network Interfaces" (with "NIC Names", i.e. nic tags), "Live Image", "Bhyve Capable",
 *   "VM Capable" (KVM).
 */
import type { Virtualisation, Zone, ZoneBrand, ZoneSnapshot, ZoneSpec, ZoneState } from '@shoal/wire';
import { DriverError } from './errors.js';
import type { HostFacts, MetadataChange, ZoneUpdate } from './hypervisor.js';

const hvmBrands: readonly ZoneBrand[] = ['bhyve', 'kvm'];
export const isHvm = (brand: ZoneBrand): boolean => hvmBrands.includes(brand);

function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function nicPayload(spec: ZoneSpec): Record<string, unknown>[] {
  return spec.nics.map((n) =>
    defined({
      nic_tag: n.nicTag,
      ip: n.ip,
      netmask: n.netmask,
      gateway: n.gateway,
      vlan_id: n.vlanId,
      primary: n.primary,
      model: isHvm(spec.brand) ? 'virtio' : undefined,
    }),
  );
}

/** The `vmadm create` payload for a Shoal zone spec. */
export function vmadmCreatePayload(spec: ZoneSpec): Record<string, unknown> {
  const common = {
    uuid: spec.uuid,
    alias: spec.alias,
    brand: spec.brand,
    autoboot: true,
    cpu_cap: spec.cpuCap,
    quota: spec.quotaGb,
    resolvers: [...spec.resolvers],
    nics: nicPayload(spec),
    customer_metadata: { ...spec.customerMetadata },
  };
  if (isHvm(spec.brand)) {
    const disks: Record<string, unknown>[] = [{ image_uuid: spec.imageUuid, boot: true, model: 'virtio' }];
    if (spec.diskGb !== undefined) disks.push({ size: spec.diskGb * 1024, model: 'virtio' });
    return defined({ ...common, ram: spec.ramMb, vcpus: spec.cpus ?? 1, disks });
  }
  return defined({ ...common, image_uuid: spec.imageUuid, max_physical_memory: spec.ramMb, kernel_version: spec.brand === 'lx' ? spec.kernelVersion : undefined });
}

/** The `vmadm update` payload for a change of memory, CPU cap or quota. */
export function vmadmUpdatePayload(brand: ZoneBrand, change: ZoneUpdate): Record<string, unknown> {
  const memory = change.ramMb === undefined ? {} : isHvm(brand) ? { ram: change.ramMb } : { max_physical_memory: change.ramMb };
  return defined({ ...memory, cpu_cap: change.cpuCap, quota: change.quotaGb });
}

export function vmadmMetadataPayload(change: MetadataChange): Record<string, unknown> {
  return defined({
    set_customer_metadata: change.set && Object.keys(change.set).length > 0 ? { ...change.set } : undefined,
    remove_customer_metadata: change.remove && change.remove.length > 0 ? [...change.remove] : undefined,
  });
}

/** SmartOS states onto Shoal's: the zone's life as a user sees it. Unknown states read as failed. */
export function zoneStateOf(vmadmState: string): ZoneState {
  switch (vmadmState) {
    case 'running':
      return 'running';
    case 'stopped':
    case 'installed':
    case 'down':
    case 'off':
      return 'stopped';
    case 'stopping':
    case 'shutting_down':
      return 'stopping';
    case 'ready':
    case 'starting':
      return 'starting';
    case 'provisioning':
    case 'configured':
    case 'incomplete':
    case 'receiving':
      return 'provisioning';
    default:
      return 'failed';
  }
}

/** Splits one `vmadm list -p` line on unescaped `:`; the last field takes whatever is left. */
export function splitParsable(line: string, fields: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && line[i + 1] === ':') {
      cur += ':';
      i++;
    } else if (c === ':' && out.length < fields - 1) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

export const listFields = ['uuid', 'brand', 'state', 'ram', 'max_physical_memory', 'cpu_cap', 'quota', 'alias'] as const;

export interface ListRow {
  uuid: string;
  brand: ZoneBrand;
  state: ZoneState;
  ramMb: number;
  cpuCap?: number;
  quotaGb?: number;
  alias?: string;
}

const brands: readonly string[] = ['joyent', 'joyent-minimal', 'lx', 'bhyve', 'kvm'];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '' || s === '-') return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
}

/**
 * Rows of `vmadm list -p -o <listFields>`. Lines that do not parse (a brand Shoal does not
 * manage, a non-UUID name) are skipped and returned in `skipped` so the caller can log them.
 */
export function parseVmadmList(stdout: string): { rows: ListRow[]; skipped: string[] } {
  const rows: ListRow[] = [];
  const skipped: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [uuid, brand, state, ram, maxPhys, cpuCap, quota, alias] = splitParsable(line, listFields.length);
    const ramMb = brand && isHvm(brand as ZoneBrand) ? num(ram) : (num(maxPhys) ?? num(ram));
    if (!uuid || !uuidPattern.test(uuid) || !brand || !brands.includes(brand) || state === undefined || ramMb === undefined) {
      skipped.push(line.slice(0, 200));
      continue;
    }
    rows.push(defined({ uuid, brand: brand as ZoneBrand, state: zoneStateOf(state), ramMb, cpuCap: num(cpuCap), quotaGb: num(quota), alias: alias === '' || alias === '-' ? undefined : alias }));
  }
  return { rows, skipped };
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);

function snapshotsOf(v: unknown): ZoneSnapshot[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((s: Json) => (typeof s?.name === 'string' ? [{ name: s.name, createdAt: str(s.created_at) ?? '' }] : []));
}

function metadataOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v as Json)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** A zone from `vmadm get` output; DriverError('failed') when it is not a VM object. */
export function zoneFromVmadm(text: string): Zone {
  let vm: Json;
  try {
    vm = JSON.parse(text) as Json;
  } catch {
    throw new DriverError('failed', `vmadm get printed something that is not JSON: ${text.slice(0, 120)}`);
  }
  const brand = str(vm.brand);
  const uuid = str(vm.uuid);
  if (!uuid || !brand || !brands.includes(brand)) throw new DriverError('failed', `vmadm get printed a VM without uuid or with brand ${JSON.stringify(brand)}`);
  const hvm = isHvm(brand as ZoneBrand);
  const disks = Array.isArray(vm.disks) ? (vm.disks as Json[]) : [];
  const nics = Array.isArray(vm.nics) ? (vm.nics as Json[]) : [];
  return defined({
    uuid,
    alias: str(vm.alias),
    brand: brand as ZoneBrand,
    state: zoneStateOf(str(vm.state) ?? ''),
    ramMb: (hvm ? int(vm.ram) : (int(vm.max_physical_memory) ?? int(vm.ram))) ?? 0,
    cpuCap: int(vm.cpu_cap),
    quotaGb: int(vm.quota),
    cpus: int(vm.vcpus),
    imageUuid: hvm ? str(disks[0]?.image_uuid) : str(vm.image_uuid),
    nics: nics.map((n) => defined({ nicTag: str(n.nic_tag) ?? '', ip: str(n.ip) ?? '', netmask: str(n.netmask), gateway: str(n.gateway), vlanId: int(n.vlan_id), primary: n.primary === true ? true : undefined, mac: str(n.mac) })),
    resolvers: Array.isArray(vm.resolvers) ? (vm.resolvers as unknown[]).filter((r): r is string => typeof r === 'string') : [],
    customerMetadata: metadataOf(vm.customer_metadata),
    snapshots: snapshotsOf(vm.snapshots),
    createdAt: str(vm.create_timestamp),
  });
}

/** Host facts from `sysinfo` output. */
export function hostFromSysinfo(text: string): HostFacts {
  let si: Json;
  try {
    si = JSON.parse(text) as Json;
  } catch {
    throw new DriverError('failed', `sysinfo printed something that is not JSON: ${text.slice(0, 120)}`);
  }
  const tags = new Set<string>();
  const nets = si['Network Interfaces'];
  if (nets && typeof nets === 'object') {
    for (const nic of Object.values(nets as Record<string, Json>)) {
      const names = nic?.['NIC Names'];
      if (Array.isArray(names)) for (const n of names) if (typeof n === 'string') tags.add(n);
    }
  }
  const virt: Virtualisation[] = ['zone', 'lx'];
  if (si['Bhyve Capable'] === true) virt.push('bhyve');
  if (si['VM Capable'] === true) virt.push('kvm');
  return {
    memoryMb: int(si['MiB of Memory']) ?? int(Number(si['MiB of Memory'])) ?? 0,
    cpus: int(si['CPU Total Cores']) ?? 0,
    diskGb: int(si['Zpool Size in GiB']) ?? 0,
    nicTags: [...tags].sort(),
    virtualisation: virt,
    platform: `SmartOS ${str(si['Live Image']) ?? 'unknown'}`,
  };
}

/** A failed vmadm/imgadm call as a DriverError, by what its stderr says. */
export function failureOf(what: string, code: number | null, stderr: string): DriverError {
  const line = stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.slice(0, 300) ?? `exit status ${code}`;
  if (/No such zone configured|No such VM|does not exist|not found/i.test(stderr)) return new DriverError('not-found', `${what}: ${line}`);
  if (/already exists/i.test(stderr)) return new DriverError('exists', `${what}: ${line}`);
  if (/already (running|stopped)|already not 'running'|is not running|not in state|state is/i.test(stderr)) return new DriverError('state', `${what}: ${line}`);
  if (/invalid|bad (value|property)|missing/i.test(stderr)) return new DriverError('invalid', `${what}: ${line}`);
  return new DriverError('failed', `${what} failed (exit ${code}): ${line}`);
}
