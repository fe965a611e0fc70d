/**
 * A minimal core side for in-process agent tests: an actor system with the WebSocket transport
 * and a SWIM member of role `core` that follows membership (as packages/cluster does), on
 * loopback with real sockets. The agent under test joins it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ActorNet, start, systemOf, type ActorSystem } from '@shoal/actors';
import { nodeWorld, seededRandom, type World } from '@shoal/runtime';
import { SwimNode, swimConfig } from '@shoal/swim';
import { Keyring, formatKeyringFile, generateKey } from '@shoal/wire';
import { startAgent, type RunningAgent } from '../src/agent.js';
import { validateAgentConfig, type AgentConfigInput } from '../src/config.js';
import type { AgentStartOptions } from '../src/agent.js';

export interface Core {
  system: ActorSystem;
  net: ActorNet;
  swim: SwimNode;
  world: World;
  stop(): Promise<void>;
}

export function quietWorld(): World {
  return nodeWorld({ logLevel: 'error', logWrite: () => undefined });
}

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'shoal-agent-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeKey(dir: string, seed: number): { file: string; keyring: Keyring } {
  const keyring = new Keyring([generateKey(seededRandom(seed))]);
  const file = path.join(dir, `cluster-${seed}.key`);
  writeFileSync(file, formatKeyringFile(keyring), { mode: 0o600 });
  return { file, keyring };
}

export async function startCore(keyring: Keyring, name = 'core-1'): Promise<Core> {
  const world = quietWorld();
  const root = start({ name, clock: world.clock, random: world.random, logger: world.logger });
  const system = systemOf(root);
  const net = new ActorNet(system, world, keyring, { cluster: 'shoal', listen: '127.0.0.1:0' });
  const cluster = await net.start();
  const swim = new SwimNode({ world, config: swimConfig('local'), name, keyring, cluster: 'shoal', meta: { role: 'core', version: '0.1.0', addresses: { gossip: '127.0.0.1:0', cluster }, tags: {} } });
  swim.subscribe((e) => net.followMember(e));
  await swim.start();
  return {
    system,
    net,
    swim,
    world,
    async stop() {
      await swim.stop();
      await net.stop();
      system.stop();
    },
  };
}

export async function startTestAgent(core: Core, keyFile: string, dataDir: string, input: AgentConfigInput = {}, opts: AgentStartOptions = {}): Promise<RunningAgent> {
  const config = validateAgentConfig({
    name: 'hv1',
    join: [core.swim.address],
    keyFile,
    dataDir,
    gossipPort: 0,
    clusterPort: 0,
    swimPreset: 'local',
    memoryMb: 16_384,
    reservedMb: 1_024,
    simTimings: { provisionMs: 20, bootMs: 5, shutdownMs: 5 },
    ...input,
  });
  return startAgent(config, quietWorld(), opts);
}

/** Waits (bounded) until `check` holds. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
