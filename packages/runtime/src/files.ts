/**
 * Files: the few file-system operations the rest of Shoal needs (data directories, key files,
 * token files). Node only; the simulator has no files beyond Storage.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, statSync, openSync, closeSync, unlinkSync } from 'node:fs';
import path from 'node:path';

export class FileError extends Error {
  override name = 'FileError';
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // Node's messages usually begin with the code already ("EISDIR: illegal operation …").
  if (e.code && !e.message.startsWith(`${e.code}:`)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(err);
}

export const files = {
  exists(p: string): boolean {
    return existsSync(p);
  },
  isDirectory(p: string): boolean {
    return existsSync(p) && statSync(p).isDirectory();
  },
  mkdirp(p: string): void {
    try {
      mkdirSync(p, { recursive: true });
    } catch (err) {
      throw new FileError(`cannot create directory ${p} (${describe(err)})`);
    }
  },
  readText(p: string): string {
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new FileError(`cannot read ${p} (${describe(err)})`);
    }
  },
  /** Writes a file readable only by its owner (mode 0600), creating parent directories. */
  writeSecret(p: string, text: string): void {
    try {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text, { mode: 0o600 });
      chmodSync(p, 0o600);
    } catch (err) {
      throw new FileError(`cannot write ${p} (${describe(err)})`);
    }
  },
  /** Permission bits of a file (e.g. 0o600). */
  mode(p: string): number {
    return statSync(p).mode & 0o777;
  },
  resolve(...parts: string[]): string {
    return path.resolve(...parts);
  },
  /**
   * Takes a PID lock file: fails with FileError if another live process holds it; takes over a
   * lock left by a dead process. Returns the release function.
   */
  lockPid(p: string): () => void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(p, 'wx', 0o600);
        writeFileSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return () => {
          try {
            if (readFileSync(p, 'utf8').trim() === String(process.pid)) unlinkSync(p);
          } catch {
            // Already gone: nothing to release.
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileError(`cannot create lock ${p} (${describe(err)})`);
        takeOverStaleLock(p);
      }
    }
    throw new FileError(`cannot take lock ${p}`);
  },
};

/**
 * Removes a lock file left by a process that is gone. A lock holds nothing but a PID, so one
 * that is empty or garbage (a crash between creating and writing it) is stale too; anything that
 * is not a plain file (a directory, say) is left alone and refused.
 */
function takeOverStaleLock(p: string): void {
  let text: string;
  try {
    if (!statSync(p).isFile()) throw new FileError(`lock ${p} is not a file; remove it if no process uses ${path.dirname(p)}`);
    text = readFileSync(p, 'utf8');
  } catch (err) {
    if (err instanceof FileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // Released meanwhile: try again.
    throw new FileError(`cannot read lock ${p} (${describe(err)})`);
  }
  const holder = Number(text.trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
    throw new FileError(`${path.dirname(p)} is in use by another process (pid ${holder}); stop it or use another data directory`);
  }
  try {
    unlinkSync(p); // A stale lock from a process that died.
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileError(`cannot remove stale lock ${p} (${describe(err)})`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
