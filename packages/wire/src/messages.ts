/**
 * Shoal's message types: the one append-only registry (`shoalRegistry`).
 *
 * Id ranges by subsystem (an id is never reused or renamed; append new ids at the end of the
 * owning range and add them to test/fixtures/registry.json):
 *
 *     0          batch frame marker (codec.ts), never a message type
 *     1 – 99     transport: stream handshake, transport control
 *     100 – 199  actors: remote dispatch, query, monitors
 *     200 – 399  swim: membership, gossip, push-pull
 *     400 – 599  ring: ownership, handoff, anti-entropy, coverage, IP register
 *     600 – 699  agent: hypervisor agent requests and events
 *     700 – 999  api / cluster control
 *     1000 –     unassigned
 *
 * Schemas may evolve compatibly (new optional fields); a change that an older peer would reject
 * needs a new id.
 */
import type { WireLimits } from './limits.js';
import { Registry } from './registry.js';
import { s } from './schema.js';
import type { Infer } from './schema.js';

export const shoalRegistry = new Registry();

/** A cluster name: also the additional authenticated data of every sealed packet. */
export const clusterNameSchema = s.string({ bytesMin: 1, bytesMax: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ });
/** A node name as gossiped by SWIM (`name` of `shoal node start --name`). */
export const nodeNameSchema = s.string({ bytesMin: 1, bytesMax: 128 });
export const nonceBytes = 32;
export const proofBytes = 32;

/** Handshake messages are tiny: a peer that sends more is not speaking the protocol. */
const handshakeLimits: Partial<WireLimits> = {
  frameBytesMax: 512,
  depthMax: 1,
  stringBytesMax: 128,
  binBytesMax: 32,
  mapSizeMax: 8,
  arrayLengthMax: 8,
  elementsMax: 32,
};

// ---- 1–99: transport ---------------------------------------------------------------------

/** Client → server, sealed with the client's primary key: who I am, and my fresh nonce. */
export const HandshakeHello = shoalRegistry.define({
  id: 1,
  name: 'handshake.hello',
  schema: s.object({
    v: s.uint({ max: 255 }),
    cluster: clusterNameSchema,
    node: nodeNameSchema,
    nonce: s.bytes({ length: nonceBytes }),
  }),
  limits: handshakeLimits,
});

/** Server → client, sealed with the key that opened the hello: my nonce and my proof. */
export const HandshakeChallenge = shoalRegistry.define({
  id: 2,
  name: 'handshake.challenge',
  schema: s.object({
    node: nodeNameSchema,
    nonce: s.bytes({ length: nonceBytes }),
    proof: s.bytes({ length: proofBytes }),
  }),
  limits: handshakeLimits,
});

/** Client → server: my proof, covering the server's nonce (so a replayed hello cannot finish). */
export const HandshakeResponse = shoalRegistry.define({
  id: 3,
  name: 'handshake.response',
  schema: s.object({ proof: s.bytes({ length: proofBytes }) }),
  limits: handshakeLimits,
});

// ---- 100–199: actors ---------------------------------------------------------------------

/**
 * An actor reference on the wire, the serialisable form of the actors package's `ActorRef`
 * (`RefJSON`): the node hosting the actor and the path of names from that node's root. Bounds
 * follow packages/actors/src/names.ts (names of at most 128 characters, paths of at most 64).
 */
export const actorPathSegmentSchema = s.string({ bytesMin: 1, bytesMax: 512, charsMax: 128 });
export const actorRefSchema = s.object({
  node: nodeNameSchema,
  path: s.array(actorPathSegmentSchema, { lengthMax: 64 }),
});
export type ActorRefWire = Infer<typeof actorRefSchema>;

export const actorBatchItemsMax = 4096;

/** Many actor messages to actors on one node: `body` is any msgpack value, bounded by limits. */
export const ActorBatch = shoalRegistry.define({
  id: 100,
  name: 'actor.batch',
  schema: s.object({
    items: s.array(
      s.object({
        to: actorRefSchema,
        from: s.optional(actorRefSchema),
        body: s.any(),
      }),
      { lengthMax: actorBatchItemsMax },
    ),
  }),
});

/** Monitor id as the actors package issues them (a positive safe integer). */
const monitorIdSchema = s.uint({ min: 1 });

/** Ask the target's node to watch `target` for `watcher` (answered by a `shoal.down` message). */
export const ActorMonitor = shoalRegistry.define({
  id: 101,
  name: 'actor.monitor',
  schema: s.object({ watcher: actorRefSchema, target: actorRefSchema, id: monitorIdSchema }),
});

/** Cancel an `actor.monitor`. */
export const ActorDemonitor = shoalRegistry.define({
  id: 102,
  name: 'actor.demonitor',
  schema: s.object({ watcher: actorRefSchema, target: actorRefSchema, id: monitorIdSchema }),
});

// ---- 10–19: links (an authenticated stream between two nodes) -------------------------------

/** A process's incarnation: random, fixed for the life of the process. */
export const incarnationSchema = s.string({ bytesMin: 8, bytesMax: 32, pattern: /^[0-9a-f]+$/ });

const linkLimits: Partial<WireLimits> = { frameBytesMax: 256, depthMax: 1, stringBytesMax: 64, mapSizeMax: 4, elementsMax: 16 };

/**
 * Client → server, the first frame of the session: "use this stream as our link". The server
 * answers `link-accept` or `link-refuse`; the client sends nothing else before the answer.
 */
export const LinkOpen = shoalRegistry.define({
  id: 10,
  name: 'transport.link-open',
  schema: s.object({ v: s.uint({ max: 255 }), incarnation: incarnationSchema }),
  limits: linkLimits,
});

export const LinkAccept = shoalRegistry.define({
  id: 11,
  name: 'transport.link-accept',
  schema: s.object({ incarnation: incarnationSchema }),
  limits: linkLimits,
});

/** Why a link was refused: `duplicate` = a link between the two nodes exists or is being made by the other side. */
export const LinkRefuse = shoalRegistry.define({
  id: 12,
  name: 'transport.link-refuse',
  schema: s.object({ reason: s.enum(['duplicate', 'shutting-down', 'version']) }),
  limits: linkLimits,
});
