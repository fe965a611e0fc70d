// Prints the micro-measurements (measure.ts); asserts only that they ran. For the full table:
// `node crdt/dist/test/measure-main.js`.
import t from 'tap';
import { formatTable, measure } from './measure.js';

t.test('micro-measurement (printed, not asserted)', async (t) => {
  const rows = measure(0.5);
  for (const line of formatTable(rows).split('\n')) t.comment(line);
  t.ok(rows.every((r) => Number.isFinite(r.value) && r.value > 0), 'every figure measured');
});
