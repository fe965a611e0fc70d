// `node crdt/dist/test/measure-main.js [scale]`: prints the CRDT and Automerge figures as a table.
import { formatTable, measure } from './measure.js';

console.log(formatTable(measure(Number(process.argv[2] ?? 1))));
