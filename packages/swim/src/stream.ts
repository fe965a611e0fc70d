/**
 * Push-pull over a stream (memberlist's sendAndReceiveState / handleConn): one request frame,
 * one reply frame, then the initiator closes. Shell code: it uses the injected Transport and
 * Clock, never real sockets or timers.
 *
 * Invariants: every exchange ends within `timeoutMs` on both sides (connect, request, reply), and
 * every stream it opens or accepts is closed by then; the responder answers at most one frame
 * per stream; a responder never closes right after replying (a transport may cut the reply short
 * on close) — the initiator closes once it has the reply, and the responder's deadline
 * closes streams whose initiator went away.
 */
import { ConnectError, StreamClosedError, type Clock, type Stream, type Transport } from '@shoal/runtime';

/**
 * Push-pull streams are length-prefixed TCP (runtime tcp-stream.ts), as memberlist's are: an
 * exchange is one connection, and a WebSocket's HTTP upgrade cost more than the exchange itself
 * (13.7 ms of CPU for a member's first one, against 1.2 ms). Every member, core node and agent
 * runs this code, so both ends always agree.
 */
export const pushPullFraming = 'tcp';

export type ExchangeFailure = 'connect' | 'timeout' | 'closed' | 'aborted';

export class PushPullError extends Error {
  override name = 'PushPullError';
  constructor(
    readonly reason: ExchangeFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ExchangeOptions {
  maxFrameBytes: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Connects to `to`, sends `request`, and resolves with the first frame answered. Rejects with PushPullError. */
export async function requestReply(transport: Transport, clock: Clock, to: string, request: Uint8Array, opts: ExchangeOptions): Promise<Uint8Array> {
  const startedMs = clock.monoMs();
  let stream: Stream;
  try {
    stream = await transport.connectStream(to, { maxFrameBytes: opts.maxFrameBytes, timeoutMs: opts.timeoutMs, signal: opts.signal, framing: pushPullFraming });
  } catch (err) {
    if (opts.signal?.aborted) throw new PushPullError('aborted', `push-pull with ${to} aborted`);
    const why = err instanceof ConnectError ? err.message : String(err);
    throw new PushPullError('connect', `push-pull with ${to}: ${why}`);
  }
  const leftMs = Math.max(1, opts.timeoutMs - (clock.monoMs() - startedMs));
  return awaitReply(stream, clock, to, request, leftMs, opts.signal);
}

function awaitReply(stream: Stream, clock: Clock, to: string, request: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: { frame: Uint8Array } | { error: PushPullError }): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      stream.close('push-pull done');
      if ('frame' in outcome) resolve(outcome.frame);
      else reject(outcome.error);
    };
    const onAbort = (): void => finish({ error: new PushPullError('aborted', `push-pull with ${to} aborted`) });
    const timer = clock.setTimer(timeoutMs, () => finish({ error: new PushPullError('timeout', `push-pull with ${to}: no reply within ${timeoutMs} ms`) }));
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.attach({
      onFrame: (frame) => finish({ frame }),
      onClose: (why) => finish({ error: new PushPullError('closed', `push-pull with ${to}: stream closed before the reply (${why})`) }),
    });
    try {
      stream.send(request);
    } catch (err) {
      if (!(err instanceof StreamClosedError)) throw err;
      finish({ error: new PushPullError('closed', `push-pull with ${to}: stream closed before the request`) });
    }
  });
}

/**
 * Serves one exchange on an accepted stream: `answer(frame)` returns the reply to send, or
 * undefined to refuse (the stream is then closed). Closes the stream after `timeoutMs` at the
 * latest.
 */
export function serveOne(stream: Stream, clock: Clock, timeoutMs: number, answer: (frame: Uint8Array) => Uint8Array | undefined, onDone: () => void): void {
  let answered = false;
  let done = false;
  const end = (why: string): void => {
    if (done) return;
    done = true;
    timer.cancel();
    stream.close(why);
    onDone();
  };
  const timer = clock.setTimer(timeoutMs, () => end('push-pull deadline'));
  stream.attach({
    onFrame: (frame) => {
      if (answered) return end('one push-pull per stream');
      answered = true;
      const reply = answer(frame);
      if (reply === undefined) return end('push-pull refused');
      try {
        stream.send(reply);
      } catch (err) {
        if (!(err instanceof StreamClosedError)) throw err;
        end('closed before the reply');
      }
    },
    onClose: () => end('closed by the peer'),
  });
}
