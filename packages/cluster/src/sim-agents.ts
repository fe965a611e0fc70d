/**
 * `shoal node start --sim-agents K`: K simulated hypervisor agents beside the node, so a new
 * user sees hypervisors at once (`npm start` runs two).
 *
 * Each is a separate process (the agent's standalone entry, hypervisor-agent/src/main.ts) and a
 * separate SWIM member named `<node>-hv<i>`, with the `sim` driver, its data in
 * `DATA/agents/<name>`, the node's cluster key, and ports picked by the system; it joins through
 * the node's gossip address. The node ends them by PID when it stops (SIGTERM, then SIGKILL
 * after `simAgentStopMs`). Each agent also holds a pipe to the node on its stdin and stops when
 * that closes, so agents do not outlive a node that is killed with SIGKILL.
 */
import { agentMainPath } from '@shoal/hypervisor-agent';
import { files, sleep, spawnProcess, type ChildHandle, type Clock, type Logger } from '@shoal/runtime';
import type { NodeConfig } from './config.js';

/** How long a stopping agent gets for its graceful leave before SIGKILL, ms. */
export const simAgentStopMs = 5_000;

export interface SimAgentsOptions {
  config: NodeConfig;
  /** The node's keyring file: the agents' `--key-file`. */
  keyFile: string;
  /** The node's gossip address: what the agents join. */
  join: string;
  clock: Clock;
  log: Logger;
}

export function simAgentName(node: string, i: number): string {
  const suffix = `-hv${i}`;
  return `${node.slice(0, 63 - suffix.length)}${suffix}`;
}

async function end(child: ChildHandle, clock: Clock): Promise<void> {
  if (!child.running()) return;
  child.kill('SIGTERM');
  const exited = await Promise.race([child.exited.then(() => true), sleep(clock, simAgentStopMs).then(() => false)]);
  if (!exited) {
    child.kill('SIGKILL');
    await child.exited;
  }
}

/** Starts the agents; resolves with the function that stops them. */
export async function startSimAgents(opts: SimAgentsOptions): Promise<() => Promise<void>> {
  const { config, log } = opts;
  const children: { name: string; child: ChildHandle }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map(({ child }) => end(child, opts.clock)));
    log.info('sim agents stopped', { agents: children.length });
  };
  try {
    for (let i = 1; i <= config.simAgents; i++) {
      const name = simAgentName(config.name, i);
      const args = [
        agentMainPath,
        ['--name', name],
        ['--join', opts.join],
        ['--key-file', opts.keyFile],
        ['--data', files.resolve(config.dataDir, 'agents', name)],
        ['--cluster', config.cluster],
        ['--host', config.host],
        ['--gossip-port', '0'],
        ['--cluster-port', '0'],
        ['--swim-preset', config.swimPreset],
        ['--log-level', 'warn'],
        '--watch-stdin',
      ].flat();
      const child = await spawnProcess(process.execPath, args, { stdinPipe: true, output: 'inherit' });
      children.push({ name, child });
      log.info('sim agent started', { agent: name, pid: child.pid });
      void child.exited.then(({ code, signal }) => {
        if (code !== 0 && signal !== 'SIGTERM') log.warn('sim agent exited', { agent: name, pid: child.pid, code, signal });
      });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
