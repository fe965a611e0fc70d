/** Helpers for tests of the WebSocket actor transport (real sockets on 127.0.0.1). */
import { ActorNet, dispatch, isDownMessage, spawn, start, systemOf, type ActorContext, type ActorRef, type DownMessage, type NetOptions } from '@shoal/actors';
import { nodeWorld, seededRandom, type World } from '@shoal/runtime';
import { Keyring } from '@shoal/wire';

export const clusterName = 'test-cluster';

export function keyringOf(seed: number): Keyring {
  return new Keyring([seededRandom(seed).bytes(32)]);
}

/** A World whose logs go nowhere (the Node world, quiet). */
export function quietWorld(): World {
  return nodeWorld({ logLevel: 'error', logWrite: () => undefined });
}

export interface TestNode {
  root: ActorRef<never>;
  net: ActorNet;
  address: string;
  echo: ActorRef<unknown>;
  stop(): Promise<void>;
}

/** An actor that answers every message `{ reply: msg }` to its sender, or to `msg.replyTo`. */
export function echoBehaviour(state: number | undefined, msg: unknown, ctx: ActorContext<unknown>): number {
  const replyTo = (msg as { replyTo?: ActorRef<unknown> } | null)?.replyTo ?? ctx.sender;
  if (replyTo) dispatch(replyTo, { reply: msg, from: ctx.self });
  return (state ?? 0) + 1;
}

export async function startNode(name: string, keyring: Keyring, opts: Partial<NetOptions> = {}): Promise<TestNode> {
  const world = quietWorld();
  const root = start({ name, clock: world.clock, random: world.random, logger: world.logger });
  const net = new ActorNet(systemOf(root), world, keyring, { cluster: clusterName, listen: '127.0.0.1:0', ...opts });
  const address = await net.start();
  const echo = spawn(root, echoBehaviour, 'echo');
  return {
    root,
    net,
    address,
    echo,
    async stop() {
      await net.stop();
      systemOf(root).stop();
    },
  };
}

/** A collector actor: keeps every message it gets, for assertions. */
export function collector(root: ActorRef<never>, name: string): { ref: ActorRef<unknown>; got: unknown[]; downs: DownMessage[] } {
  const got: unknown[] = [];
  const downs: DownMessage[] = [];
  const ref = spawn(
    root,
    (_s: undefined, msg: unknown) => {
      if (isDownMessage(msg)) downs.push(msg);
      else got.push(msg);
      return undefined;
    },
    name,
  );
  return { ref, got, downs };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
