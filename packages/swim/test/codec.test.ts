// SWIM on the wire: limits, the packet budget with maximal metadata, and
// decoders that never throw.
import t from 'tap';
import { seededRandom } from '@shoal/runtime';
import { Keyring, seal, sealOverheadBytes } from '@shoal/wire';
import {
  addressPattern,
  aliveBytesMax,
  packetBytesMin,
  packetOverheadBytes,
  PacketIO,
  pushPullBytesMax,
  SwimCodec,
  SwimCore,
  swimConfig,
  type MemberMeta,
  type MemberSnapshot,
  type SwimMessage,
} from '@shoal/swim';

t.test('addresses: host:port with a real port', async (t) => {
  for (const ok of ['127.0.0.1:7946', 'node-1.example.org:1', '[::1]:65535', 'a:80']) t.ok(addressPattern.test(ok), ok);
  for (const bad of ['127.0.0.1', ':80', 'host:0', 'host:65536', 'host:080', 'a b:1', '[::1]', '-a:1', 'host:1:2']) t.notOk(addressPattern.test(bad), bad);
});

const x = (n: number, c = 'x'): string => c.repeat(n);

/** The largest metadata the schema allows. */
export function maximalMeta(): MemberMeta {
  const addr = (d: string): string => `${x(58, d)}:65535`;
  const tags: Record<string, string> = {};
  for (let i = 0; i < 8; i++) tags[`${i}${x(15, 'k')}`] = x(40, 'v');
  return { role: 'agent', version: x(32, 'V'), addresses: { gossip: addr('g'), cluster: addr('c'), http: addr('h') }, tags };
}

t.test('the largest alive and the largest probe message fit one packet of packetBytesMin', async (t) => {
  const codec = new SwimCodec(1400 - sealOverheadBytes);
  const alive: SwimMessage = { t: 'alive', name: x(64, 'n'), inc: Number.MAX_SAFE_INTEGER, meta: maximalMeta() };
  const pingReq: SwimMessage = { t: 'ping-req', seq: 0xffff_ffff, target: x(64, 't'), targetAddr: `${x(58)}:65535`, from: x(64, 'f'), nack: true };
  const aliveBytes = codec.measure(alive);
  t.ok(aliveBytes - 2 <= aliveBytesMax, `maximal alive body ${aliveBytes - 2} ≤ aliveBytesMax ${aliveBytesMax}`);
  const worst = packetOverheadBytes + aliveBytes + codec.measure(pingReq);
  t.ok(worst <= packetBytesMin, `worst packet ${worst} bytes ≤ packetBytesMin ${packetBytesMin}`);
  const sealed = seal(new Keyring([seededRandom(1).bytes(32)]), 'c', codec.encodePacket([pingReq, alive]), seededRandom(2));
  t.ok(sealed.length <= worst, `real sealed size ${sealed.length} within the computed bound`);
});

t.test('the core never builds a packet over packetBytesMax, with maximal metadata everywhere', async (t) => {
  const config = swimConfig('lan');
  const random = seededRandom(3);
  const io = new PacketIO({ keyring: new Keyring([random.bytes(32)]), cluster: 'c', random, packetBytesMax: config.packetBytesMax, membersMax: config.membersMax });
  const core = new SwimCore({ config, name: 'self', meta: maximalMeta(), random, measure: (m) => io.codec.measure(m), packetOverheadBytes, nowMs: 0 });
  const news: SwimMessage[] = [];
  for (let i = 0; i < 60; i++) news.push({ t: 'alive', name: `${x(60, 'm')}${String(i).padStart(4, '0')}`, inc: 1, meta: { ...maximalMeta(), addresses: { ...maximalMeta().addresses, gossip: `10.0.0.${i + 1}:7946` } } });
  let packets = 0;
  let largest = 0;
  const check = (effects: ReturnType<SwimCore['tick']>): void => {
    for (const e of effects) {
      if (e.kind !== 'send') continue;
      const bytes = io.sealPacket(e.messages); // throws PacketTooLargeError if over
      packets++;
      largest = Math.max(largest, bytes.length);
    }
  };
  check(core.receive('10.0.0.1:7946', news, 1));
  for (let now = 2; now < 20_000; now += 50) {
    check(core.tick(now));
    check(core.receive('10.0.0.2:7946', [{ t: 'ping', seq: now, target: 'self', from: 'other' }], now));
  }
  t.ok(packets > 100, `${packets} packets built`);
  t.ok(largest <= config.packetBytesMax && largest > config.packetBytesMax - 900, `largest ${largest} bytes: filled, never over ${config.packetBytesMax}`);
});

t.test('push-pull: size limit derived from membersMax; more members than membersMax refused', async (t) => {
  const random = seededRandom(4);
  const keyring = new Keyring([random.bytes(32)]);
  const io = new PacketIO({ keyring, cluster: 'c', random, packetBytesMax: 1400, membersMax: 100 });
  const member = (i: number): MemberSnapshot => ({ name: `${x(60, 'm')}${String(i).padStart(4, '0')}`, inc: Number.MAX_SAFE_INTEGER, state: 'suspect', meta: maximalMeta() });
  const full = Array.from({ length: 100 }, (_, i) => member(i));
  const frame = io.sealPushPull('self', full, { join: true, reply: false });
  t.ok(frame.length <= io.frameBytesMax, `100 maximal members: ${frame.length} ≤ ${io.frameBytesMax} (pushPullBytesMax(100) = ${pushPullBytesMax(100)})`);
  const opened = io.openPushPull(frame);
  t.ok(opened.ok && opened.value.members.length === 100 && opened.value.join, 'decodes');
  const tooMany = io.openPushPull(io.sealPushPull('self', [...full, member(100)], { join: false, reply: true }));
  t.ok(!tooMany.ok && tooMany.reason === 'oversize', 'one more than membersMax is refused');
  const other = new PacketIO({ keyring: new Keyring([random.bytes(32)]), cluster: 'c', random, packetBytesMax: 1400, membersMax: 100 });
  const wrongKey = other.openPushPull(frame);
  t.ok(!wrongKey.ok && wrongKey.reason === 'auth', 'another key cannot open it');
});

t.test('decoders never throw, whatever the bytes', async (t) => {
  const random = seededRandom(5);
  const keyring = new Keyring([random.bytes(32)]);
  const io = new PacketIO({ keyring, cluster: 'c', random, packetBytesMax: 1400, membersMax: 100 });
  const codec = io.codec;
  const valid = codec.encodePacket([{ t: 'suspect', name: 'a', inc: 3, from: 'b' }, { t: 'ack', seq: 9 }]);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = i % 2 === 0 ? random.bytes(random.int(200)) : Uint8Array.from(valid);
    if (i % 2 === 1) for (let k = 0; k <= random.int(3); k++) b[random.int(b.length)] = random.int(256);
    if (codec.decodePacket(b).ok) accepted++;
    codec.decodePushPull(b);
    io.openPacket(seal(keyring, 'c', b, random));
    io.openPushPull(b);
  }
  t.pass(`20,000 hostile inputs through four decoders, none threw (${accepted} mutations still decoded)`);
});
