/**
 * @shoal/actors — Shoal's actor runtime: nact's programming model on an engine built for a
 * cluster.
 *
 * The model is nact's, so a behaviour written for nact runs unchanged: functional behaviours
 * `(state, msg, ctx) => nextState` (sync or async), `spawn`/`spawnStateless` under a parent,
 * `dispatch`, `query` with a timeout, `stop`, a parent/child hierarchy, and `onCrash`
 * supervision returning nact's decisions. The engine is Shoal's:
 * - bounded mailboxes (ring buffers), drained in batches from one run queue per system on
 *   `clock.defer` turns with a message budget; O(1) per message whatever the tree's size;
 * - dead letters instead of silent loss, counted and observable;
 * - Erlang-style restart intensity and backoff as the default supervision;
 * - node-qualified refs, monitors, and a seam (`RemoteRouter`) for sending, querying and
 *   monitoring actors on other nodes through the same calls as local ones.
 *
 * See README.md for the invariants, the limits and the differences from nact.
 */
export { start, spawn, spawnStateless, dispatch, query, stop, monitor, demonitor, systemOf } from './api.js';
export { ActorSystem, type SystemStats } from './system.js';
export { ActorRef, sameRef, isActorRef, refFromJSON, type RefJSON } from './ref.js';
export { ActorPath, type ActorContext, type StopContext, type SupervisionContext, type MailboxEntry } from './context.js';
export type { ActorProps, StatelessActorProps, Behaviour, StatelessBehaviour, CrashHandler } from './props.js';
export { decisions, decisionKind, defaultRestartPolicy, planRestart, restartDelayMs, type Decision, type DecisionKind, type RestartPolicy, type RestartPlan } from './supervision.js';
export { defaultConfig, type StartOptions, type SystemConfig } from './config.js';
export { DeadLetters, deadLetterReasons, type DeadLetter, type DeadLetterReason, type DeadLetterListener } from './dead-letters.js';
export { isDownMessage, type DownMessage, type DownReason } from './monitors.js';
export { isUndeliverableNotice, type UndeliverableNotice } from './queries.js';
export { encodeRefs, decodeRefs, refTag, messageDepthMax, type RemoteRouter } from './remote.js';
export { LoopbackNetwork, linkSystems, type LoopbackOptions } from './loopback.js';
export { nameLengthMax, depthMax } from './names.js';
export * from './errors.js';
export * from './time.js';
export * from './net/index.js';
