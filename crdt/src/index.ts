/**
 * @shoal/crdt — Shoal's replicated entity state: delta-state CRDTs, typed entity records and
 * Automerge metadata documents. Pure: no clock (wall time is an argument), no randomness, no
 * I/O, and nothing of ours as a dependency.
 *
 * - hlc.ts: hybrid logical clock (Kulkarni et al. 2014) with a drift bound;
 * - causal.ts, dotstore.ts: dots, causal contexts (version vector + dot cloud) and dot stores
 *   (Almeida, Shoker, Baquero 2018);
 * - lww.ts, mvreg.ts, orswot.ts, pncounter.ts, ormap.ts: the CRDTs, each with `empty`,
 *   operations returning `{ state, delta }`, `merge`, `value`, `equals`, `toWire`/`fromWire`;
 * - kind.ts, store.ts, ops.ts, field.ts: schema kinds, embedded stores and their operations;
 * - record.ts: typed entity records with final deletion (tombstones);
 * - metadata.ts: free-form JSON metadata as Automerge documents stored as bytes — imported
 *   separately (`@shoal/crdt/metadata`) because loading Automerge costs ~25 MB and ~46 ms;
 * - codec.ts: msgpackr bytes for the wire encodings; limits.ts: every bound.
 */
export * from './errors.js';
export { crdtLimits } from './limits.js';
export type { CrdtLimits } from './limits.js';
export { plainCompare, plainEquals, valueProblem } from './plain.js';
export type { CheckedType, Plain, ValueCheck } from './plain.js';
export * as hlc from './hlc.js';
export type { Hlc, HlcReceiveResult } from './hlc.js';
export * as causal from './causal.js';
export type { CausalContext, CausalContextWire, Dot } from './causal.js';
export type { DotEntry, DotFun, DotMap, DotSet } from './dotstore.js';
export * as lww from './lww.js';
export type { Lww, LwwDelta, LwwWire } from './lww.js';
export * as mvreg from './mvreg.js';
export type { MvDelta, MvReg, MvRegWire } from './mvreg.js';
export * as orswot from './orswot.js';
export type { Orswot, OrswotDelta, OrswotWire } from './orswot.js';
export * as pncounter from './pncounter.js';
export type { PnCounter, PnCounterWire, PnDelta, PnParts } from './pncounter.js';
export * as ormap from './ormap.js';
export type { OrMap, OrMapDelta, OrMapWire } from './ormap.js';
export { kind } from './kind.js';
export type { AnyMapKind, CounterKind, Fields, Kind, LwwKind, MapKind, MapOp, MvKind, OpOf, PlainOf, SetKind, SetOp, StructKind, StructOp } from './kind.js';
export type { OpContext } from './store.js';
export type { FieldState } from './field.js';
export * as record from './record.js';
export { defineRecord } from './record.js';
export type { EntityRecord, FieldOps, RecordDelta, RecordPlain, RecordSchema, RecordWire } from './record.js';
export { decodeWire, encodeWire } from './codec.js';
