/**
 * The far side of the remote benchmarks, run as a child process so that sender and receiver
 * are separate processes (as between two nodes). Two modes:
 *
 * - `shoal KEY_BASE64`: an actor system named `peer` with the WebSocket transport, a `sink`
 *   actor (counts messages; `{ start: n, notify }` arms it, and it tells `notify` when n have
 *   arrived) and an `echo` actor (answers `{ replyTo }`).
 * - `tcp`: the baseline — a raw TCP server speaking length-prefixed msgpackr frames: a frame
 *   `{ start: n }` arms the sink, `{ seq, payload }` counts, `{ q, payload }` is echoed back.
 *
 * Prints `{"ready":"host:port"}` on stdout; ends on SIGTERM or when stdin closes.
 */
import net from 'node:net';
import { pack, unpack } from 'msgpackr';
import { ActorNet, dispatch, spawn, start, systemOf, type ActorRef } from '@shoal/actors';
import { nodeWorld } from '@shoal/runtime';
import { Keyring } from '@shoal/wire';
import { FrameReader, frame } from './frames.js';

async function shoalPeer(keyB64: string): Promise<string> {
  const world = nodeWorld({ logLevel: 'error', logWrite: () => undefined });
  const root = start({ name: 'peer', clock: world.clock, random: world.random, logger: world.logger });
  const netw = new ActorNet(systemOf(root), world, new Keyring([Buffer.from(keyB64, 'base64')]), { cluster: 'bench', listen: '127.0.0.1:0' });
  const address = await netw.start();
  let target = 0;
  let notify: ActorRef<unknown> | undefined;
  spawn(
    root,
    (count: number | undefined, msg: { start?: number; notify?: ActorRef<unknown> }) => {
      if (msg.start !== undefined) {
        target = msg.start;
        notify = msg.notify;
        return 0;
      }
      const n = (count ?? 0) + 1;
      if (n === target && notify) dispatch(notify, { done: n });
      return n;
    },
    'sink',
  );
  spawn(
    root,
    (_s: undefined, msg: { replyTo: ActorRef<unknown>; q: number }) => {
      dispatch(msg.replyTo, { a: msg.q });
      return undefined;
    },
    'echo',
  );
  return address;
}

function tcpPeer(): Promise<string> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let target = 0;
    let count = 0;
    const reader = new FrameReader((body) => {
      const msg = unpack(body) as { start?: number; seq?: number; q?: number; payload?: string };
      if (msg.start !== undefined) {
        target = msg.start;
        count = 0;
      } else if (msg.q !== undefined) {
        socket.write(frame(pack({ a: msg.q })));
      } else if (++count === target) {
        socket.write(frame(pack({ done: count })));
      }
    });
    socket.on('data', (chunk) => reader.push(chunk));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(`127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
    });
  });
}

const [mode, key] = process.argv.slice(2);
const address = mode === 'tcp' ? await tcpPeer() : await shoalPeer(key ?? '');
process.stdout.write(`${JSON.stringify({ ready: address })}\n`);
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
