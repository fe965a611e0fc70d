/**
 * The wire is a versioned contract (STYLE habit 4): every message id ever shipped keeps its
 * name forever. A node loads every package's message definitions, so this is where the whole
 * registry is held against the one fixture, packages/wire/test/fixtures/registry.json.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { shoalRegistry } from '@shoal/wire';
import '@shoal/swim';
import '@shoal/actors';
import '@shoal/cluster';

const fixturePath = new URL('../../../wire/test/fixtures/registry.json', import.meta.url);
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as { ids: Record<string, string> };

t.test('no shipped id is renamed or removed', async (t) => {
  for (const [id, name] of Object.entries(fixture.ids)) {
    const type = shoalRegistry.byId(Number(id));
    t.ok(type, `id ${id} (${name}) still exists: ids are never removed`);
    t.equal(type?.name, name, `id ${id} is still named ${name}: ids are never renamed`);
  }
});

t.test('every defined id is in the fixture', async (t) => {
  const missing = shoalRegistry.list().filter((type) => !(String(type.id) in fixture.ids));
  for (const type of missing) t.fail(`message ${type.name} (id ${type.id}) is not in packages/wire/test/fixtures/registry.json: append "${type.id}": "${type.name}"`);
  t.equal(missing.length, 0, `${shoalRegistry.list().length} message types, all in the fixture`);
});
