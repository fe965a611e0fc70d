/**
 * nact compatibility: the same behaviour source runs on real nact 7.6.2 and on Shoal, and both
 * give the same results. The contacts service is the example from nact's documentation
 * ("Hierarchy": a stateless router spawning one stateful contacts actor per user, found through
 * `ctx.children`), written as nact users write it — async behaviours, `state = {…}` defaults,
 * `dispatch(ctx.sender, …, ctx.self)`, `query` with a message factory. Only the import differs:
 * the functions come from whichever library is under test.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import * as shoal from '@shoal/actors';
import { silentLogger } from '@shoal/runtime';

/** The slice of nact's API the examples use, loosely typed so both libraries fit. */
interface Lib {
  start(opts?: object): unknown;
  spawn(parent: unknown, f: (state: never, msg: never, ctx: never) => unknown, name?: string, props?: object): unknown;
  spawnStateless(parent: unknown, f: (msg: never, ctx: never) => unknown, name?: string, props?: object): unknown;
  dispatch(ref: unknown, msg: unknown, sender?: unknown): void;
  query(ref: unknown, msg: unknown, timeoutMs: number): Promise<unknown>;
  stop(ref: unknown): void;
  seconds: number;
}

const nact = createRequire(import.meta.url)('nact') as Lib;
const shoalLib: Lib = {
  ...(shoal as unknown as Lib),
  // Shoal logs crashes; keep test output clean.
  start: (opts?: object) => shoal.start({ logger: silentLogger, ...opts }),
};
const libs: [string, Lib][] = [
  ['nact', nact],
  ['shoal', shoalLib],
];

interface Ctx {
  self: unknown;
  sender: unknown;
  name: string;
  children: ReadonlyMap<string, unknown>;
}

// ---- the example, as in nact's documentation ------------------------------------------------

const GET_CONTACTS = 'GET_CONTACTS';
const GET_CONTACT = 'GET_CONTACT';
const CREATE_CONTACT = 'CREATE_CONTACT';
const UPDATE_CONTACT = 'UPDATE_CONTACT';
const REMOVE_CONTACT = 'REMOVE_CONTACT';
const SUCCESS = 'SUCCESS';
const NOT_FOUND = 'NOT_FOUND';

interface Contact {
  id: string;
  name?: string;
  email?: string;
}
interface ContactMsg {
  type: string;
  userId: string;
  contactId?: string;
  payload?: Partial<Contact>;
}

function contactsApp(lib: Lib): { spawnContactsService: (parent: unknown) => unknown } {
  const { spawn, spawnStateless, dispatch } = lib;
  let nextId = 0; // the docs use uuid(); a counter keeps the two runs comparable
  const uuid = (): string => `c${++nextId}`;

  const contactsBehaviour = async (state: { contacts: Record<string, Contact | undefined> } = { contacts: {} }, msg: ContactMsg, ctx: Ctx) => {
    await Promise.resolve(); // stands in for a database round trip
    if (msg.type === GET_CONTACTS) {
      dispatch(ctx.sender, { payload: Object.values(state.contacts).filter(Boolean), type: SUCCESS }, ctx.self);
    } else if (msg.type === CREATE_CONTACT) {
      const newContact = { ...msg.payload, id: uuid() };
      const nextState = { contacts: { ...state.contacts, [newContact.id]: newContact } };
      dispatch(ctx.sender, { type: SUCCESS, payload: newContact }, ctx.self);
      return nextState;
    } else {
      const contact = state.contacts[msg.contactId ?? ''];
      if (contact) {
        switch (msg.type) {
          case GET_CONTACT: {
            dispatch(ctx.sender, { payload: contact, type: SUCCESS }, ctx.self);
            break;
          }
          case REMOVE_CONTACT: {
            const nextState = { contacts: { ...state.contacts, [contact.id]: undefined } };
            dispatch(ctx.sender, { type: SUCCESS, payload: contact }, ctx.self);
            return nextState;
          }
          case UPDATE_CONTACT: {
            const updatedContact = { ...contact, ...msg.payload };
            const nextState = { contacts: { ...state.contacts, [contact.id]: updatedContact } };
            dispatch(ctx.sender, { type: SUCCESS, payload: updatedContact }, ctx.self);
            return nextState;
          }
        }
      } else {
        dispatch(ctx.sender, { type: NOT_FOUND, contactId: msg.contactId }, ctx.self);
      }
    }
    return state;
  };

  const spawnUserContactService = (parent: unknown, userId: string) => spawn(parent, contactsBehaviour, userId);

  const spawnContactsService = (parent: unknown) =>
    spawnStateless(
      parent,
      (msg: ContactMsg, ctx: Ctx) => {
        const userId = msg.userId;
        let childActor;
        if (ctx.children.has(userId)) {
          childActor = ctx.children.get(userId);
        } else {
          childActor = spawnUserContactService(ctx.self, userId);
        }
        dispatch(childActor, msg, ctx.sender);
      },
      'contacts',
    );

  return { spawnContactsService };
}

async function contactsScenario(lib: Lib): Promise<unknown[]> {
  const system = lib.start();
  const { spawnContactsService } = contactsApp(lib);
  const contacts = spawnContactsService(system);
  const ask = (msg: ContactMsg): Promise<unknown> => lib.query(contacts, (_tempRef: unknown) => msg, 500);
  const out: unknown[] = [];
  out.push(await ask({ type: CREATE_CONTACT, userId: 'u1', payload: { name: 'Alice' } }));
  out.push(await ask({ type: CREATE_CONTACT, userId: 'u1', payload: { name: 'Bob' } }));
  out.push(await ask({ type: CREATE_CONTACT, userId: 'u2', payload: { name: 'Carol' } }));
  out.push(await ask({ type: GET_CONTACTS, userId: 'u1' }));
  out.push(await ask({ type: UPDATE_CONTACT, userId: 'u1', contactId: 'c2', payload: { email: 'bob@example.org' } }));
  out.push(await ask({ type: GET_CONTACT, userId: 'u1', contactId: 'c2' }));
  out.push(await ask({ type: REMOVE_CONTACT, userId: 'u1', contactId: 'c1' }));
  out.push(await ask({ type: GET_CONTACTS, userId: 'u1' }));
  out.push(await ask({ type: GET_CONTACT, userId: 'u2', contactId: 'c1' }));
  // A plain message (not a factory) is sent with the temp ref as its sender, in both.
  out.push(await lib.query(contacts, { type: GET_CONTACTS, userId: 'u2' }, 500));
  lib.stop(system);
  return out;
}

t.test('the documented contacts service runs unchanged on nact and on Shoal, with the same results', async (t) => {
  const results = new Map<string, unknown[]>();
  for (const [name, lib] of libs) results.set(name, await contactsScenario(lib));
  t.same(results.get('shoal'), results.get('nact'), 'same replies');
  t.same(results.get('shoal'), [
    { type: SUCCESS, payload: { name: 'Alice', id: 'c1' } },
    { type: SUCCESS, payload: { name: 'Bob', id: 'c2' } },
    { type: SUCCESS, payload: { name: 'Carol', id: 'c3' } },
    { type: SUCCESS, payload: [{ name: 'Alice', id: 'c1' }, { name: 'Bob', id: 'c2' }] },
    { type: SUCCESS, payload: { name: 'Bob', id: 'c2', email: 'bob@example.org' } },
    { type: SUCCESS, payload: { name: 'Bob', id: 'c2', email: 'bob@example.org' } },
    { type: SUCCESS, payload: { name: 'Alice', id: 'c1' } },
    { type: SUCCESS, payload: [{ name: 'Bob', id: 'c2', email: 'bob@example.org' }] },
    { type: NOT_FOUND, contactId: 'c1' },
    { type: SUCCESS, payload: [{ name: 'Carol', id: 'c3' }] },
  ]);
});

// ---- semantics that differ between nact's docs and its code: match the code -----------------

async function statelessScenario(lib: Lib): Promise<string[]> {
  const system = lib.start();
  const log: string[] = [];
  const worker = lib.spawnStateless(system, async (msg: number) => {
    log.push(`start ${msg}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push(`end ${msg}`);
    if (msg === 2) throw new Error('boom');
  });
  for (const n of [1, 2, 3]) lib.dispatch(worker, n);
  await new Promise((resolve) => setTimeout(resolve, 100));
  lib.stop(system);
  return log;
}

t.test('stateless actors: one message at a time, and a crash resumes (nact 7.6.2 semantics)', async (t) => {
  const nactLog = await statelessScenario(nact);
  const shoalLog = await statelessScenario(shoalLib);
  t.same(shoalLog, nactLog);
  t.same(shoalLog, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'], 'serial, and message 3 ran after 2 crashed');
});

async function contextScenario(lib: Lib): Promise<unknown[]> {
  const system = lib.start();
  const seen: unknown[] = [];
  const afterStops: string[] = [];
  const parent = lib.spawn(
    system,
    function (this: Ctx, state: number | undefined, msg: string, ctx: Ctx) {
      seen.push([msg, state, this === ctx, ctx.name, ctx.children.size]);
      if (msg === 'spawn') lib.spawn(ctx.self, (s: number = 0) => s + 1, 'kid', { afterStop: () => afterStops.push('kid') });
      return (state ?? 0) + 1;
    },
    'parent',
    { initialState: 10, afterStop: (state: number) => afterStops.push(`parent@${state}`) },
  );
  const withFunc = lib.spawn(
    system,
    (state: string, msg: string, ctx: Ctx) => {
      if (msg !== 'get') return `${state}+${msg}`;
      lib.dispatch(ctx.sender, state);
      return state;
    },
    'func',
    { initialStateFunc: (ctx: Ctx) => `init:${ctx.name}` },
  );
  lib.dispatch(parent, 'spawn');
  lib.dispatch(parent, 'count');
  lib.dispatch(withFunc, 'a');
  await new Promise((resolve) => setTimeout(resolve, 20));
  seen.push(await lib.query(withFunc, 'get', 100));
  lib.stop(parent);
  await new Promise((resolve) => setTimeout(resolve, 20));
  seen.push(afterStops);
  lib.stop(system);
  return seen;
}

t.test('context, this binding, initialState, initialStateFunc and afterStop order match nact', async (t) => {
  const nactSeen = await contextScenario(nact);
  const shoalSeen = await contextScenario(shoalLib);
  t.same(shoalSeen.slice(0, 2), nactSeen.slice(0, 2), 'same contexts and states');
  t.same(shoalSeen[0], ['spawn', 10, true, 'parent', 0]);
  t.same(shoalSeen[1], ['count', 11, true, 'parent', 1]);
  t.same(shoalSeen.at(-2), nactSeen.at(-2), 'same query reply (the temp ref is the sender)');
  t.equal(shoalSeen.at(-2), 'init:func+a');
  // nact 7.6.2 never stops the children of a stopped actor: Actor#stop passes Actor instances
  // to stop(), which looks them up as refs and finds nothing, so they run on, orphaned.
  t.same(nactSeen.at(-1), ['parent@12'], 'nact: the child is orphaned, its afterStop never runs');
  t.same(shoalSeen.at(-1), ['kid', 'parent@12'], 'shoal: child stopped first, then the parent with its last state');
});

t.test('nact-style start(), time constants and Nobody-less dispatch work', async (t) => {
  const system = shoal.start();
  t.equal(shoal.systemOf(system).name, 'local', 'default node name');
  t.equal(shoal.seconds, nact.seconds);
  t.equal(shoal.minutes, 60_000);
  const got: unknown[] = [];
  const a = shoal.spawn(system, (_s: undefined, msg: string, ctx: shoal.ActorContext<string>) => {
    got.push([msg, ctx.sender.path.join('/')]);
    shoal.dispatch(ctx.sender, 'reply to nobody');
    return undefined;
  });
  shoal.dispatch(a, 'hi');
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(got, [['hi', '$nobody']]);
  t.equal(shoal.systemOf(system).deadLetters.byReason.nobody, 1, 'a reply to a sender-less message is a dead letter, not lost');
  t.throws(() => shoal.start((() => undefined) as unknown as string), { name: 'ActorConfigError' }, 'nact plugins are refused loudly');
  shoal.stop(system);
});
