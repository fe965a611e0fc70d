// The handoff session runner against a model vnode: whatever writes land while a session streams
// (before, during and between batches, while the last check runs), every write the vnode
// accepted before the drop reaches the target with its latest value, and no write is accepted
// after it. Progress resumes from the cursor of an interrupted session with the same targets.
import t from 'tap';
import fc from 'fast-check';
import { runSession, type DirtyMark, type HandoffCursor, type HandoffTask, type RecordItem, type VnodeBehaviour, type VnodeCommand } from '@shoal/ring';
import { fcOptions } from './helpers.js';

/** A vnode holding key → version in memory, with the behaviour's handoff contract. */
class ModelVnode implements VnodeBehaviour {
  readonly partition = 0;
  readonly ready = Promise.resolve();
  readonly isReady = true;
  readonly data = new Map<string, number>();
  dirty: Map<string, number> | undefined;
  private dirtyVersion = 0;
  dropped = false;
  session: { targets: readonly string[]; cursor: HandoffCursor | null } | undefined;

  write(key: string, version: number): boolean {
    if (this.dropped) return false;
    this.data.set(key, version);
    if (this.dirty) this.dirty.set(key, ++this.dirtyVersion);
    return true;
  }

  handleCommand(_cmd: VnodeCommand, reply: (r: unknown) => void): void {
    reply({ ok: true });
  }
  backgroundStep(): void {}
  isEmpty(): boolean {
    return this.data.size === 0;
  }
  hints(): readonly string[] {
    return [];
  }
  get sessionTargets(): readonly string[] | undefined {
    return this.session?.targets;
  }
  handoffStarting(targets: readonly string[]): HandoffCursor | null {
    this.dirty ??= new Map();
    const cursor = this.session && this.session.targets.join() === targets.join() ? this.session.cursor : null;
    this.session = { targets, cursor };
    return cursor;
  }
  handoffBatch(after: HandoffCursor | null, itemsMax: number): { items: RecordItem[]; next: HandoffCursor | null } {
    const keys = [...this.data.keys()].sort().filter((k) => after === null || k > after[1]);
    const items = keys.slice(0, itemsMax).map((k): RecordItem => ['b', k, Uint8Array.of(this.data.get(k)!)]);
    return { items, next: keys.length > itemsMax ? ['b', keys[itemsMax - 1]!] : null };
  }
  handoffProgress(cursor: HandoffCursor): void {
    if (this.session) this.session = { ...this.session, cursor };
  }
  dirtyCount(): number {
    return this.dirty?.size ?? 0;
  }
  takeDirty(itemsMax: number): { items: RecordItem[]; marks: DirtyMark[] } {
    const marks = [...(this.dirty ?? [])].slice(0, itemsMax).map(([skey, version]) => ({ skey, version }));
    return { items: marks.map((m): RecordItem => ['b', m.skey, Uint8Array.of(this.data.get(m.skey)!)]), marks };
  }
  async clearDirty(marks: readonly DirtyMark[]): Promise<void> {
    await Promise.resolve();
    for (const m of marks) if (this.dirty?.get(m.skey) === m.version) this.dirty.delete(m.skey);
  }
  flushed(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
  async handoffFinished(drop: boolean): Promise<void> {
    this.dirty = undefined;
    this.session = undefined;
    if (drop) this.dropped = true;
  }
  handoffAbandoned(): Promise<void> {
    return this.handoffFinished(false);
  }
}

const task: HandoffTask = { partition: 0, kind: 'ownership', targets: ['t'], drop: true, transfers: [] };

t.test('every write accepted before the drop reaches the target; none is accepted after', async (t) => {
  const scenario = fc.record({
    initial: fc.integer({ min: 0, max: 30 }),
    batch: fc.integer({ min: 1, max: 7 }),
    writes: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
  });
  await fc.assert(
    fc.asyncProperty(scenario, async ({ initial, batch, writes }) => {
      const vn = new ModelVnode();
      let version = 0;
      for (let i = 0; i < initial; i++) vn.write(`k${String(i).padStart(2, '0')}`, ++version);
      const target = new Map<string, number>();
      const accepted = new Map<string, number>();
      let next = 0;
      // Writes land while batches are in flight: a few per send, after random delays.
      const send = async (_to: string, items: readonly RecordItem[]): Promise<void> => {
        const landing = writes.slice(next, next + 3);
        next += 3;
        for (const [k, delay] of landing) {
          for (let d = 0; d < delay; d++) await Promise.resolve();
          const key = `k${String(k).padStart(2, '0')}`;
          const v = ++version;
          if (vn.write(key, v)) accepted.set(key, v);
        }
        for (const [, key, bytes] of items) target.set(key, Math.max(target.get(key) ?? 0, bytes[0]!));
      };
      const writer = (async () => {
        // More writes racing the end of the session, from outside the sends.
        for (const [k] of writes.slice(0, 10)) {
          await new Promise((resolve) => setImmediate(resolve));
          const key = `k${String(k).padStart(2, '0')}x`;
          const v = ++version;
          if (vn.write(key, v)) accepted.set(key, v);
        }
      })();
      await runSession(vn, task, send, batch);
      await writer;
      // Versions stay under 256 (they travel as one byte): 30 + 60 + 10 writes at most.
      for (const [key, v] of accepted) if (target.get(key) !== v) return false;
      for (const [key, v] of vn.data) if (target.get(key) !== v) return false; // everything held at the drop
      return vn.dropped && !vn.write('late', ++version);
    }),
    fcOptions(200),
  );
  t.pass('holds');
});

t.test('an interrupted session resumes from its cursor when the targets are the same', async (t) => {
  const vn = new ModelVnode();
  for (let i = 0; i < 10; i++) vn.write(`k${i}`, i + 1);
  let sent = 0;
  const failing = async (): Promise<void> => {
    if (++sent === 3) throw new Error('target went away');
  };
  await t.rejects(runSession(vn, task, failing, 2));
  t.same(vn.session?.cursor, ['b', 'k3'], 'progress after two acknowledged batches');
  const seen: string[] = [];
  const report = await runSession(vn, task, async (_to, items) => {
    seen.push(...items.map((i) => i[1]));
  }, 2);
  t.ok(report.resumed);
  t.same(seen, ['k4', 'k5', 'k6', 'k7', 'k8', 'k9'], 'only what was not acknowledged yet');
  const other = new ModelVnode();
  for (let i = 0; i < 4; i++) other.write(`k${i}`, 1);
  other.session = { targets: ['someone-else'], cursor: ['b', 'k2'] };
  const r = await runSession(other, task, async () => undefined, 2);
  t.notOk(r.resumed, 'other targets: from the start');
});
