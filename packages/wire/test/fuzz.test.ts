// The default fuzz run: every decoder gets tens of thousands of hostile frames from a fixed
// seed (`npm run fuzz` runs a million per decoder from a fresh seed). Any crash fails the test
// and prints the frame; keep it as a fixture (fixtures/fuzz-crashes/, replayed by
// fuzz-crashes.test.ts).
import t from 'tap';
import { allTargets, formatReport, fuzzTarget } from './fuzz.js';

const seed = Number(process.env['SHOAL_FUZZ_SEED'] ?? 20240601);
const framesPerDecoder = Number(process.env['SHOAL_FUZZ_FRAMES'] ?? 25_000);

for (const target of allTargets(seed)) {
  t.test(`fuzz ${target.name}`, async (t) => {
    const report = fuzzTarget(target, framesPerDecoder, seed);
    t.comment(formatReport(report));
    t.same(report.crashes, [], 'no input makes the decoder throw');
    t.same(report.problems, [], 'every frame is counted once: accepted + rejected = fed, categories sum up');
    t.ok(report.accepted > 0, 'some frames are accepted (the valid path is exercised)');
    t.ok(Object.keys(report.byCategory).length >= 3, `rejections span several categories (${Object.keys(report.byCategory).join(', ')})`);
    t.ok(report.slowestMs < 500, `no frame takes long (slowest ${report.slowestMs.toFixed(2)} ms)`);
  });
}
