/**
 * Transport compliance: what every `Transport` must do (see src/transport.ts for the contract).
 *
 * Datagrams: bind on port 0 gets a real port, packets arrive whole with the sender's bound
 * address, replies reach the sender, an oversize packet (past UDP's 65 507 bytes) is dropped
 * without throwing, send after close is a no-op. Streams: connect/accept, frames whole and in
 * order in both directions, frames and a close that arrive before `attach` are buffered, close
 * seen by both sides, send after close throws StreamClosedError, an oversize frame closes the
 * stream, closing a listener closes its streams and refuses new ones, connecting to nothing or
 * with an aborted signal rejects with ConnectError, bufferedBytes drains, pause holds frames
 * in order and resume delivers them.
 *
 * The harness supplies two transports on distinct hosts (or the same loopback host) and three
 * ways to wait — for a promise, for a condition, for a while — so that the simulator can run
 * its clock where a real transport just waits.
 */
import type { Test } from 'tap';
import { ConnectError, StreamClosedError, type Address, type Stream, type StreamListener, type Transport } from '../../src/index.js';

export interface TransportPeer {
  transport: Transport;
  /** The host this peer binds and listens on. */
  host: string;
}

export interface TransportHarness {
  a: TransportPeer;
  b: TransportPeer;
  /** An address of b's host where nothing listens for streams. */
  nowhere: Address;
  settle<T>(promise: Promise<T>): Promise<T>;
  waitFor(done: () => boolean, what: string): Promise<void>;
  idle(ms: number): Promise<void>;
  cleanup?(): Promise<void>;
}

export type MakeTransportPair = () => Promise<TransportHarness>;

const frameMax = 1024 * 1024;

/** Collects what a stream delivers. */
class Sink {
  frames: Uint8Array[] = [];
  closed: string | undefined;
  drains = 0;

  attachTo(stream: Stream): this {
    stream.attach({
      onFrame: (f) => this.frames.push(f),
      onClose: (reason) => {
        if (this.closed !== undefined) throw new Error('onClose called twice');
        this.closed = reason;
      },
      onDrain: () => this.drains++,
    });
    return this;
  }
}

function frame(i: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  for (let k = 0; k < size; k++) f[k] = (i * 31 + k) & 0xff;
  return f;
}

interface Connected {
  h: TransportHarness;
  listener: StreamListener;
  client: Stream;
  server: Stream;
}

async function connectPair(h: TransportHarness, listenFrameMax = frameMax): Promise<Connected> {
  const accepted: Stream[] = [];
  const listener = await h.settle(h.b.transport.listenStreams(`${h.b.host}:0`, (s) => accepted.push(s), { maxFrameBytes: listenFrameMax }));
  const client = await h.settle(h.a.transport.connectStream(listener.local, { maxFrameBytes: frameMax }));
  await h.waitFor(() => accepted.length === 1, 'the server accepting');
  return { h, listener, client, server: accepted[0] as Stream };
}

async function withPair(make: MakeTransportPair, fn: (h: TransportHarness) => Promise<void>): Promise<void> {
  const h = await make();
  try {
    await fn(h);
  } finally {
    await h.cleanup?.();
  }
}

const transportCases: Record<string, (t: Test, make: MakeTransportPair) => Promise<void>> = {
  'datagrams: bind, send, receive, reply, oversize, close': (t, make) => withPair(make, async (h) => {
    const atB: { data: Uint8Array; from: Address }[] = [];
    const atA: Uint8Array[] = [];
    const a = await h.settle(h.a.transport.bindDatagram(`${h.a.host}:0`, (data) => atA.push(data)));
    const b = await h.settle(h.b.transport.bindDatagram(`${h.b.host}:0`, (data, from) => atB.push({ data, from })));
    t.not(a.local.endsWith(':0'), true, `port 0 gives a real port (${a.local})`);
    for (let i = 0; i < 3; i++) a.send(b.local, frame(i, 100 + i));
    await h.waitFor(() => atB.length === 3, 'three datagrams at b');
    t.same(atB.map((d) => d.data.byteLength).sort(), [100, 101, 102], 'payloads arrive whole');
    t.ok(atB.every((d) => d.from === a.local), 'the sender address is its bound address');
    b.send(atB[0]!.from, new Uint8Array([42]));
    await h.waitFor(() => atA.length === 1, 'the reply at a');
    t.same([...atA[0]!], [42]);
    t.doesNotThrow(() => a.send(b.local, new Uint8Array(70_000)), 'an oversize datagram does not throw');
    a.send(b.local, new Uint8Array([7]));
    await h.waitFor(() => atB.length === 4, 'the datagram after the oversize one');
    await h.idle(50);
    t.same(atB.map((d) => d.data.byteLength).slice(3), [1], 'the oversize datagram was dropped');
    await h.settle(a.close());
    t.doesNotThrow(() => a.send(b.local, new Uint8Array(1)), 'send after close does not throw');
    await h.settle(b.close());
  }),

  'streams: connect, frames in order both ways, close seen by both': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h);
    t.equal(client.remote, listener.local, "the client's remote is the address it connected to");
    const atServer = new Sink().attachTo(server);
    const atClient = new Sink().attachTo(client);
    const sizes = [0, 1, 7, 1000, 64 * 1024, 3, 200_000, 2];
    for (let i = 0; i < 40; i++) client.send(frame(i, sizes[i % sizes.length] as number));
    for (let i = 0; i < 40; i++) server.send(frame(i + 100, sizes[(i + 3) % sizes.length] as number));
    await h.waitFor(() => atServer.frames.length === 40 && atClient.frames.length === 40, 'all frames');
    t.ok(atServer.frames.every((f, i) => Buffer.from(f).equals(frame(i, sizes[i % sizes.length] as number))), 'client to server: whole and in order');
    t.ok(atClient.frames.every((f, i) => Buffer.from(f).equals(frame(i + 100, sizes[(i + 3) % sizes.length] as number))), 'server to client: whole and in order');
    await h.waitFor(() => client.bufferedBytes() === 0 && atClient.drains > 0, 'the client drained');
    t.pass('bufferedBytes returns to 0 and onDrain fires');
    client.close('done here');
    t.equal(client.closed, true, 'closed at once on the closing side');
    t.equal(atClient.closed, 'done here', 'the closing side gets onClose with its reason');
    t.throws(() => client.send(new Uint8Array(1)), StreamClosedError, 'send after close throws StreamClosedError');
    t.doesNotThrow(() => client.close(), 'close is idempotent');
    await h.waitFor(() => atServer.closed !== undefined, 'the server seeing the close');
    t.equal(server.closed, true, 'the far side is closed too');
    t.throws(() => server.send(new Uint8Array(1)), StreamClosedError, 'and cannot send');
    await h.settle(listener.close());
  }),

  'streams: the accepting side can close too': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h);
    const atClient = new Sink().attachTo(client);
    new Sink().attachTo(server);
    server.send(frame(1, 10));
    server.close();
    await h.waitFor(() => atClient.closed !== undefined, 'the client seeing the close');
    t.equal(atClient.frames.length, 1, 'a frame sent before close arrives before the close');
    await h.settle(listener.close());
  }),

  'streams: frames and close before attach are buffered': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h);
    for (let i = 0; i < 5; i++) client.send(frame(i, 10 + i));
    await h.idle(100);
    const atServer = new Sink().attachTo(server);
    t.same(atServer.frames.map((f) => f.byteLength), [10, 11, 12, 13, 14], 'early frames delivered in order at attach');
    client.send(frame(9, 9));
    client.close();
    await h.waitFor(() => atServer.closed !== undefined, 'the close');
    t.equal(atServer.frames.length, 6, 'the last frame arrived before the close');
    const late = await connectPair(h);
    late.client.send(frame(1, 5));
    late.client.close();
    await h.idle(100);
    const sink = new Sink().attachTo(late.server);
    t.equal(sink.frames.length, 1, 'frames that arrived before a close are kept');
    t.not(sink.closed, undefined, 'and the close follows them at attach');
    await h.settle(late.listener.close());
    await h.settle(listener.close());
  }),

  'streams: pause holds frames in order, resume delivers them and a close that came meanwhile': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h);
    const atServer = new Sink().attachTo(server);
    client.send(frame(0, 10));
    await h.waitFor(() => atServer.frames.length === 1, 'the first frame');
    server.pause();
    for (let i = 1; i < 6; i++) client.send(frame(i, 10 + i));
    await h.idle(100);
    t.equal(atServer.frames.length, 1, 'nothing is delivered while paused');
    server.resume();
    await h.waitFor(() => atServer.frames.length === 6, 'the held frames');
    t.same(atServer.frames.map((f) => f.byteLength), [10, 11, 12, 13, 14, 15], 'in order, none lost');
    server.pause();
    client.send(frame(7, 7));
    client.close();
    await h.idle(100);
    server.resume();
    await h.waitFor(() => atServer.closed !== undefined, 'the close after resume');
    t.equal(atServer.frames.length, 7, 'frames before the close are delivered first');
    await h.settle(listener.close());
  }),

  'streams: an oversize frame closes the stream': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h, 1024);
    const atServer = new Sink().attachTo(server);
    const atClient = new Sink().attachTo(client);
    client.send(frame(1, 1024));
    client.send(frame(2, 4096));
    await h.waitFor(() => atServer.closed !== undefined && atClient.closed !== undefined, 'both sides closing');
    t.same(atServer.frames.map((f) => f.byteLength), [1024], 'a frame at the limit passes; the one over it is not delivered');
    await h.settle(listener.close());
  }),

  'streams: closing a listener closes its streams and refuses new ones': (t, make) => withPair(make, async (h) => {
    const { listener, client, server } = await connectPair(h);
    const atClient = new Sink().attachTo(client);
    new Sink().attachTo(server);
    await h.settle(listener.close());
    await h.waitFor(() => atClient.closed !== undefined, 'the client seeing the close');
    await t.rejects(h.settle(h.a.transport.connectStream(listener.local, { maxFrameBytes: frameMax })), ConnectError, 'no one listens any more');
  }),

  'connect to nothing, or with an aborted signal, rejects with ConnectError': (t, make) => withPair(make, async (h) => {
    await t.rejects(h.settle(h.a.transport.connectStream(h.nowhere, { maxFrameBytes: frameMax, timeoutMs: 2000 })), ConnectError, 'nothing listening');
    const ctl = new AbortController();
    ctl.abort();
    await t.rejects(h.settle(h.a.transport.connectStream(h.nowhere, { maxFrameBytes: frameMax, signal: ctl.signal })), ConnectError, 'aborted');
  }),
};

export function transportCompliance(t: Test, make: MakeTransportPair): void {
  for (const [name, run] of Object.entries(transportCases)) t.test(name, (t) => run(t, make));
}
