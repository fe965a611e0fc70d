/**
 * Stream handshake: a connection between two nodes carries traffic only after both proved that
 * they hold a cluster key, and both derived fresh session keys (session.ts).
 *
 *   1. client → server  hello { v: 1, cluster, node, nonce_c }     sealed with the client's primary
 *   2. server → client  challenge { node, nonce_s, proof_s }       sealed with K, the key that opened 1
 *   3. client → server  response { proof_c }                       sealed with K
 *
 *   proof_s = HMAC-SHA256(K, "shoal/server" ‖ cluster ‖ clientNode ‖ serverNode ‖ nonce_c ‖ nonce_s)
 *   proof_c = HMAC-SHA256(K, "shoal/client" ‖ …the same fields…)
 *   each field prefixed by its length (u32, big-endian), so field boundaries are unambiguous.
 *
 * Why each step: opening the hello proves nothing (anyone can replay a captured hello), so the
 * server answers with its own fresh nonce and a proof; the client checks the server's proof
 * (mutual authentication) and proves itself over the server's nonce, so a replayed hello can
 * never complete. The labels differ per side, so no proof can be reflected back. Proofs are
 * compared in constant time. Both sides then derive the session keys from K and both nonces.
 * The client may use an older key as primary as long as the server still holds it: the server
 * answers with whichever key opened the hello.
 *
 * Shape: pure step functions over immutable states (`clientStart`, `clientReceive`,
 * `serverReceive`) and two thin shells (`clientHandshake`, `serverHandshake`) holding the
 * current state. No I/O and no clock: the caller sends the frames and enforces a deadline.
 * A step never throws on any input; the first error moves to `failed` for good. Each received
 * frame counts one outcome in `stats`.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from '@shoal/runtime';
import { isMessage, WireCodec } from './codec.js';
import { ProtocolUsageError } from './errors.js';
import type { Keyring } from './keyring.js';
import { clusterNameSchema, HandshakeChallenge, HandshakeHello, HandshakeResponse, nodeNameSchema, nonceBytes, shoalRegistry } from './messages.js';
import type { MessageType } from './registry.js';
import { open, openWithKey, sealOverheadBytes, sealWithKey } from './seal.js';
import { deriveSessionKeys, Session } from './session.js';
import type { SessionOptions } from './session.js';
import { DecodeStats, reject } from './stats.js';
import type { Rejection } from './stats.js';

export const handshakeVersion = 1;
/** A sealed handshake frame, at most: handshake messages are capped at 512 bytes. */
export const handshakeFrameBytesMax = 512 + sealOverheadBytes;

export interface HandshakeConfig {
  readonly keyring: Keyring;
  readonly cluster: string;
  /** This node's name. */
  readonly node: string;
  /** Nonces (production: `nodeRandom()`, whose bytes come from the OS CSPRNG). */
  readonly random: Random;
  /** Counts one outcome per received frame. */
  readonly stats?: DecodeStats;
  /** Options of the session made at the end. */
  readonly session?: SessionOptions;
}

export interface HandshakeDone {
  readonly peerNode: string;
  readonly session: Session;
}

/** What a received frame leads to: a frame to send, completion (maybe with a frame), or an error. */
export type HandshakeStep =
  | { readonly send: Uint8Array; readonly done?: undefined; readonly error?: undefined }
  | { readonly send?: Uint8Array; readonly done: HandshakeDone; readonly error?: undefined }
  | { readonly send?: undefined; readonly done?: undefined; readonly error: Rejection };

/** Per-configuration constants shared by the steps. */
export interface HandshakeContext {
  readonly config: HandshakeConfig;
  readonly codec: WireCodec;
  readonly stats: DecodeStats;
}

/** Validates `config` once (throws `ProtocolUsageError`) and builds the steps' context. */
export function handshakeContext(config: HandshakeConfig): HandshakeContext {
  const clusterIssue = clusterNameSchema.check(config.cluster);
  if (clusterIssue) throw new ProtocolUsageError(`handshake: cluster name ${clusterIssue.message}`);
  const nodeIssue = nodeNameSchema.check(config.node);
  if (nodeIssue) throw new ProtocolUsageError(`handshake: node name ${nodeIssue.message}`);
  return { config, codec: new WireCodec(shoalRegistry), stats: config.stats ?? new DecodeStats() };
}

interface Transcript {
  readonly cluster: string;
  readonly clientNode: string;
  readonly serverNode: string;
  readonly clientNonce: Uint8Array;
  readonly serverNonce: Uint8Array;
}

/** HMAC-SHA256 over the length-prefixed transcript fields. */
export function handshakeProof(key: Uint8Array, label: 'shoal/server' | 'shoal/client', t: Transcript): Uint8Array {
  const hmac = createHmac('sha256', key);
  const fields = [Buffer.from(label), Buffer.from(t.cluster), Buffer.from(t.clientNode), Buffer.from(t.serverNode), t.clientNonce, t.serverNonce];
  const length = Buffer.alloc(4);
  for (const field of fields) {
    length.writeUInt32BE(field.length, 0);
    hmac.update(length);
    hmac.update(field);
  }
  return new Uint8Array(hmac.digest());
}

function proofsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Decodes a handshake plaintext that must be of `type`. */
function expectMessage<T extends MessageType>(ctx: HandshakeContext, plaintext: Uint8Array, type: T) {
  const message = ctx.codec.decode(plaintext);
  if (!message.ok) return message;
  if (!isMessage(message, type)) return reject('unexpected', `expected ${type.name}, got ${message.name}`);
  return { ok: true as const, body: message.body };
}

function counted<S>(ctx: HandshakeContext, failed: S, state: S, step: HandshakeStep): { state: S; step: HandshakeStep } {
  if (step.error) {
    ctx.stats.reject(step.error);
    return { state: failed, step };
  }
  ctx.stats.accept();
  return { state, step };
}

// ---- client --------------------------------------------------------------------------------

export type ClientState =
  | { readonly phase: 'start' }
  | { readonly phase: 'await-challenge'; readonly key: Uint8Array; readonly nonce: Uint8Array }
  | { readonly phase: 'done' }
  | { readonly phase: 'failed' };

const clientFailed: ClientState = { phase: 'failed' };

/** Step 1: the sealed hello. Throws `ProtocolUsageError` unless in phase `start`. */
export function clientStart(ctx: HandshakeContext, state: ClientState): { state: ClientState; frame: Uint8Array } {
  if (state.phase !== 'start') throw new ProtocolUsageError(`clientStart in phase ${state.phase}`);
  const { keyring, cluster, node, random } = ctx.config;
  const key = keyring.primary;
  const nonce = random.bytes(nonceBytes);
  const hello = ctx.codec.encode(HandshakeHello, { v: handshakeVersion, cluster, node, nonce });
  return { state: { phase: 'await-challenge', key, nonce }, frame: sealWithKey(key, cluster, hello, random) };
}

/** Step 2 seen by the client: checks the challenge, answers with the response. */
export function clientReceive(ctx: HandshakeContext, state: ClientState, frame: Uint8Array): { state: ClientState; step: HandshakeStep } {
  if (state.phase !== 'await-challenge') {
    return counted(ctx, clientFailed, state, { error: reject('unexpected', `handshake client got a frame in phase ${state.phase}`) });
  }
  const { cluster, node, random } = ctx.config;
  const opened = openWithKey(state.key, cluster, frame, { bytesMax: handshakeFrameBytesMax });
  if (!opened.ok) return counted(ctx, clientFailed, state, { error: opened });
  const challenge = expectMessage(ctx, opened.plaintext, HandshakeChallenge);
  if (!challenge.ok) return counted(ctx, clientFailed, state, { error: challenge });
  const { body } = challenge;
  const transcript = { cluster, clientNode: node, serverNode: body.node, clientNonce: state.nonce, serverNonce: body.nonce };
  if (!proofsEqual(handshakeProof(state.key, 'shoal/server', transcript), body.proof)) {
    return counted(ctx, clientFailed, state, { error: reject('auth', 'server proof does not verify') });
  }
  const response = ctx.codec.encode(HandshakeResponse, { proof: handshakeProof(state.key, 'shoal/client', transcript) });
  const session = new Session(deriveSessionKeys(state.key, state.nonce, body.nonce, 'client'), cluster, ctx.config.session);
  const send = sealWithKey(state.key, cluster, response, random);
  return counted(ctx, clientFailed, { phase: 'done' }, { send, done: { peerNode: body.node, session } });
}

// ---- server --------------------------------------------------------------------------------

export type ServerState =
  | { readonly phase: 'await-hello' }
  | {
      readonly phase: 'await-response';
      readonly key: Uint8Array;
      readonly clientNode: string;
      readonly clientNonce: Uint8Array;
      readonly serverNonce: Uint8Array;
    }
  | { readonly phase: 'done' }
  | { readonly phase: 'failed' };

const serverFailed: ServerState = { phase: 'failed' };

/** Steps 1 and 3 seen by the server. */
export function serverReceive(ctx: HandshakeContext, state: ServerState, frame: Uint8Array): { state: ServerState; step: HandshakeStep } {
  switch (state.phase) {
    case 'await-hello':
      return serverHello(ctx, frame);
    case 'await-response':
      return serverResponse(ctx, state, frame);
    case 'done':
    case 'failed':
      return counted(ctx, serverFailed, state, { error: reject('unexpected', `handshake server got a frame in phase ${state.phase}`) });
  }
}

function serverHello(ctx: HandshakeContext, frame: Uint8Array): { state: ServerState; step: HandshakeStep } {
  const { keyring, cluster, node, random } = ctx.config;
  const opened = open(keyring, cluster, frame, { bytesMax: handshakeFrameBytesMax });
  if (!opened.ok) return counted(ctx, serverFailed, serverFailed, { error: opened });
  const hello = expectMessage(ctx, opened.plaintext, HandshakeHello);
  if (!hello.ok) return counted(ctx, serverFailed, serverFailed, { error: hello });
  const { body } = hello;
  if (body.v !== handshakeVersion) {
    return counted(ctx, serverFailed, serverFailed, { error: reject('version', `handshake version ${body.v}, expected ${handshakeVersion}`) });
  }
  if (body.cluster !== cluster) {
    return counted(ctx, serverFailed, serverFailed, { error: reject('auth', 'hello names another cluster') });
  }
  const key = keyring.keyAt(opened.keyIndex)!;
  const serverNonce = random.bytes(nonceBytes);
  const transcript = { cluster, clientNode: body.node, serverNode: node, clientNonce: body.nonce, serverNonce };
  const challenge = ctx.codec.encode(HandshakeChallenge, { node, nonce: serverNonce, proof: handshakeProof(key, 'shoal/server', transcript) });
  const next: ServerState = { phase: 'await-response', key, clientNode: body.node, clientNonce: body.nonce, serverNonce };
  return counted(ctx, serverFailed, next, { send: sealWithKey(key, cluster, challenge, random) });
}

function serverResponse(
  ctx: HandshakeContext,
  state: Extract<ServerState, { phase: 'await-response' }>,
  frame: Uint8Array,
): { state: ServerState; step: HandshakeStep } {
  const { cluster, node } = ctx.config;
  const opened = openWithKey(state.key, cluster, frame, { bytesMax: handshakeFrameBytesMax });
  if (!opened.ok) return counted(ctx, serverFailed, state, { error: opened });
  const response = expectMessage(ctx, opened.plaintext, HandshakeResponse);
  if (!response.ok) return counted(ctx, serverFailed, state, { error: response });
  const transcript = { cluster, clientNode: state.clientNode, serverNode: node, clientNonce: state.clientNonce, serverNonce: state.serverNonce };
  if (!proofsEqual(handshakeProof(state.key, 'shoal/client', transcript), response.body.proof)) {
    return counted(ctx, serverFailed, state, { error: reject('auth', 'client proof does not verify') });
  }
  const session = new Session(deriveSessionKeys(state.key, state.clientNonce, state.serverNonce, 'server'), cluster, ctx.config.session);
  return counted(ctx, serverFailed, { phase: 'done' }, { done: { peerNode: state.clientNode, session } });
}

// ---- shells --------------------------------------------------------------------------------

export interface ClientHandshake {
  readonly phase: ClientState['phase'];
  readonly stats: DecodeStats;
  /** The hello to send first. */
  start(): Uint8Array;
  receive(frame: Uint8Array): HandshakeStep;
}

export function clientHandshake(config: HandshakeConfig): ClientHandshake {
  const ctx = handshakeContext(config);
  let state: ClientState = { phase: 'start' };
  return {
    get phase() {
      return state.phase;
    },
    stats: ctx.stats,
    start() {
      const started = clientStart(ctx, state);
      state = started.state;
      return started.frame;
    },
    receive(frame) {
      const next = clientReceive(ctx, state, frame);
      state = next.state;
      return next.step;
    },
  };
}

export interface ServerHandshake {
  readonly phase: ServerState['phase'];
  readonly stats: DecodeStats;
  receive(frame: Uint8Array): HandshakeStep;
}

export function serverHandshake(config: HandshakeConfig): ServerHandshake {
  const ctx = handshakeContext(config);
  let state: ServerState = { phase: 'await-hello' };
  return {
    get phase() {
      return state.phase;
    },
    stats: ctx.stats,
    receive(frame) {
      const next = serverReceive(ctx, state, frame);
      state = next.state;
      return next.step;
    },
  };
}
