/**
 * The store benchmark's floor: the least work a durable N = 3, W = 2 write (and an R = 2 read)
 * can cost when it is built from the parts Shoal is built from, measured in the same run as the
 * quorum figures, on the same machine.
 *
 * Three processes, as in the cluster: this one (n1, which also runs the 64 clients) and two
 * replicas (store-floor-peer.ts). Each opens LMDB as the runtime does; they talk over WebSocket
 * (ws, no compression) with frames sealed by the transport's session cipher (AES-256-GCM),
 * msgpackr-encoded, batched per event-loop turn in both directions — what the ring's
 * multiplexer does. Every write stores the same already-encoded record bytes. Two ways to route
 * a write (`FloorMode`):
 *
 * - `direct`: n1 puts its copy and sends the value to both replicas; the write completes when
 *   two of the three copies are durable (n1's own and the first replica's answer). The least any
 *   W = 2 write can do here.
 * - `forward`: one coordinator per key, as the ring routes writes (DESIGN.md: a write is made once,
 *   by a coordinator, as a delta; here a third of the keys each, by key). n1 coordinates its third
 *   as in `direct`; the rest it forwards to their coordinator, which puts its copy, sends n1 a
 *   copy at once (n1 cannot make the delta itself, so its copy can start only when the
 *   coordinator's arrives) and posts the third, and answers once its own copy is durable. The
 *   write completes when n1's copy is durable and that answer arrived.
 *
 * A read gets n1's copy and one replica's. Left out, on purpose, because a floor has none of it:
 * the read-before-write, the CRDT decode / merge / encode, the hash trees, hints, routing
 * tables, schema checks, timeouts. What Shoal spends above this floor is its own; what the floor
 * costs is the stack's (Node.js, ws, AES-GCM, msgpackr, LMDB) on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { open, type Key as LmdbKey } from 'lmdb';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { endChild } from './procs.js';
import { trackChild } from './store-cluster.js';
import { floorSession, TurnSender, type FloorAnswer, type FloorRequest } from './store-floor-wire.js';

const peerScript = fileURLToPath(new URL('./store-floor-peer.js', import.meta.url));

/**
 * `direct`: n1 coordinates every write (the least any W = 2 write does). `forward`: as the ring
 * routes them, a third of the keys are coordinated by each node: n1 forwards the others to their
 * coordinator, which puts its copy, sends n1 its copy at once (n1 puts it: n1 cannot make a
 * CRDT delta itself) and posts the third, and answers once its own copy is durable — the least
 * a write routed through one coordinator per key does.
 */
export type FloorMode = 'direct' | 'forward';

export interface Floor {
  /** The replicas' PIDs (n2, n3), for their CPU time. */
  readonly pids: readonly number[];
  /** Writes key `i`: resolves when two of the three copies are durable. */
  write(i: number): Promise<void>;
  /** Reads key `i` from n1 and one replica; resolves with whether both had it. */
  read(i: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** A call waiting for events: resolved after `need` of them, forgotten after `left` (late acks are expected). */
interface Pending {
  need: number;
  left: number;
  resolve(found: boolean): void;
}

async function startPeer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [peerScript, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  trackChild(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`floor replica exited with ${code} before it was up`)));
  });
  return { child, port: (JSON.parse(line) as { ready: number }).ready };
}

function connect(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The calls n1 waits on, by id; each answer or local commit is one event of its call. */
class Calls {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  open(need: number, left: number, resolve: (found: boolean) => void): number {
    const id = this.nextId++;
    this.pending.set(id, { need, left, resolve });
    return id;
  }

  event(id: number, found = true): void {
    const p = this.pending.get(id);
    if (!p) throw new Error(`floor: an answer to unknown call ${id}`);
    if (--p.left === 0) this.pending.delete(id);
    if (--p.need === 0) p.resolve(found);
  }
}

/** Starts the floor's two replicas and n1's side in `dir`; `value` is what every write stores. */
export async function startFloor(dir: string, mode: FloorMode, keyOf: (i: number) => string, value: Uint8Array): Promise<Floor> {
  const peers = await Promise.all(['n2', 'n3'].map((n) => startPeer(path.join(dir, n))));
  const root = open({ path: path.join(dir, 'n1'), compression: false, maxDbs: 64 });
  const db = root.openDB<Uint8Array, LmdbKey>({ name: 'ring.data' });
  const calls = new Calls();
  const onAnswer = (a: FloorAnswer): void => {
    if (typeof a === 'number') return calls.event(a);
    if (a.length === 2) return calls.event(a[0], a[1] !== null);
    // A coordinator's copy for n1: one more event once it is durable here.
    const id = a[0];
    void db.put(a[1], a[2]).then(() => calls.event(id));
  };
  const sockets = await Promise.all(peers.map((p) => connect(p.port)));
  const links = sockets.map((ws) => {
    const session = floorSession('client');
    ws.on('message', (data: Buffer) => {
      const opened = session.open(data);
      if (!opened.ok) throw new Error(`floor: ${opened.reason}`);
      for (const a of unpack(opened.plaintext) as FloorAnswer[]) onAnswer(a);
    });
    return new TurnSender<FloorRequest>(session, (f) => ws.send(f), pack);
  });
  // The replicas link to each other (the coordinator's posts to the third).
  await Promise.all(links.map((link, i) => new Promise<boolean>((resolve) => link.send([9, calls.open(1, 1, resolve), peers[1 - i]!.port]))));
  const keyAt = (i: number): LmdbKey => [i % 64, 'bench', keyOf(i)];
  return {
    pids: peers.map((p) => p.child.pid!),
    write(i) {
      const key = keyAt(i);
      const coordinator = mode === 'direct' ? 0 : i % 3;
      return new Promise<void>((resolve) => {
        if (coordinator === 0) {
          // Three copies, two needed: n1's own and the first replica's acknowledgement.
          const id = calls.open(2, 3, () => resolve());
          for (const link of links) link.send([0, id, key, value]);
          void db.put(key, value).then(() => calls.event(id));
        } else {
          // Two events: n1's copy durable, and the coordinator's answer that its own copy is.
          links[coordinator - 1]!.send([2, calls.open(2, 2, () => resolve()), key, value, 1]);
        }
      });
    },
    read(i) {
      const key = keyAt(i);
      const own = db.get(key);
      return new Promise<boolean>((resolve) => {
        const id = calls.open(1, 1, (found) => resolve(found && own !== undefined));
        links[id % 2]!.send([1, id, key]);
      });
    },
    async stop() {
      for (const ws of sockets) ws.close();
      await Promise.all(peers.map((p) => endChild(p.child)));
      await root.close();
    },
  };
}
