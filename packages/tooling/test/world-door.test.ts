/**
 * The world-door lint rule: outside packages/runtime, `src/` code may not touch timers, clocks,
 * randomness, sockets, fetch or the file system — so the simulator can run it deterministically.
 */
import t from 'tap';
import { ESLint } from 'eslint';
import { eslintConfigPath, repoRoot } from '@shoal/tooling';

const eslint = new ESLint({ cwd: repoRoot, overrideConfigFile: eslintConfigPath });

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${filePath}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const forbidden: [string, RegExp][] = [
  ['setTimeout(() => 1, 5);', /no-restricted-globals.*Clock/],
  ['setImmediate(() => 1);', /no-restricted-globals/],
  ['export const t = Date.now();', /no-restricted-properties.*wallMs/],
  ['export const r = Math.random();', /no-restricted-properties.*Random/],
  ['export const p = performance.now();', /no-restricted-globals|no-restricted-properties/],
  ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;", /no-restricted-imports/],
  ["import dgram from 'dgram';\nexport const d = dgram;", /no-restricted-imports/],
  ["import { randomBytes } from 'node:crypto';\nexport const r = randomBytes;", /no-restricted-imports.*Random/],
  ["import { WebSocket } from 'ws';\nexport const w = WebSocket;", /no-restricted-imports/],
  ["export const f = fetch('http://x');", /no-restricted-globals.*httpRequest/],
];

t.test('forbidden in src/ of other packages', async (t) => {
  for (const [code, want] of forbidden) {
    const found = await problems(code, 'packages/demo/src/demo.ts');
    t.ok(found.some((p) => want.test(p)), `${JSON.stringify(code)} is reported (${found.join('; ') || 'nothing'})`);
  }
});

t.test('allowed in packages/runtime/src and in tests', async (t) => {
  for (const [code] of forbidden) {
    t.same(await problems(code, 'packages/runtime/src/demo.ts'), [], `runtime may: ${JSON.stringify(code)}`);
    const inTest = await problems(code, 'packages/demo/test/demo.test.ts');
    t.notOk(inTest.some((p) => /no-restricted-(globals|properties)/.test(p)), `tests may use real time: ${JSON.stringify(code)}`);
  }
});

t.test('node:crypto ciphers stay allowed everywhere', async (t) => {
  t.same(await problems("import { createHash } from 'node:crypto';\nexport const h = createHash;", 'packages/demo/src/demo.ts'), []);
});
