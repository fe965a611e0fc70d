// Length-prefixed TCP streams (tcp-stream.ts) against a raw socket that writes bytes in awkward
// pieces: a header split across reads, several frames in one read, a frame announced over the
// limit, and garbage such as an HTTP request (a peer speaking the wrong framing) — each either
// framed exactly or closed with a reason, never a crash.
import net from 'node:net';
import t from 'tap';
import { nodeTransport, type Stream } from '@shoal/runtime';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function withListener(maxFrameBytes: number, body: (port: number, accepted: { frames: Uint8Array[]; closed: string | undefined }[]) => Promise<void>): Promise<void> {
  const accepted: { frames: Uint8Array[]; closed: string | undefined }[] = [];
  const listener = await nodeTransport().listenStreams(
    '127.0.0.1:0',
    (s: Stream) => {
      const sink = { frames: [] as Uint8Array[], closed: undefined as string | undefined };
      accepted.push(sink);
      s.attach({ onFrame: (f) => sink.frames.push(f), onClose: (r) => (sink.closed = r) });
    },
    { maxFrameBytes, framing: 'tcp' },
  );
  try {
    await body(Number(listener.local.split(':')[1]), accepted);
  } finally {
    await listener.close();
  }
}

function raw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(5);
}

function framed(...frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(f.byteLength, 0);
    return [h, Buffer.from(f)];
  }));
}

t.test('frames are cut exactly, whatever pieces the bytes arrive in', async (t) => {
  await withListener(1024, async (port, accepted) => {
    const s = await raw(port);
    const bytes = framed(Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(700).fill(9), Uint8Array.of(4));
    for (let i = 0; i < bytes.length; i += 3) {
      s.write(bytes.subarray(i, i + 3)); // headers and frames split across reads
      if (i % 30 === 0) await sleep(1);
    }
    s.write(framed(Uint8Array.of(5), Uint8Array.of(6, 7))); // two frames in one write
    await until(() => (accepted[0]?.frames.length ?? 0) >= 6);
    t.same(accepted[0]!.frames.map((f) => Array.from(f.subarray(0, 3))), [[1, 2, 3], [], [9, 9, 9], [4], [5], [6, 7]]);
    t.equal(accepted[0]!.frames[2]!.byteLength, 700);
    s.end();
    await until(() => accepted[0]!.closed !== undefined);
    t.equal(accepted[0]!.closed, 'closed by the peer');
  });
});

t.test('a frame announced over the limit closes the stream; an HTTP request (the other framing) too', async (t) => {
  await withListener(1024, async (port, accepted) => {
    const s = await raw(port);
    const ended = new Promise<void>((resolve) => s.once('close', () => resolve()));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    s.write(header);
    await until(() => accepted[0]?.closed !== undefined);
    t.equal(accepted[0]!.closed, 'frame of 1025 bytes over the 1024-byte limit');
    t.same(accepted[0]!.frames, []);
    await ended;
    t.pass('the connection was closed on the sender');
    const h = await raw(port);
    h.on('error', () => undefined);
    h.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => accepted[1]?.closed !== undefined);
    t.match(accepted[1]!.closed, /^frame of \d+ bytes over the 1024-byte limit$/);
    h.destroy();
  });
});

t.test('a frame cut off by the peer is dropped, not delivered in part', async (t) => {
  await withListener(1024, async (port, accepted) => {
    const s = await raw(port);
    s.end(framed(new Uint8Array(100).fill(1)).subarray(0, 50));
    await until(() => accepted[0]?.closed !== undefined);
    t.same(accepted[0]!.frames, []);
    t.equal(accepted[0]!.closed, 'closed by the peer');
  });
});
