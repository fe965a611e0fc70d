/**
 * Files: the few file-system operations the rest of Shoal needs (data directories, key files,
 * token files). Node only; the simulator has no files beyond Storage.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, statSync, unlinkSync, linkSync, rmdirSync } from 'node:fs';
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
    // The lock is made whole before it appears: our PID goes into a file of our own, which is
    // then hard-linked to the lock's name (atomic; EEXIST if a lock is there). So no process ever
    // sees a lock without its PID and mistakes a live one for garbage.
    const mine = `${p}.${process.pid}.tmp`;
    try {
      writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
    } catch (err) {
      throw new FileError(`cannot create lock ${p} (${describe(err)})`);
    }
    try {
      for (let attempt = 0; attempt < lockAttemptsMax; attempt++) {
        try {
          linkSync(mine, p);
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
      throw new FileError(`cannot take lock ${p}: other processes keep taking it over; is another one starting on ${path.dirname(p)}?`);
    } finally {
      try {
        unlinkSync(mine);
      } catch {
        // Gone already.
      }
    }
  },
};

/** Tries to take a lock over before giving up (each try waits for a takeover in progress). */
const lockAttemptsMax = 50;
/** A takeover holds its mutex for microseconds; one older than this was left by a crash. */
const takeoverStaleMs = 5_000;

/**
 * Removes a lock file left by a process that is gone. A lock holds nothing but a PID, so one
 * that is empty or garbage is stale too; anything that is not a plain file (a directory, say) is
 * left alone and refused. Two processes may find the same stale lock at once: the removal runs
 * under a mutex (a directory beside the lock, made atomically), and the lock is read again inside
 * it, so one of them never removes the lock the other has just made. A process that cannot get
 * the mutex waits a moment and lets its caller try again.
 */
function takeOverStaleLock(p: string): void {
  const mutex = `${p}.takeover`;
  try {
    mkdirSync(mutex);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileError(`cannot take lock ${p} over (${describe(err)})`);
    clearStaleMutex(mutex);
    pause(10);
    return;
  }
  try {
    removeIfStale(p);
  } finally {
    try {
      rmdirSync(mutex);
    } catch {
      // Cleared by another process that thought it stale: nothing to release.
    }
  }
}

function removeIfStale(p: string): void {
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

/** A takeover mutex left by a process that crashed inside it (it is held for microseconds). */
function clearStaleMutex(mutex: string): void {
  try {
    if (Date.now() - statSync(mutex).mtimeMs > takeoverStaleMs) rmdirSync(mutex);
  } catch {
    // Gone meanwhile, or cleared by another process.
  }
}

/** A short synchronous wait (start-up only: the lock is taken before anything else runs). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
