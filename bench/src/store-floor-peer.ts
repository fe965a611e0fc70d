/**
 * A replica of the store benchmark's floor (store-floor.ts), run as a child process: one LMDB
 * environment opened as the runtime opens it, and a WebSocket server whose frames are sealed
 * with the cluster transport's session cipher (@shoal/wire `Session`: AES-256-GCM, counter
 * nonces). Requests (store-floor-wire.ts) come from n1, and posts from the other replica over a
 * link this replica opens when n1 says where it listens; answers leave in one frame per
 * connection and event-loop turn.
 *
 * Nothing else: no record decode or merge, no hash tree, no routing, no schema checks — the
 * least a replica of a durable quorum write does with the parts Shoal is built from.
 *
 * `node store-floor-peer.js DIR`; prints `{"ready":PORT}` on stdout; ends on SIGTERM or when
 * stdin closes (so it never outlives the benchmark).
 */
import { open, type Key as LmdbKey } from 'lmdb';
import { pack, unpack } from 'msgpackr';
import WebSocket, { WebSocketServer } from 'ws';
import { floorSession, TurnSender, type FloorAnswer, type FloorRequest } from './store-floor-wire.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: store-floor-peer DIR\n');
  process.exit(2);
}

const root = open({ path: dir, compression: false, maxDbs: 64 });
const db = root.openDB<Uint8Array, LmdbKey>({ name: 'ring.data' });
/** Posts to the other replica, once n1 said where it listens. */
let toOther: TurnSender<FloorRequest> | undefined;

function connectOther(port: number, done: () => void): void {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  ws.once('open', () => {
    toOther = new TurnSender<FloorRequest>(floorSession('client'), (f) => ws.send(f), pack);
    done();
  });
  ws.once('error', (err) => {
    process.stderr.write(`floor replica: cannot reach the other replica: ${err.message}\n`);
    process.exit(1);
  });
}

function handle(req: FloorRequest, answer: (a: FloorAnswer) => void): void {
  switch (req[0]) {
    case 0: {
      const id = req[1];
      return void db.put(req[2], req[3]).then(() => answer(id));
    }
    case 1:
      return answer([req[1], db.get(req[2]) ?? null]);
    case 2: {
      const [, id, key, value, third] = req;
      // n1's copy leaves at once, beside this one's commit: the best a forwarded write can do.
      answer([id, key, value]);
      if (third >= 0) toOther!.send([3, key, value]);
      return void db.put(key, value).then(() => answer(id));
    }
    case 3:
      return void db.put(req[1], req[2]);
    case 9:
      return connectOther(req[2], () => answer(req[1]));
  }
}

function serve(ws: WebSocket): void {
  const session = floorSession('server');
  const answers = new TurnSender<FloorAnswer>(session, (f) => ws.send(f), pack);
  const answer = (a: FloorAnswer): void => answers.send(a);
  ws.on('message', (data: Buffer) => {
    const opened = session.open(data);
    if (!opened.ok) throw new Error(`floor replica: ${opened.reason}`);
    for (const req of unpack(opened.plaintext) as FloorRequest[]) handle(req, answer);
  });
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', serve);
server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ ready: address !== null && typeof address === 'object' ? address.port : 0 })}\n`);
});

const end = (): void => {
  server.close();
  void root.close().finally(() => process.exit(0));
};
process.once('SIGTERM', end);
process.stdin.on('end', end);
process.stdin.resume();
