/**
 * The checks made on an LMDB data file before it is opened (lmdb-storage.ts header): LMDB maps
 * `data.mdb` into memory and trusts it, so a truncated file crashes the process with SIGBUS the
 * moment a page past its end is read, and a garbage header with SIGSEGV — no error, no message.
 * These checks read the file and never write it.
 *
 * What is read: the two meta pages (LMDB's mdb.c, `MDB_meta`; lmdb-js builds it with a 24-byte
 * page header). Each holds the page size, the root pages of the free and main trees, the last
 * page in use and the id of the transaction that wrote it; LMDB opens at the valid meta with the
 * higher transaction id.
 *
 * Refused: a file that is empty, too short for its two meta pages, whose first meta page is not
 * an LMDB meta page of this version, or whose root pages lie past its end. A file shorter than
 * its last page in use is usually truncated, but not always: LMDB never writes a page that a
 * transaction took and freed again ("loose" pages), so the tail may legitimately be missing. Then
 * a child process reads every tree of the environment; if that kills it, the file is damaged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageOpenError } from './storage.js';

const pageHeaderBytes = 24;
const metaFlag = 0x08;
const lmdbMagic = 0xbeefc0de;
const lmdbDataVersion = 2;
const pageBytesMin = 512;
const pageBytesMax = 0x10000;
const noPage = 0xffff_ffff_ffff_ffffn;
/** How long the read-everything probe may take before the file is refused anyway. */
const probeTimeoutMs = 600_000;

interface Meta {
  pageBytes: number;
  roots: bigint[];
  lastPage: bigint;
  txnId: bigint;
}

/** The meta page at `offset` of `buf`, or undefined if it is not one. */
function metaAt(buf: Buffer, offset: number): Meta | undefined {
  if (buf.length < offset + pageHeaderBytes + 0x88) return undefined;
  const m = offset + pageHeaderBytes;
  if ((buf.readUInt16LE(offset + 0x12) & metaFlag) === 0) return undefined;
  if (buf.readUInt32LE(m) !== lmdbMagic || (buf.readUInt32LE(m + 4) & 0xffff) !== lmdbDataVersion) return undefined;
  const dbs = m + 0x18; // after magic, version, address, mapsize
  const dbBytes = 48;
  return {
    pageBytes: buf.readUInt32LE(dbs),
    roots: [buf.readBigUInt64LE(dbs + 40), buf.readBigUInt64LE(dbs + dbBytes + 40)],
    lastPage: buf.readBigUInt64LE(dbs + 2 * dbBytes),
    txnId: buf.readBigUInt64LE(dbs + 2 * dbBytes + 8),
  };
}

function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const restoreHint = 'restore it from a backup, or move the directory aside to start with an empty one';

/** Throws StorageOpenError if the environment at `dir` cannot be opened safely (module header). */
export function checkDataFile(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new StorageOpenError(`storage path ${dir} is not a directory`);
  const file = path.join(dir, 'data.mdb');
  if (!existsSync(file)) return;
  const stat = statSync(file);
  if (!stat.isFile()) throw new StorageOpenError(`storage file ${file} is not a file`);
  const damaged = (what: string): StorageOpenError => new StorageOpenError(`storage file ${file} ${what}; ${restoreHint}`);
  if (stat.size === 0) throw damaged('is empty (0 bytes)');
  let head: Buffer;
  try {
    head = readHead(file, 2 * pageBytesMax);
  } catch (err) {
    throw new StorageOpenError(`cannot read storage file ${file} (${err instanceof Error ? err.message : String(err)})`);
  }
  const first = metaAt(head, 0);
  if (!first) throw damaged('is not an LMDB data file (its first meta page is damaged)');
  const pageBytes = first.pageBytes;
  if (pageBytes < pageBytesMin || pageBytes > pageBytesMax || (pageBytes & (pageBytes - 1)) !== 0) throw damaged(`has a damaged header (page size ${pageBytes})`);
  if (stat.size < 2 * pageBytes) throw damaged(`is truncated (${stat.size} bytes, shorter than its two meta pages)`);
  const second = metaAt(head, pageBytes);
  const meta = second && second.txnId > first.txnId ? second : first;
  const pages = BigInt(Math.floor(stat.size / pageBytes));
  for (const root of meta.roots) {
    if (root !== noPage && root >= pages) throw damaged(`is truncated (${stat.size} bytes; its transaction ${meta.txnId} has a root at page ${root})`);
  }
  if ((meta.lastPage + 1n) * BigInt(pageBytes) <= BigInt(stat.size)) return;
  probe(file, dir, stat.size, damaged);
}

/** Reads every tree in a child process: a file that kills it is damaged. */
function probe(file: string, dir: string, size: number, damaged: (what: string) => StorageOpenError): void {
  const script = fileURLToPath(new URL('./lmdb-probe.js', import.meta.url));
  const run = spawnSync(process.execPath, [script, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: probeTimeoutMs, encoding: 'utf8' });
  if (run.status === 0) return;
  const how = run.signal ? `reading it kills LMDB with ${run.signal}` : `reading it fails: ${run.stderr.trim().split('\n')[0] ?? `exit status ${run.status}`}`;
  throw damaged(`is damaged or truncated (${size} bytes; ${how})`);
}
