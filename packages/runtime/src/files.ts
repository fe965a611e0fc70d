/**
 * Files: the few file-system operations the rest of Shoal needs (data directories, key files,
 * token files). Node only; the simulator has no files beyond Storage.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, statSync } from 'node:fs';
import path from 'node:path';

export class FileError extends Error {
  override name = 'FileError';
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(err);
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
};
