// Keep what broke (STYLE.md, habit 9): every frame in fixtures/fuzz-crashes/ — crashes found by
// `npm run fuzz`, and hand-made hostile frames — is replayed through its decoder, which must
// answer without throwing and count exactly one outcome.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { allTargets } from './fuzz.js';

const dir = new URL('../../test/fixtures/fuzz-crashes/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const targets = new Map(allTargets(1).map((target) => [target.name, target]));

t.ok(files.length > 0, 'the fixture directory holds frames to replay');
for (const file of files) {
  const fixture = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { target: string; frame: string; note?: string };
  t.test(file, async (t) => {
    const target = targets.get(fixture.target);
    if (!target) {
      t.fail(`unknown fuzz target ${fixture.target}`);
      return;
    }
    const before = target.stats();
    let accepted = false;
    t.doesNotThrow(() => (accepted = target.feed(Uint8Array.from(Buffer.from(fixture.frame, 'hex')))), fixture.note ?? 'replays without throwing');
    const after = target.stats();
    t.equal(after.accepted + after.rejected - before.accepted - before.rejected, 1, 'counted once');
    t.equal(after.accepted - before.accepted, accepted ? 1 : 0);
  });
}
