/**
 * A standalone SWIM member: one SwimNode in its own process, for multi-process tests and the
 * benchmark (the node process embeds SwimNode itself).
 *
 *     node packages/swim/dist/src/main.js --name n1 --bind 127.0.0.1:7946 --key-file cluster.key
 *          [--cluster shoal] [--join HOST:PORT[,…]] [--advertise HOST:PORT] [--preset lan|local]
 *          [--role core|agent] [--no-lifeguard] [--no-events] [--log-level warn]
 *
 * Protocol, one JSON object per line. Out (stdout): `{"type":"ready",name,gossip,pid}` once
 * listening; `{"type":"event",kind,member,atMs}` per member event (unless --no-events); answers
 * to commands. In
 * (stdin), one command per line: `members` → `{"type":"members",members}`; `counts` →
 * `{"type":"counts",alive,suspect,dead,left}`; `state NAME` → `{"type":"state",name,state}`
 * (state null if unknown); `stats`; `join HOST:PORT[,…]` → `{"type":"joined",contacted}`;
 * `tag KEY=VALUE` (metadata update); `leave` (graceful, then exit 0); `stop` (exit 0 without
 * leaving). End of stdin, SIGTERM: stop and exit; SIGINT: leave and exit. Logs go to stderr.
 * Exit status 2 with one line on stderr for bad flags or an unreadable key file.
 */
import { files, jsonLogger, nodeClock, nodeRandom, nodeTransport, isLogLevel, type LogLevel, type World } from '@shoal/runtime';
import { parseKeyringFile } from '@shoal/wire';
import { isPresetName, swimConfig } from './config.js';
import type { MemberEvent } from './core.js';
import type { Member } from './members.js';
import type { MemberMeta } from './messages.js';
import { SwimNode } from './node.js';

class UsageError extends Error {
  override name = 'UsageError';
}

interface Flags {
  name: string;
  bind: string;
  advertise: string | undefined;
  join: string[];
  keyFile: string;
  cluster: string;
  preset: string;
  role: 'core' | 'agent';
  lifeguard: boolean;
  events: boolean;
  logLevel: LogLevel;
}

function parseFlags(argv: readonly string[]): Flags {
  const values = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    if (a === '--no-lifeguard' || a === '--no-events') {
      bools.add(a);
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    values.set(a.slice(2), v);
  }
  const need = (k: string): string => {
    const v = values.get(k);
    if (v === undefined) throw new UsageError(`--${k} is required`);
    return v;
  };
  const role = values.get('role') ?? 'core';
  if (role !== 'core' && role !== 'agent') throw new UsageError('--role must be core or agent');
  const logLevel = values.get('log-level') ?? 'warn';
  if (!isLogLevel(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error');
  return {
    name: need('name'),
    bind: need('bind'),
    advertise: values.get('advertise'),
    join: (values.get('join') ?? '').split(',').filter((s) => s !== ''),
    keyFile: need('key-file'),
    cluster: values.get('cluster') ?? 'shoal',
    preset: values.get('preset') ?? 'lan',
    role,
    lifeguard: !bools.has('--no-lifeguard'),
    events: !bools.has('--no-events'),
    logLevel,
  };
}

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function view(m: Member): Record<string, unknown> {
  return { name: m.name, state: m.state, incarnation: m.incarnation, role: m.meta.role, addresses: m.meta.addresses, tags: m.meta.tags };
}

function makeWorld(logLevel: LogLevel): World {
  const clock = nodeClock();
  return {
    clock,
    random: nodeRandom(),
    transport: nodeTransport(),
    logger: jsonLogger(clock, logLevel, (s) => process.stderr.write(s)),
    openStorage: () => Promise.reject(new Error('the standalone SWIM member has no storage')),
  };
}

async function command(node: SwimNode, line: string, exit: (leave: boolean) => Promise<void>): Promise<void> {
  const [cmd = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  switch (cmd) {
    case '':
      return;
    case 'members':
      return out({ type: 'members', members: node.members().map(view) });
    case 'counts':
      return out({ type: 'counts', ...node.counts() });
    case 'state':
      return out({ type: 'state', name: arg, state: node.member(arg)?.state ?? null });
    case 'stats':
      return out({ type: 'stats', stats: node.stats() });
    case 'join':
      return out({ type: 'joined', contacted: await node.join(arg.split(',').filter((s) => s !== '')) });
    case 'tag': {
      const eq = arg.indexOf('=');
      const self = node.member(node.name);
      if (eq < 1 || !self) return out({ type: 'error', message: 'usage: tag KEY=VALUE' });
      const meta: MemberMeta = { ...self.meta, tags: { ...self.meta.tags, [arg.slice(0, eq)]: arg.slice(eq + 1) } };
      node.updateMeta(meta);
      return out({ type: 'updated' });
    }
    case 'leave':
      return exit(true);
    case 'stop':
      return exit(false);
    default:
      return out({ type: 'error', message: `unknown command ${JSON.stringify(cmd)}` });
  }
}

function listen(node: SwimNode, world: World, events: boolean): void {
  let exiting = false;
  const exit = async (leave: boolean): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await (leave ? node.leave() : node.stop());
    if (leave) out({ type: 'left' });
    process.exit(0);
  };
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      command(node, line, exit).catch((err: unknown) => out({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
    }
  });
  // The parent went away: do not linger as an orphan.
  process.stdin.on('end', () => void exit(false));
  process.on('SIGTERM', () => void exit(false));
  process.on('SIGINT', () => void exit(true));
  if (events) node.subscribe((e: MemberEvent) => out({ type: 'event', kind: e.kind, member: view(e.member), atMs: world.clock.monoMs() }));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (!isPresetName(flags.preset)) throw new UsageError('--preset must be lan or local');
  const keyring = parseKeyringFile(files.readText(flags.keyFile));
  const world = makeWorld(flags.logLevel);
  const advertise = flags.advertise ?? flags.bind;
  const host = advertise.slice(0, advertise.lastIndexOf(':'));
  const node = new SwimNode({
    world,
    config: swimConfig(flags.preset, { lifeguard: flags.lifeguard }),
    name: flags.name,
    meta: { role: flags.role, version: '0.1.0', addresses: { gossip: advertise, cluster: `${host}:1` }, tags: {} },
    keyring,
    cluster: flags.cluster,
    bind: flags.bind,
  });
  await node.start();
  listen(node, world, flags.events);
  out({ type: 'ready', name: node.name, gossip: node.address, pid: process.pid });
  if (flags.join.length > 0) void node.joinInBackground(flags.join);
}

main().catch((err: unknown) => {
  process.stderr.write(`shoal-swim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
