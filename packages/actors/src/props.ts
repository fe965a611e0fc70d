/**
 * Actor properties: nact's (`initialState`, `initialStateFunc`, `onCrash`, `shutdownAfter`,
 * `afterStop`) plus Shoal's limits (`mailboxMax`, `restart`). Normalised and validated once per
 * spawn into `CellProps`, which the engine reads without further checks.
 */
import type { ActorContext, StopContext, SupervisionContext } from './context.js';
import { checkCount, checkDurationMs, restartPolicy, type SystemConfig } from './config.js';
import { ActorConfigError } from './errors.js';
import type { ActorRef } from './ref.js';
import type { Decision, RestartPolicy } from './supervision.js';

/** `(state, msg, ctx) => nextState`; `this` is the context too, as in nact. */
export type Behaviour<State, Msg> = (this: ActorContext<Msg>, state: State, msg: Msg, ctx: ActorContext<Msg>) => State | Promise<State>;

/** `(msg, ctx) => void`; messages are processed one at a time, like nact 7.6.2. */
export type StatelessBehaviour<Msg> = (this: ActorContext<Msg>, msg: Msg, ctx: ActorContext<Msg>) => void | Promise<void>;

/**
 * nact's crash handler. `child` is set when a child escalated its crash to this actor. Returns
 * one of the decisions found on `ctx` (`ctx.reset`, `ctx.stop`, `ctx.escalate`, …).
 */
export type CrashHandler<Msg> = (
  msg: Msg | undefined,
  err: unknown,
  ctx: SupervisionContext<Msg>,
  child: ActorRef<unknown> | undefined,
) => Decision | symbol | Promise<Decision | symbol>;

export interface ActorProps<State, Msg> {
  /** State before the first message (else `undefined`, so `(state = {}) =>` defaults work). */
  initialState?: State;
  /** Computes the initial state, at spawn and at each restart; wins over `initialState`. */
  initialStateFunc?: (ctx: ActorContext<Msg>) => State;
  /** Crash handler; default: restart with intensity limits (stateless actors: resume). */
  onCrash?: CrashHandler<Msg>;
  /** Stop the actor after this many ms without a message. */
  shutdownAfter?: number;
  /** Called once when the actor stops, after its children stopped. */
  afterStop?: (state: State, ctx: StopContext<Msg>) => void | Promise<void>;
  /** This actor's mailbox bound (default: the system's `mailboxMax`). */
  mailboxMax?: number;
  /** Overrides of the system's restart policy for this actor. */
  restart?: Partial<RestartPolicy>;
}

export type StatelessActorProps<Msg> = Omit<ActorProps<unknown, Msg>, 'initialState' | 'initialStateFunc'>;

type AnyCtx = ActorContext<unknown>;

export interface CellProps {
  readonly initialState: unknown;
  readonly initialStateFunc: ((ctx: AnyCtx) => unknown) | undefined;
  readonly onCrash: CrashHandler<unknown> | undefined;
  readonly afterStop: ((state: unknown, ctx: StopContext<unknown>) => unknown) | undefined;
  /** 0 = never. */
  readonly shutdownAfterMs: number;
  readonly mailboxMax: number;
  readonly restart: RestartPolicy;
}

function optionalFunction<F>(what: string, f: unknown): F | undefined {
  if (f === undefined || f === null) return undefined;
  if (typeof f !== 'function') throw new ActorConfigError(`${what} must be a function`);
  return f as F;
}

export function cellProps(props: ActorProps<unknown, unknown> | undefined, config: SystemConfig): CellProps {
  const p = props ?? {};
  const shutdownAfter = p.shutdownAfter;
  if (shutdownAfter !== undefined && typeof shutdownAfter !== 'number') {
    throw new ActorConfigError('shutdownAfter must be a number of milliseconds');
  }
  return {
    initialState: p.initialState,
    initialStateFunc: optionalFunction('initialStateFunc', p.initialStateFunc),
    onCrash: optionalFunction('onCrash', p.onCrash),
    afterStop: optionalFunction('afterStop', p.afterStop),
    shutdownAfterMs: shutdownAfter ? checkDurationMs('shutdownAfter', shutdownAfter) : 0,
    mailboxMax: p.mailboxMax === undefined ? config.mailboxMax : checkCount('mailboxMax', p.mailboxMax, 1),
    restart: restartPolicy(config.restart, p.restart),
  };
}
