// Measures the batch path: ~100-byte actor-style messages, 1,000 per batch frame, encoded and
// decoded on one core. Run directly (`node packages/wire/dist/test/throughput-main.js`) or by
// throughput.test.ts, which starts it as a plain Node process: tap's process-info hook slows
// hot loops several times and would make the figure meaningless. Prints one JSON line.
import { Registry, s, WireCodec, actorRefSchema, batchItem, ActorBatch, ActorSends, shoalRegistry } from '@shoal/wire';
import type { BatchItem } from '@shoal/wire';

const registry = new Registry();
const Tell = registry.define({
  id: 101,
  name: 'bench.tell',
  schema: s.object({ to: actorRefSchema, from: s.optional(actorRefSchema), body: s.any() }),
});

function tell(i: number) {
  return {
    to: { node: 'node-12', path: ['user', `vm-${i % 1000}`] },
    from: { node: 'node-3', path: ['user', 'sched'] },
    body: { op: 'set', key: `k${i}`, value: i * 3, seq: i },
  };
}

/** Best rate of three runs, in operations per second. */
function best(operations: number, fn: () => void): number {
  let rate = 0;
  for (let run = 0; run < 4; run++) {
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    if (run > 0) rate = Math.max(rate, operations / (ms / 1000));
  }
  return rate;
}

const batchSize = 1000;
const rounds = 300;
const codec = new WireCodec(registry);
const items: BatchItem[] = Array.from({ length: batchSize }, (_, i) => batchItem(Tell, tell(i)));
const frame = codec.encodeBatch(items);
const encodeBatch = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) codec.encodeBatch(items);
});
const decodeBatch = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) if (!codec.decodeBatch(frame).ok) throw new Error('rejected');
});

// The same messages as one actor.sends body — what link protocol v2 sends: each distinct ref
// once in `refs`, then (target index, sender index, body) per message.
const shoal = new WireCodec(shoalRegistry);
const refs: { node: string; path: string[] }[] = [];
const refIndex = new Map<string, number>();
const indexOf = (ref: { node: string; path: string[] }): number => {
  const k = `${ref.node}/${ref.path.join('/')}`;
  let i = refIndex.get(k);
  if (i === undefined) refIndex.set(k, (i = refs.push(ref) - 1));
  return i;
};
const sendsItems: unknown[] = [];
for (let i = 0; i < batchSize; i++) {
  const m = tell(i);
  sendsItems.push(indexOf(m.to), indexOf(m.from), m.body);
}
const sendsBody = { refs, items: sendsItems };
const sendsFrame = shoal.encodeBatch([batchItem(ActorSends, sendsBody)]);
const encodeSends = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) shoal.encodeBatch([batchItem(ActorSends, sendsBody)]);
});
const decodeSends = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) if (!shoal.decodeBatch(sendsFrame).ok) throw new Error('rejected');
});

// The same messages as one actor.batch envelope (link protocol v1: a ref pair per message).
const envelope = { items: Array.from({ length: batchSize }, (_, i) => tell(i)) };
const envelopeFrame = shoal.encode(ActorBatch, envelope);
const encodeEnvelope = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) shoal.encode(ActorBatch, envelope);
});
const decodeEnvelope = best(rounds * batchSize, () => {
  for (let r = 0; r < rounds; r++) if (!shoal.decode(envelopeFrame).ok) throw new Error('rejected');
});

const single = codec.encode(Tell, tell(1));
const singles = 200_000;
const encodeSingle = best(singles, () => {
  for (let i = 0; i < singles; i++) codec.encode(Tell, tell(1));
});
const decodeSingle = best(singles, () => {
  for (let i = 0; i < singles; i++) codec.decode(single);
});

console.log(
  JSON.stringify({
    bytesPerMessage: (frame.length - 3) / batchSize,
    batchSize,
    encodeBatch,
    decodeBatch,
    encodeEnvelope,
    decodeEnvelope,
    encodeSends,
    decodeSends,
    sendsBytesPerMessage: sendsFrame.length / batchSize,
    singleFrameBytes: single.length,
    encodeSingle,
    decodeSingle,
  }),
);
