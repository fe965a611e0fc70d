/**
 * @shoal/wire — everything that turns Shoal's messages into bytes for another node, and back.
 *
 * - schema.ts: validators with inferred types (`s.object(…)`, `Infer<typeof x>`);
 * - limits.ts, scan.ts, msgpack.ts: bounded msgpack — a linear scanner proves raw bytes safe
 *   before a safely configured msgpackr decodes them;
 * - registry.ts, messages.ts: the append-only registry of numbered message types;
 * - codec.ts: `[id, body]` frames and batch frames, decoders that return a message or a reason
 *   and never throw, with per-category rejection counters (stats.ts);
 * - keyring.ts, seal.ts: the cluster keyring and AES-256-GCM sealed packets (SWIM);
 * - handshake.ts, session.ts: mutual challenge–response over a stream, then per-direction
 *   session keys with counter nonces.
 *
 * Nothing here does I/O or reads a clock; randomness comes from an injected `Random`.
 */
export * from './errors.js';
export * from './stats.js';
export * from './limits.js';
export { Scanner } from './scan.js';
export * from './schema.js';
export * from './registry.js';
export * from './codec.js';
export * from './messages.js';
export * from './keyring.js';
export { open, openWithKey, seal, sealWithKey, sealVersion, sealNonceBytes, sealTagBytes, sealOverheadBytes, sealedBytesMaxDefault } from './seal.js';
export type { OpenOptions, OpenResult } from './seal.js';
export * from './session.js';
export * from './handshake.js';
