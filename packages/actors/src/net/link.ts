/**
 * A link: one authenticated, encrypted stream between two nodes, as the actor transport uses it.
 *
 * Phases (either side):
 *
 *   client: connect ─ hello ▶ ◀ challenge ─ response ▶ ─ link-open ▶ ◀ link-accept ─ ready
 *   server: accept ─ ◀ hello ─ challenge ▶ ◀ response ─ ◀ link-open ─ decide ─ link-accept ▶ ready
 *
 * The handshake (packages/wire/src/handshake.ts) proves both sides hold a cluster key and yields
 * a session cipher; every frame after it is sealed with the session. `link-open` carries the
 * client's incarnation and lets the server refuse a duplicate link *before* anything is sent on
 * it (so no message can be lost by closing the loser of two simultaneous dials). Nothing but the
 * handshake and link-open reaches the application until the link is ready; any frame that fails
 * authentication, decoding or the phase's expectations closes the stream and is counted.
 * The whole opening must finish within `openTimeoutMs`.
 */
import type { Clock, Random, Stream, Timer } from '@shoal/runtime';
import type {
  DecodeStats} from '@shoal/wire';
import {
  clientHandshake,
  isMessage,
  LinkAccept,
  LinkOpen,
  LinkRefuse,
  serverHandshake,
  type Keyring,
  type Message,
  type Session,
  type WireCodec,
} from '@shoal/wire';

/**
 * What the link carries after it opens. Both ends must speak the same version: the server
 * refuses any other with `version` at link-open, before anything else is sent, so an old peer
 * gets a clear refusal instead of frames it cannot decode.
 *
 * - v1: actor messages in `actor.batch` (id 100), one ref pair per message.
 * - v2: actor messages in `actor.sends` (id 103), refs written once per frame.
 */
export const linkProtocolVersion = 2;

export type RefuseReason = 'duplicate' | 'shutting-down' | 'version';

export interface LinkConfig {
  node: string;
  cluster: string;
  keyring: Keyring;
  random: Random;
  clock: Clock;
  codec: WireCodec;
  incarnation: string;
  openTimeoutMs: number;
  /** Bound on one session frame (plaintext plus overhead). */
  frameBytesMax: number;
  /** Handshake and session rejections, by category. */
  stats: DecodeStats;
}

/** Why a link could not be opened or was closed; `category` is a metrics label. */
export class LinkError extends Error {
  override name = 'LinkError';
  constructor(
    readonly category: 'timeout' | 'handshake' | 'refused' | 'protocol' | 'closed',
    message: string,
    readonly refuse?: RefuseReason,
  ) {
    super(message);
  }
}

export interface LinkHandlers {
  onFrame(plaintext: Uint8Array): void;
  onClose(reason: string): void;
  onDrain(): void;
}

/** A ready link. */
export class Link {
  private handlers: LinkHandlers | undefined;
  private closedReason: string | undefined;
  /** Frames that arrived between `ready` and `attach` (the peer may send right after accepting). */
  private early: Uint8Array[] | undefined = [];
  private closeAnnounced = false;

  constructor(
    private readonly stream: Stream,
    private readonly session: Session,
    readonly peerNode: string,
    readonly peerIncarnation: string,
    readonly initiator: boolean,
  ) {}

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Starts delivering frames (call once, when the owner is ready for them). */
  attach(handlers: LinkHandlers): void {
    this.handlers = handlers;
    const early = this.early ?? [];
    this.early = undefined;
    // Frames that arrived before a close are still delivered, then the close.
    for (const frame of early) this.deliver(frame);
    this.announceClose();
  }

  /** Seals and sends one frame; throws if the stream is closed. */
  send(plaintext: Uint8Array): void {
    this.stream.send(this.session.seal(plaintext));
  }

  bufferedBytes(): number {
    return this.stream.bufferedBytes();
  }

  /** Stops reading (TCP flow control then slows the peer's sender); frames are kept in order. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  close(reason: string): void {
    this.stream.close(reason);
    this.finished(reason);
  }

  /** @internal from the driver */
  received(frame: Uint8Array): void {
    if (this.early) {
      this.early.push(frame);
      return;
    }
    if (this.closedReason !== undefined) return;
    this.deliver(frame);
  }

  private deliver(frame: Uint8Array): void {
    const opened = this.session.open(frame);
    if (!opened.ok) {
      this.close(`session frame rejected (${opened.category}): ${opened.reason}`);
      return;
    }
    this.handlers?.onFrame(opened.plaintext);
  }

  /** @internal from the driver */
  finished(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (!this.early) this.announceClose();
  }

  private announceClose(): void {
    if (this.closedReason === undefined || this.closeAnnounced || !this.handlers) return;
    this.closeAnnounced = true;
    this.handlers.onClose(this.closedReason);
  }

  /** @internal from the driver */
  drained(): void {
    this.handlers?.onDrain();
  }
}

type Phase =
  | { kind: 'handshake' }
  | { kind: 'await-open'; session: Session; peerNode: string }
  | { kind: 'await-answer'; session: Session; peerNode: string }
  | { kind: 'ready'; link: Link }
  | { kind: 'closed' };

/** Drives one stream through the opening phases; shared by client and server. */
class Opener {
  phase: Phase = { kind: 'handshake' };
  private readonly timer: Timer;

  constructor(
    readonly stream: Stream,
    readonly config: LinkConfig,
    readonly role: 'client' | 'server',
    private readonly step: (frame: Uint8Array) => void,
    private readonly settle: (result: Link | LinkError) => void,
  ) {
    this.timer = config.clock.setTimer(config.openTimeoutMs, () => this.fail(new LinkError('timeout', `link not open after ${config.openTimeoutMs} ms`)));
    stream.attach({
      onFrame: (frame) => this.frame(frame),
      onClose: (reason) => this.closed(reason),
      onDrain: () => {
        if (this.phase.kind === 'ready') this.phase.link.drained();
      },
    });
  }

  private frame(frame: Uint8Array): void {
    if (this.phase.kind === 'ready') this.phase.link.received(frame);
    else if (this.phase.kind !== 'closed') this.step(frame);
  }

  private closed(reason: string): void {
    if (this.phase.kind === 'ready') this.phase.link.finished(reason);
    else this.fail(new LinkError('closed', `stream closed while opening the link: ${reason}`));
  }

  /** Opens a session frame during the opening phases; closes the stream on a bad one. */
  openControl(session: Session, frame: Uint8Array): Message | undefined {
    const opened = session.open(frame);
    if (!opened.ok) {
      this.fail(new LinkError('protocol', `session frame rejected (${opened.category}): ${opened.reason}`));
      return undefined;
    }
    const msg = this.config.codec.decode(opened.plaintext);
    if (!msg.ok) {
      this.config.stats.reject(msg);
      this.fail(new LinkError('protocol', `bad link frame (${msg.category}): ${msg.reason}`));
      return undefined;
    }
    return msg;
  }

  ready(link: Link): void {
    this.timer.cancel();
    this.phase = { kind: 'ready', link };
    this.settle(link);
  }

  fail(err: LinkError): void {
    if (this.phase.kind === 'closed' || this.phase.kind === 'ready') return;
    this.phase = { kind: 'closed' };
    this.timer.cancel();
    this.stream.close(err.message);
    this.settle(err);
  }
}

function handshakeConfig(config: LinkConfig) {
  return {
    keyring: config.keyring,
    cluster: config.cluster,
    node: config.node,
    random: config.random,
    stats: config.stats,
    session: { frameBytesMax: config.frameBytesMax, stats: config.stats },
  };
}

/** Opens a link over a freshly connected stream, as the client. */
export function openClientLink(stream: Stream, config: LinkConfig): Promise<Link> {
  return new Promise((resolve, reject) => {
    const hs = clientHandshake(handshakeConfig(config));
    const opener: Opener = new Opener(stream, config, 'client', (frame) => clientStep(opener, hs, frame), (r) => (r instanceof Link ? resolve(r) : reject(r)));
    stream.send(hs.start());
  });
}

function clientStep(opener: Opener, hs: ReturnType<typeof clientHandshake>, frame: Uint8Array): void {
  const { config, phase } = opener;
  if (phase.kind === 'handshake') {
    const step = hs.receive(frame);
    if (step.error) return opener.fail(new LinkError('handshake', `handshake failed (${step.error.category}): ${step.error.reason}`));
    if (step.send) opener.stream.send(step.send);
    if (!step.done) return;
    const { session, peerNode } = step.done;
    opener.phase = { kind: 'await-answer', session, peerNode };
    opener.stream.send(session.seal(config.codec.encode(LinkOpen, { v: linkProtocolVersion, incarnation: config.incarnation })));
    return;
  }
  if (phase.kind !== 'await-answer') return;
  const msg = opener.openControl(phase.session, frame);
  if (!msg) return;
  if (isMessage(msg, LinkAccept)) {
    opener.ready(new Link(opener.stream, phase.session, phase.peerNode, msg.body.incarnation, true));
  } else if (isMessage(msg, LinkRefuse)) {
    const why = msg.body.reason === 'version' ? `version (this node speaks link protocol v${linkProtocolVersion}; the peer runs another release)` : msg.body.reason;
    opener.fail(new LinkError('refused', `${phase.peerNode} refused the link: ${why}`, msg.body.reason));
  } else {
    opener.fail(new LinkError('protocol', `expected link-accept, got ${msg.name}`));
  }
}

/**
 * Runs the server side on an accepted stream. `decide` is asked once the peer is authenticated
 * and has said which incarnation it is; `onReady` gets the link if it was accepted.
 */
export function acceptServerLink(
  stream: Stream,
  config: LinkConfig,
  decide: (peerNode: string, peerIncarnation: string) => 'accept' | RefuseReason,
  onReady: (link: Link) => void,
  onFail: (err: LinkError) => void,
): void {
  const hs = serverHandshake(handshakeConfig(config));
  const opener: Opener = new Opener(
    stream,
    config,
    'server',
    (frame) => serverStep(opener, hs, frame, decide),
    (r) => (r instanceof Link ? onReady(r) : onFail(r)),
  );
}

function serverStep(opener: Opener, hs: ReturnType<typeof serverHandshake>, frame: Uint8Array, decide: (peer: string, inc: string) => 'accept' | RefuseReason): void {
  const { config, phase } = opener;
  if (phase.kind === 'handshake') {
    const step = hs.receive(frame);
    if (step.error) return opener.fail(new LinkError('handshake', `handshake failed (${step.error.category}): ${step.error.reason}`));
    if (step.send) opener.stream.send(step.send);
    if (step.done) opener.phase = { kind: 'await-open', session: step.done.session, peerNode: step.done.peerNode };
    return;
  }
  if (phase.kind !== 'await-open') return;
  const msg = opener.openControl(phase.session, frame);
  if (!msg) return;
  if (!isMessage(msg, LinkOpen)) return opener.fail(new LinkError('protocol', `expected link-open, got ${msg.name}`));
  const verdict = msg.body.v === linkProtocolVersion ? decide(phase.peerNode, msg.body.incarnation) : 'version';
  if (verdict !== 'accept') {
    opener.stream.send(phase.session.seal(config.codec.encode(LinkRefuse, { reason: verdict })));
    const why = verdict === 'version' ? `it speaks link protocol v${msg.body.v}, this node v${linkProtocolVersion}` : verdict;
    return opener.fail(new LinkError('refused', `refused link from ${phase.peerNode}: ${why}`, verdict));
  }
  opener.stream.send(phase.session.seal(config.codec.encode(LinkAccept, { incarnation: config.incarnation })));
  opener.ready(new Link(opener.stream, phase.session, phase.peerNode, msg.body.incarnation, false));
}
