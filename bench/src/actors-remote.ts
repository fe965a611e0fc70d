/**
 * Remote rows of `npm run bench -- actors`: actor messages between two processes over Shoal's
 * transport (WebSocket links, AES-GCM session, batched frames), beside a raw TCP socket carrying
 * length-prefixed msgpackr frames between the same two processes — the floor any transport
 * built on Node sockets and msgpack pays. Both in this run, same payloads:
 *
 * - one-way: `oneWayCount` messages of ~100 bytes (`{ seq, payload }`), timed from the first
 *   send to the receiver's report that it has counted them all;
 * - request/response: for `rrSeconds`, with 1 and with 64 requests in flight (`query` to a
 *   remote echo actor; raw TCP: id-matched frames).
 * Medians of `runs` runs (one-way: each run's pair is printed in the note). The two processes
 * are not pinned; on this 2-core machine each gets a core when nothing else runs.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { ActorNet, dispatch, OutboundQueueFullError, query, refFromJSON, spawn, start, systemOf, type ActorRef } from '@shoal/actors';
import { nodeWorld, seededRandom } from '@shoal/runtime';
import { Keyring } from '@shoal/wire';
import { FrameReader, frame } from './frames.js';
import type { Row } from './report.js';

const runs = 5;
const oneWayCount = 1_000_000;
const rrSeconds = 3;
const payload = 'x'.repeat(80);
const peerScript = fileURLToPath(new URL('./remote-peer.js', import.meta.url));
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function startPeer(args: string[]): Promise<{ child: ChildProcess; address: string }> {
  const child = spawnProcess(process.execPath, [peerScript, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`benchmark peer exited with ${code}`)));
  });
  return { child, address: (JSON.parse(line) as { ready: string }).ready };
}

function endPeer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// ---- Shoal ---------------------------------------------------------------------------------

interface ShoalSide {
  root: ActorRef<never>;
  net: ActorNet;
  sink: ActorRef<unknown>;
  echo: ActorRef<unknown>;
  stop(): Promise<void>;
}

async function shoalSide(): Promise<ShoalSide> {
  const key = seededRandom(1).bytes(32);
  const peer = await startPeer(['shoal', Buffer.from(key).toString('base64')]);
  const world = nodeWorld({ logLevel: 'error', logWrite: () => undefined });
  const root = start({ name: 'bench', clock: world.clock, random: world.random, logger: world.logger });
  const netw = new ActorNet(systemOf(root), world, new Keyring([key]), { cluster: 'bench', listen: '127.0.0.1:0' });
  await netw.start();
  netw.setPeerAddress('peer', peer.address);
  const sys = systemOf(root);
  return {
    root,
    net: netw,
    sink: refFromJSON(sys, { node: 'peer', path: ['sink'] }),
    echo: refFromJSON(sys, { node: 'peer', path: ['echo'] }),
    async stop() {
      await netw.stop();
      sys.stop();
      await endPeer(peer.child);
    },
  };
}

async function shoalOneWay(side: ShoalSide, n: number, run: number): Promise<number> {
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const waiter = spawn(side.root, (_s: undefined) => {
    resolveDone();
    return undefined;
  }, `waiter-${run}`);
  dispatch(side.sink, { start: n, notify: waiter });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    try {
      dispatch(side.sink, { seq: i, payload });
    } catch (err) {
      if (!(err instanceof OutboundQueueFullError)) throw err;
      i--;
      // Backpressure as raw TCP's loop awaits `drain`: wait for the queue to half empty.
      await side.net.whenRoom(side.sink.node);
      continue;
    }
    if ((i & 4095) === 0) await immediate();
  }
  await done;
  return n / ((performance.now() - t0) / 1000);
}

async function shoalRoundTrips(side: ShoalSide, inFlight: number): Promise<number> {
  let count = 0;
  const until = performance.now() + rrSeconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      await query(side.echo, (replyTo: ActorRef<unknown>) => ({ q: count, payload, replyTo }), 5000);
      count++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  return count / ((performance.now() - t0) / 1000);
}

// ---- raw TCP -------------------------------------------------------------------------------

interface TcpSide {
  socket: net.Socket;
  onFrame: (msg: { done?: number; a?: number }) => void;
  stop(): Promise<void>;
}

async function tcpSide(): Promise<TcpSide> {
  const peer = await startPeer(['tcp']);
  const [host, port] = peer.address.split(':');
  const socket = net.connect(Number(port), host);
  socket.setNoDelay(true);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const side: TcpSide = {
    socket,
    onFrame: () => undefined,
    async stop() {
      socket.destroy();
      await endPeer(peer.child);
    },
  };
  const reader = new FrameReader((body) => side.onFrame(unpack(body) as { done?: number; a?: number }));
  socket.on('data', (chunk) => reader.push(chunk));
  return side;
}

async function tcpOneWay(side: TcpSide, n: number): Promise<number> {
  const done = new Promise<void>((resolve) => (side.onFrame = (m) => m.done !== undefined && resolve()));
  side.socket.write(frame(pack({ start: n })));
  const t0 = performance.now();
  let batch: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(frame(pack({ seq: i, payload })));
    if (batch.length === 1000 || i === n - 1) {
      const ok = side.socket.write(Buffer.concat(batch));
      batch = [];
      if (!ok) await new Promise<void>((r) => side.socket.once('drain', () => r()));
    }
  }
  await done;
  return n / ((performance.now() - t0) / 1000);
}

async function tcpRoundTrips(side: TcpSide, inFlight: number): Promise<number> {
  const waiting = new Map<number, () => void>();
  side.onFrame = (m) => {
    if (m.a === undefined) return;
    waiting.get(m.a)?.();
    waiting.delete(m.a);
  };
  let next = 0;
  let count = 0;
  const until = performance.now() + rrSeconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const q = next++;
      const answered = new Promise<void>((r) => waiting.set(q, r));
      side.socket.write(frame(pack({ q, payload })));
      await answered;
      count++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  return count / ((performance.now() - t0) / 1000);
}

// ---- the table -----------------------------------------------------------------------------

export async function runRemote(progress: (msg: string) => void): Promise<Row[]> {
  const shoal = await shoalSide();
  const tcp = await tcpSide();
  try {
    const results = { shoalOne: [] as number[], tcpOne: [] as number[], shoal1: [] as number[], tcp1: [] as number[], shoal64: [] as number[], tcp64: [] as number[] };
    await shoalOneWay(shoal, 100_000, -1); // warm-up: JIT, link, buffers
    await tcpOneWay(tcp, 100_000);
    for (let run = 0; run < runs; run++) {
      progress(`remote run ${run + 1}/${runs}: one-way`);
      results.tcpOne.push(await tcpOneWay(tcp, oneWayCount));
      results.shoalOne.push(await shoalOneWay(shoal, oneWayCount, run));
      progress(`remote run ${run + 1}/${runs}: request/response`);
      results.tcp1.push(await tcpRoundTrips(tcp, 1));
      results.shoal1.push(await shoalRoundTrips(shoal, 1));
      results.tcp64.push(await tcpRoundTrips(tcp, 64));
      results.shoal64.push(await shoalRoundTrips(shoal, 64));
    }
    const baseline = 'raw TCP, length-prefixed msgpackr frames';
    const note = 'two processes, unpinned, 2 cores';
    // Each run's pair (raw TCP, then Shoal, back to back): the spread between runs is mostly the
    // baseline's own (raw TCP moves between ~2.0 and ~2.6 M msgs/s here with CPU placement).
    const m = (x: number): string => (x / 1e6).toFixed(2);
    const pairs = results.shoalOne.map((x, i) => `${m(x)}/${m(results.tcpOne[i] ?? NaN)}`).join(', ');
    return [
      { bench: 'actors', metric: 'remote one-way, 100 B messages', value: median(results.shoalOne), unit: 'msgs/s', baseline, baseline_value: median(results.tcpOne), target: '>= 300000 and >= 0.9x', note: `${note}; median of ${runs} runs, Shoal/TCP M msgs/s per run: ${pairs}` },
      { bench: 'actors', metric: 'remote request/response, 1 in flight', value: median(results.shoal1), unit: 'round trips/s', baseline, baseline_value: median(results.tcp1), note },
      { bench: 'actors', metric: 'remote request/response, 64 in flight', value: median(results.shoal64), unit: 'round trips/s', baseline, baseline_value: median(results.tcp64), target: '>= 70000', note },
    ];
  } finally {
    await shoal.stop();
    await tcp.stop();
  }
}
