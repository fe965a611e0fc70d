// The storage compliance suite against LMDB, in a temporary directory per harness.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLmdbStorage } from '@shoal/runtime';
import { storageCompliance } from '@shoal/runtime/compliance';

storageCompliance(t, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'shoal-lmdb-'));
  return {
    open: (name) => openLmdbStorage(path.join(root, name)),
    settle: (p) => p,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});
