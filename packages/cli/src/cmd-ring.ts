/**
 * `shoal cluster status|ring|plan|commit|clear|join|leave|remove|replace|transfers` (the ring's
 * staged membership, riak_core's `cluster` commands) and `shoal db put|get|delete|list` (the
 * maintenance interface, FiFo's `sniffle-admin db`).
 */
import { lossyNumberIn, lossyNumberMessage } from '@shoal/api/json-numbers';
import type { ClusterStatus, RingDetails, TransfersStatus } from '@shoal/ring';
import type { ParsedArgs } from './args.js';
import { apiClient, clientFlags } from './client.js';
import type { Command } from './command.js';
import { CliError, type CliIO } from './io.js';
import { fields, json, table } from './output.js';

interface PlanBody {
  changes: { kind: string; node: string; replacement?: string; weight?: number }[];
  nextVersion: number;
  movedPartitions: number;
  transfersCount: number;
  primaryChanges: number;
  leaving: string[];
  removed: string[];
  balance: RingDetails['balance'];
}

/** The keys `printPlan` reads. */
const planKeys = ['changes', 'nextVersion', 'leaving', 'removed', 'balance'];

const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '-');

function printBalance(io: CliIO, balance: RingDetails['balance']): void {
  io.out(
    table(balance.members, [
      { header: 'member', value: (m) => m.name },
      { header: 'owned', value: (m) => m.owned },
      { header: 'fair', value: (m) => m.fairOwned.toFixed(1) },
      { header: 'owned/fair', value: (m) => pct(m.ownedRatio) },
      { header: 'primaries', value: (m) => m.primaries },
      { header: 'primaries/fair', value: (m) => pct(m.primariesRatio) },
    ]),
  );
}

function describeChange(c: PlanBody['changes'][number]): string {
  return c.kind === 'replace' ? `replace ${c.node} with ${c.replacement}` : `${c.kind} ${c.node}${c.kind === 'join' && c.weight && c.weight !== 1 ? ` (weight ${c.weight})` : ''}`;
}

function printPlan(io: CliIO, p: PlanBody, verb: string): void {
  io.out(`${verb} (ring version ${p.nextVersion}):\n`);
  for (const c of p.changes) io.out(`  ${describeChange(c)}\n`);
  io.out(
    fields([
      ['partitions moving', p.movedPartitions],
      ['replica transfers', p.transfersCount],
      ['primary changes', p.primaryChanges],
      ['handing off', p.leaving.length > 0 ? p.leaving.join(', ') : 'none'],
      ['removed', p.removed.length > 0 ? p.removed.join(', ') : 'none'],
    ]),
  );
  printBalance(io, p.balance);
}

const simple = (path: string[], summary: string, run: (args: ParsedArgs, io: CliIO) => Promise<number>, positionals: Command['positionals'] = []): Command => ({
  path,
  summary,
  flags: clientFlags,
  positionals,
  run,
});

const status = simple(['cluster', 'status'], 'The ring as this node sees it: version, members, staged changes, transfers.', async (args, io) => {
  const s = (await apiClient(args).get('/api/v1/cluster/status', ['node', 'ring', 'staged'])) as ClusterStatus;
  if (args.bool('json')) return io.out(json(s)), 0;
  if (!s.ring) {
    io.out(`node ${s.node} has no ring yet: it waits to be joined (on a ring member: shoal cluster join ${s.node}, plan, commit)\n`);
    return 0;
  }
  io.out(fields([
    ['node', s.node],
    ['cluster', s.clusterName],
    ['ring version', `${s.ring.version} (committed by ${s.ring.committedBy})`],
    ['partitions / replicas', `${s.ring.partitionCount} / ${s.ring.replication}`],
    ['staged', s.staged.length > 0 ? s.staged.map((c) => describeChange(c as PlanBody['changes'][number])).join(', ') : 'nothing'],
    ['transfers', s.transfers ? (s.transfers.complete ? 'done' : `${s.transfers.pending} pending of ${s.transfers.total}`) : '-'],
    ['last commit', s.lostCommit ? `lost to a concurrent commit of version ${s.lostCommit.version} by ${s.lostCommit.winner}: stage again` : 'ok'],
  ]));
  io.out(table(s.ring.members, [
    { header: 'member', value: (m) => m.name },
    { header: 'up', value: (m) => (m.up ? 'yes' : 'no') },
    { header: 'weight', value: (m) => m.weight },
    { header: 'owned', value: (m) => m.owned },
    { header: 'primaries', value: (m) => m.primaries },
  ]));
  return 0;
});

const ring = simple(['cluster', 'ring'], 'Every partition with its owners (primary first), and the balance.', async (args, io) => {
  const r = (await apiClient(args).get('/api/v1/cluster/ring', ['version', 'owners', 'balance'])) as RingDetails;
  if (args.bool('json')) return io.out(json(r)), 0;
  io.out(`ring version ${r.version}: ${r.partitionCount} partitions, ${r.replication} replicas\n`);
  io.out(table(r.owners.map((owners, partition) => ({ partition, owners })), [
    { header: 'partition', value: (x) => x.partition },
    { header: 'owners (primary first)', value: (x) => x.owners.join(', ') },
  ]));
  printBalance(io, r.balance);
  return 0;
});

const plan = simple(['cluster', 'plan'], 'Show what committing the staged changes would do: partitions moving, transfers, balance.', async (args, io) => {
  const p = (await apiClient(args).get('/api/v1/cluster/plan', planKeys)) as PlanBody;
  if (args.bool('json')) return io.out(json(p)), 0;
  printPlan(io, p, 'Plan');
  io.out("run 'shoal cluster commit' to apply it, or 'shoal cluster clear' to drop it\n");
  return 0;
});

const commit = simple(['cluster', 'commit'], 'Commit the staged changes (a new ring version, gossiped to every node); data moves by handoff.', async (args, io) => {
  const p = (await apiClient(args).send('POST', '/api/v1/cluster/commit', undefined, planKeys)) as PlanBody;
  if (args.bool('json')) return io.out(json(p)), 0;
  printPlan(io, p, 'Committed');
  io.out("watch 'shoal cluster transfers' until it says done\n");
  return 0;
});

const clear = simple(['cluster', 'clear'], 'Drop the staged changes.', async (args, io) => {
  await apiClient(args).send('POST', '/api/v1/cluster/clear');
  if (args.bool('json')) io.out(json({ staged: [] }));
  else io.out('staged changes dropped\n');
  return 0;
});

function stageCommand(kind: 'join' | 'leave' | 'remove', summary: string): Command {
  return simple(['cluster', kind], summary, async (args, io) => {
    const node = args.positionals[0] as string;
    const staged = await apiClient(args).send('POST', `/api/v1/cluster/${kind}`, { node });
    if (args.bool('json')) io.out(json(staged));
    else io.out(`staged: ${kind} ${node}; review with 'shoal cluster plan', then 'shoal cluster commit'\n`);
    return 0;
  }, [{ name: 'node', help: 'the node name' }]);
}

const replace = simple(['cluster', 'replace'], 'Stage replacing OLD by NEW (NEW takes over exactly OLD’s partitions).', async (args, io) => {
  const [node, replacement] = args.positionals as [string, string];
  const staged = await apiClient(args).send('POST', '/api/v1/cluster/replace', { node, replacement });
  if (args.bool('json')) io.out(json(staged));
  else io.out(`staged: replace ${node} with ${replacement}; review with 'shoal cluster plan', then 'shoal cluster commit'\n`);
  return 0;
}, [{ name: 'old', help: 'the member to replace' }, { name: 'new', help: 'the node taking its place' }]);

const transfers = simple(['cluster', 'transfers'], 'Data still moving after a commit (ownership and hinted handoff); "done" when nothing is pending.', async (args, io) => {
  const t = (await apiClient(args).get('/api/v1/cluster/transfers', ['complete', 'byNode'])) as TransfersStatus;
  if (args.bool('json')) return io.out(json(t)), 0;
  io.out(t.complete ? `done: ${t.done} of ${t.total} transfers complete\n` : `${t.pending} pending, ${t.done} of ${t.total} done\n`);
  if (t.byNode.length > 0) io.out(table(t.byNode, [
    { header: 'node', value: (n) => n.node },
    { header: 'sending', value: (n) => n.sending },
    { header: 'receiving', value: (n) => n.receiving },
  ]));
  return 0;
});

export const ringCommands: Command[] = [
  status,
  ring,
  plan,
  commit,
  clear,
  stageCommand('join', 'Stage adding NODE (a core node already in the cluster’s membership) to the ring.'),
  stageCommand('leave', 'Stage NODE leaving the ring: it hands its partitions off, then goes.'),
  stageCommand('remove', 'Stage removing NODE, which is dead: its partitions are rebuilt from the other replicas.'),
  replace,
  transfers,
];

// ---- db ---------------------------------------------------------------------------------------

const keyPositionals = [{ name: 'bucket', help: 'the bucket' }, { name: 'key', help: 'the key' }];
const enc = encodeURIComponent;

function parseValue(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`VALUE must be JSON (quote strings: '"text"'), got ${JSON.stringify(text.slice(0, 60))}`);
  }
  // JSON.parse rounds integers beyond 2^53 − 1 (and makes 1e400 Infinity, sent as null): what
  // it made of them would be sent and stored as if it had been written.
  const lossy = lossyNumberIn(text);
  if (lossy !== undefined) throw new CliError(lossyNumberMessage('VALUE', lossy));
  return value;
}

export const dbCommands: Command[] = [
  simple(['db', 'put'], 'Store a JSON VALUE under BUCKET/KEY (a register; quorum write).', async (args, io) => {
    const [bucket, key, text] = args.positionals as [string, string, string];
    const r = await apiClient(args).send('PUT', `/api/v1/db/${enc(bucket)}/${enc(key)}`, parseValue(text));
    io.out(args.bool('json') ? json(r) : `stored ${bucket}/${key}\n`);
    return 0;
  }, [...keyPositionals, { name: 'value', help: 'the value, as JSON' }]),
  simple(['db', 'get'], 'Print the value under BUCKET/KEY (quorum read).', async (args, io) => {
    const [bucket, key] = args.positionals as [string, string];
    const r = (await apiClient(args).get(`/api/v1/db/${enc(bucket)}/${enc(key)}`, ['value'])) as { value: unknown };
    io.out(args.bool('json') ? json(r) : json(r.value));
    return 0;
  }, keyPositionals),
  simple(['db', 'delete'], 'Delete BUCKET/KEY (a tombstone, reaped later).', async (args, io) => {
    const [bucket, key] = args.positionals as [string, string];
    await apiClient(args).send('DELETE', `/api/v1/db/${enc(bucket)}/${enc(key)}`);
    io.out(args.bool('json') ? json({ deleted: `${bucket}/${key}` }) : `deleted ${bucket}/${key}\n`);
    return 0;
  }, keyPositionals),
  {
    path: ['db', 'list'],
    summary: 'List the keys of BUCKET (a coverage query), a page at a time.',
    flags: [
      ...clientFlags,
      { name: 'limit', type: 'int', valueName: 'N', help: 'keys per page', default: 100, min: 1, max: 1000 },
      { name: 'continuation', type: 'string', valueName: 'TOKEN', help: 'the token printed after the previous page' },
      { name: 'values', type: 'bool', help: 'print the values too' },
    ],
    positionals: [{ name: 'bucket', help: 'the bucket' }],
    async run(args, io) {
      const bucket = args.positionals[0] as string;
      const q = new URLSearchParams({ limit: String(args.int('limit') ?? 100) });
      const token = args.string('continuation');
      if (token) q.set('continuation', token);
      if (args.bool('values')) q.set('values', 'true');
      const page = (await apiClient(args).get(`/api/v1/db/${enc(bucket)}?${q.toString()}`, ['items'])) as { items: { key: string; value?: unknown }[]; continuation?: string };
      if (args.bool('json')) return io.out(json(page)), 0;
      for (const item of page.items) io.out(args.bool('values') ? `${item.key}\t${JSON.stringify(item.value)}\n` : `${item.key}\n`);
      if (page.continuation) io.err(`more: --continuation ${page.continuation}\n`);
      return 0;
    },
  },
];
