#!/usr/bin/env node
// `npm test`: type check and build (tsc -b), lint, then every compiled test under tap.
// Ends with one plain line `N passed, N failed` (assertions, as counted by tap), and exits
// non-zero if anything failed. Extra arguments select test files (globs relative to the root).
//
// Plain JavaScript on purpose: this script must run before anything is compiled.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/**
 * Keeps a TAP stream readable in a log: one line per test file, and for anything that failed its
 * `not ok` line with its YAML diagnostics; passing assertions are counted, not printed.
 */
function tapFilter(write) {
  let pending = '';
  let yamlIndent = -1;
  const line = (text) => {
    const indent = text.length - text.trimStart().length;
    const trimmed = text.trim();
    if (yamlIndent >= 0) {
      write(`${text}\n`);
      if (trimmed === '...' && indent === yamlIndent) yamlIndent = -1;
      return;
    }
    if (/^not ok\b/.test(trimmed)) {
      write(`${text}\n`);
      yamlIndent = indent + 2;
      return;
    }
    if (indent === 0 && (/^ok\b/.test(trimmed) || /^# \{/.test(trimmed) || /^# (time|fail|todo|skip)/.test(trimmed) || /^Bail out!/.test(trimmed))) write(`${text}\n`);
  };
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) line(l);
    },
    end() {
      if (pending) line(pending);
    },
  };
}

/** Runs a command with inherited stdio, or with stdout captured (and filtered) when `capture`. */
function run(cmd, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    const filter = tapFilter((s) => process.stdout.write(s));
    if (capture) {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        filter.push(String(chunk));
      });
    }
    child.on('close', (code, signal) => {
      filter.end();
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

function finish(passed, failed, code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
}

const step = (name) => console.log(`\n== ${name}`);

step('type check and build (tsc -b)');
const tsc = await run(bin('tsc'), ['-b']);
if (tsc.code !== 0) {
  console.log('type check failed: no tests were run');
  finish(0, 1, tsc.code);
}

step('lint (eslint)');
const lint = await run(bin('eslint'), ['--config', 'packages/tooling/eslint.config.js', '.']);
if (lint.code !== 0) {
  console.log('lint failed: no tests were run');
  finish(0, 1, lint.code);
}

step('tests (tap)');
const selected = process.argv.slice(2);
const files = selected.length > 0 ? selected : ['packages/*/dist/test/**/*.test.js', 'ring/dist/test/**/*.test.js', 'crdt/dist/test/**/*.test.js', 'hypervisor-agent/dist/test/**/*.test.js', 'bench/dist/test/**/*.test.js'];
const tap = await run(bin('tap'), ['--reporter=tap', ...files], { capture: true });
// tap prints `# { total: N, pass: N, fail: N, ... }` as its last summary.
const summary = [...tap.out.matchAll(/^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/gm)].at(-1);
if (!summary) {
  console.log('tap printed no summary');
  finish(0, 1, tap.code || 1);
}
const total = Number(summary[1]);
const passed = Number(summary[2]);
const failed = Number(summary[3] ?? 0);
// Todo and skip count in total but neither pass nor fail; a skip is reported, never hidden.
if (total !== passed + failed) console.log(`(${total - passed - failed} skipped or todo)`);
finish(passed, failed, tap.code);
