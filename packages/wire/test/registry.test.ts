// Registry mechanics and id ranges. The append-only contract (test/fixtures/registry.json
// against every package's definitions) is checked where all of them are loaded:
// packages/cluster/test/registry.test.ts.
import t from 'tap';
import { Registry, RegistryError, s, shoalRegistry } from '@shoal/wire';


t.test('ids fall in their subsystem ranges', async (t) => {
  for (const type of shoalRegistry.list()) {
    const prefix = type.name.split('.')[0];
    const range = { handshake: [1, 99], transport: [1, 99], actor: [100, 199], swim: [200, 399], ring: [400, 599], agent: [600, 699] }[prefix ?? ''];
    if (range) t.ok(type.id >= range[0]! && type.id <= range[1]!, `${type.name} (${type.id}) in ${range[0]}–${range[1]}`);
  }
});

t.test('define refuses duplicates and malformed entries', async (t) => {
  const r = new Registry();
  const a = r.define({ id: 1, name: 'test.a', schema: s.null() });
  t.equal(r.byId(1), a);
  t.equal(r.byName('test.a'), a);
  t.ok(r.has(a));
  t.throws(() => r.define({ id: 1, name: 'test.b', schema: s.null() }), RegistryError, 'duplicate id');
  t.throws(() => r.define({ id: 2, name: 'test.a', schema: s.null() }), RegistryError, 'duplicate name');
  t.throws(() => r.define({ id: 0, name: 'test.zero', schema: s.null() }), RegistryError, 'id 0 is the batch marker');
  t.throws(() => r.define({ id: 65536, name: 'test.big', schema: s.null() }), RegistryError);
  t.throws(() => r.define({ id: 2.5, name: 'test.frac', schema: s.null() }), RegistryError);
  t.throws(() => r.define({ id: 3, name: 'NoDots', schema: s.null() }), RegistryError);
  t.equal(r.size, 1);
  const b = r.define({ id: 65535, name: 'test.last', schema: s.null(), limits: { depthMax: 1 } });
  t.same(r.list().map((x) => x.id), [1, 65535]);
  t.ok(Object.isFrozen(b) && Object.isFrozen(b.limits));
  t.notOk(new Registry().has(a), 'a type belongs to the registry that defined it');
});
