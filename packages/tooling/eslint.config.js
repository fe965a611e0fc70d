// Lint for the whole repository. The one rule that matters most here is the "world door":
// only packages/runtime may touch timers, clocks, randomness, sockets and the file system,
// so that everything else runs unchanged (and deterministically) under packages/sim.
import tseslint from 'typescript-eslint';

const worldGlobals = [
  ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'performance']
    .map((name) => ({ name, message: 'Use the injected Clock from @shoal/runtime.' })),
  ...['fetch', 'XMLHttpRequest', 'WebSocket']
    .map((name) => ({ name, message: 'Use the Transport or httpRequest from @shoal/runtime.' })),
];

const worldProperties = [
  { object: 'Date', property: 'now', message: 'Use Clock.wallMs() from @shoal/runtime.' },
  { object: 'Math', property: 'random', message: 'Use the injected Random from @shoal/runtime.' },
  { object: 'performance', property: 'now', message: 'Use Clock.monoMs() from @shoal/runtime.' },
  { object: 'crypto', property: 'randomUUID', message: 'Use Random.uuid() from @shoal/runtime.' },
  { object: 'crypto', property: 'randomBytes', message: 'Use Random.bytes() from @shoal/runtime.' },
  { object: 'crypto', property: 'getRandomValues', message: 'Use Random.bytes() from @shoal/runtime.' },
  { object: 'process', property: 'hrtime', message: 'Use Clock.monoMs() from @shoal/runtime.' },
];

const worldModules = ['dgram', 'net', 'tls', 'fs', 'fs/promises', 'http', 'https', 'child_process', 'timers', 'timers/promises', 'worker_threads', 'perf_hooks']
  .flatMap((m) => [m, `node:${m}`])
  .concat(['ws', 'lmdb']);

const restrictedImports = {
  paths: worldModules.map((name) => ({ name, message: 'Only packages/runtime touches the outside world; take it from @shoal/runtime.' })),
  patterns: [{ group: ['**/dist/**'], message: 'Import the package, not its build output.' }],
};

const randomFromCrypto = ['randomBytes', 'randomUUID', 'randomInt', 'randomFillSync', 'randomFill', 'getRandomValues']
  .map((importName) => ({ name: 'node:crypto', importNames: [importName], message: 'Use the injected Random from @shoal/runtime.' }))
  .concat(['randomBytes', 'randomUUID', 'randomInt', 'randomFillSync', 'randomFill', 'getRandomValues']
    .map((importName) => ({ name: 'crypto', importNames: [importName], message: 'Use the injected Random from @shoal/runtime.' })));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', '**/*.d.ts'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a union of string literals.' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    // The world door: everything under src/ except packages/runtime.
    files: ['**/src/**/*.ts'],
    ignores: ['packages/runtime/src/**', 'bench/src/**'],
    rules: {
      'no-restricted-globals': ['error', ...worldGlobals],
      'no-restricted-properties': ['error', ...worldProperties],
      'no-restricted-imports': ['error', { ...restrictedImports, paths: [...restrictedImports.paths, ...randomFromCrypto] }],
    },
  },
  {
    // Tests may start processes and use real time, but never import build output.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', { patterns: restrictedImports.patterns }],
    },
  },
);
