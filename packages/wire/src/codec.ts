/**
 * Codec: registry message types ⇄ bounded msgpack frames.
 *
 * Frames:
 * - a message frame is the msgpack array `[id, body]` (first byte 0x92);
 * - a batch frame is the flat msgpack array `[0, id₁, body₁, id₂, body₂, …]`: one frame, one
 *   msgpackr call and one allocation of the result array for many small messages, which is what
 *   makes the batch path fast (the actor transport puts a batch in each WebSocket message).
 *
 * Decoding never throws and counts exactly one outcome per call in `stats.message` or
 * `stats.batch` (stats.ts). Its order of work puts the cheap refusals first:
 *   1. the header and the id (a few bytes) → unknown type, wrong shape;
 *   2. the frame size against the type's `frameBytesMax`;
 *   3. the scanner over the body with the type's limits (scan.ts), linear, allocation-free;
 *   4. msgpackr, only over bytes the scanner accepted;
 *   5. the type's schema, without allocating unless it fails.
 * A batch is accepted or rejected as a whole: one bad item means a broken or hostile peer, and
 * the transport drops the frame (and usually the connection).
 *
 * Encoding checks the body against its schema, packs it, then scans its own output with the
 * same limits the receiver will use, so what we send is exactly what a Shoal peer accepts (no
 * silently lossy values: `undefined` inside arrays, Dates, Maps with non-string keys, bigints
 * beyond 2^53 all fail here with an `EncodeError`). A caller that has already proved its bodies
 * against those rules value by value (the actor transport does it per message at dispatch)
 * may skip that scan of a batch (`encodeBatch(items, { scan: false })`); the receiver always
 * scans.
 */
import { EncodeError } from './errors.js';
import { defaultBatchLimits, defaultWireLimits, resolveBatchLimits, resolveLimits } from './limits.js';
import type { BatchLimits, WireLimits } from './limits.js';
import { packPlainValue, packValue, unpackRange } from './msgpack.js';
import type { BodyOf, MessageType, Registry } from './registry.js';
import { Scanner } from './scan.js';
import { DecodeStats, reject } from './stats.js';
import type { Rejection, StatsSnapshot } from './stats.js';

/** A decoded message. Narrow `body` with `isMessage(message, SomeType)`. */
export interface Message<T extends MessageType = MessageType> {
  readonly type: T;
  readonly id: number;
  readonly name: string;
  readonly body: BodyOf<T>;
}

export type DecodeResult = ({ readonly ok: true } & Message) | Rejection;
export type BatchDecodeResult = { readonly ok: true; readonly messages: readonly Message[] } | Rejection;

/** One message to put into a batch; build it with `batchItem` to have the body type-checked. */
export interface BatchItem {
  readonly type: MessageType;
  readonly body: unknown;
}

export function batchItem<T extends MessageType>(type: T, body: BodyOf<T>): BatchItem {
  return { type, body };
}

/** Type guard: `message` is of `type` (and its body has that type's shape). */
export function isMessage<T extends MessageType>(message: Message, type: T): message is Message<T> {
  return message.type === type;
}

export interface EncodeBatchOptions {
  /**
   * `false`: do not scan the frame just packed. Only for a caller that has checked every body
   * value against the scanner's rules under its type's limits — string, bin, array and map
   * sizes, UTF-8, keys, depth, plain finite numbers, no `undefined` — and kept each body's
   * value count (keys included) within `elementsMax`. The frame's sizes are still checked: a
   * frame larger than an item type's `frameBytesMax` is scanned after all, to measure its
   * items. Default `true`.
   */
  scan?: boolean;
}

export interface CodecOptions {
  /** Limits for every type, before each type's own overrides. */
  limits?: Partial<WireLimits>;
  batch?: Partial<BatchLimits>;
  /**
   * `omit` (default): an object field set to `undefined` is left out, as in JSON. `reject`:
   * bodies must hold no `undefined` anywhere (the caller made sure, e.g. the actor transport's
   * `WireBodies`); msgpackr then writes one as its undefined ext, which the codec's scan of its
   * own output refuses (`EncodeError`) — so with `encodeBatch(…, { scan: false })` the caller's
   * check is all there is. `reject` packs faster (no `skipValues` in msgpackr).
   */
  undefinedFields?: 'omit' | 'reject';
}

interface TypeEntry {
  readonly type: MessageType;
  readonly limits: WireLimits;
}

/** Bytes taken by a u16 id as msgpackr writes it (fixint, uint8, uint16), 0 if not one. */
function idBytes(first: number): number {
  return first < 0x80 ? 1 : first === 0xcc ? 2 : first === 0xcd ? 3 : 0;
}

function idAt(bytes: Uint8Array, p: number, size: number): number {
  return size === 1 ? bytes[p]! : size === 2 ? bytes[p + 1]! : (bytes[p + 1]! << 8) | bytes[p + 2]!;
}

/** Reads the header `[0, …` of a batch frame of 1 + 2n values: n and the offset of item 0. */
function batchHeader(bytes: Uint8Array, batchItemsMax: number): { readonly n: number; readonly pos: number } | Rejection {
  const end = bytes.length;
  if (end === 0) return reject('truncated', 'empty batch frame');
  const b = bytes[0]!;
  let count: number;
  let pos: number;
  if (b >= 0x90 && b <= 0x9f) {
    count = b & 0x0f;
    pos = 1;
  } else if (b === 0xdc || b === 0xdd) {
    pos = b === 0xdc ? 3 : 5;
    if (end < pos) return reject('truncated', 'batch header is cut off');
    count = b === 0xdc ? (bytes[1]! << 8) | bytes[2]! : ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  } else {
    return reject('bad-frame', `batch frame does not start with an array (0x${b.toString(16)})`);
  }
  if (count % 2 !== 1) return reject('bad-frame', `batch array holds ${count} values, not 1 + 2n`);
  const n = (count - 1) / 2;
  if (n > batchItemsMax) return reject('batch-too-large', `batch of ${n} messages exceeds ${batchItemsMax} (batchItemsMax)`);
  if (count > end - pos) return reject('truncated', `batch array of ${count} values runs past the end`);
  if (bytes[pos] !== 0x00) return reject('bad-frame', 'not a batch frame: marker 0 missing (a message frame?)');
  return { n, pos: pos + 1 };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class WireCodec {
  readonly limits: WireLimits;
  readonly batchLimits: BatchLimits;
  readonly stats = { message: new DecodeStats(), batch: new DecodeStats() };
  private readonly scanner = new Scanner();
  private readonly packer: (value: unknown) => Uint8Array;
  /** Effective limits per id; valid forever because the registry is append-only. */
  private readonly entries = new Map<number, TypeEntry>();
  /** Scratch: the type of each item of the batch being parsed. */
  private readonly batchEntries: TypeEntry[] = [];

  constructor(
    readonly registry: Registry,
    options: CodecOptions = {},
  ) {
    this.limits = resolveLimits(defaultWireLimits, options.limits);
    this.batchLimits = resolveBatchLimits(defaultBatchLimits, options.batch);
    this.packer = options.undefinedFields === 'reject' ? packPlainValue : packValue;
  }

  /** Effective limits of a message type under this codec. */
  limitsOf(type: MessageType): WireLimits {
    return this.entryForEncode(type).limits;
  }

  encode<T extends MessageType>(type: T, body: BodyOf<T>): Uint8Array {
    const entry = this.entryForEncode(type);
    const issue = type.schema.check(body, false);
    if (issue) throw new EncodeError(`${type.name}: ${issue.format('body')}`);
    const frame = this.pack([type.id, body], type.name);
    if (frame.length > entry.limits.frameBytesMax) {
      throw new EncodeError(`${type.name}: frame of ${frame.length} bytes exceeds ${entry.limits.frameBytesMax} (frameBytesMax)`);
    }
    const bodyStart = 1 + idBytes(frame[1]!);
    if (this.scanner.scan(frame, bodyStart, frame.length, entry.limits) !== frame.length) {
      throw new EncodeError(`${type.name}: body would be rejected by the receiver: ${this.scanner.reason}`);
    }
    return frame;
  }

  decode(bytes: Uint8Array): DecodeResult {
    const result = this.decodeFrame(bytes);
    if (result.ok) this.stats.message.accept();
    else this.stats.message.reject(result);
    return result;
  }

  encodeBatch(items: readonly BatchItem[], options: EncodeBatchOptions = {}): Uint8Array {
    const { batchItemsMax, batchBytesMax } = this.batchLimits;
    if (items.length > batchItemsMax) throw new EncodeError(`batch of ${items.length} messages exceeds ${batchItemsMax} (batchItemsMax)`);
    const flat = new Array<unknown>(1 + 2 * items.length);
    flat[0] = 0;
    // An item's body is part of the frame: a frame within every item's bound has no body over it.
    let itemBytesMax = Infinity;
    for (let i = 0; i < items.length; i++) {
      const { type, body } = items[i]!;
      itemBytesMax = Math.min(itemBytesMax, this.entryForEncode(type).limits.frameBytesMax);
      const issue = type.schema.check(body, false);
      if (issue) throw new EncodeError(`batch item ${i} (${type.name}): ${issue.format('body')}`);
      flat[1 + 2 * i] = type.id;
      flat[2 + 2 * i] = body;
    }
    const frame = this.pack(flat, 'batch');
    if (frame.length > batchBytesMax) throw new EncodeError(`batch frame of ${frame.length} bytes exceeds ${batchBytesMax} (batchBytesMax): send smaller batches`);
    if (options.scan === false && frame.length <= itemBytesMax) return frame;
    const parsed = this.parseBatch(frame);
    if (typeof parsed !== 'number') throw new EncodeError(`batch would be rejected by the receiver: ${parsed.reason}`);
    return frame;
  }

  decodeBatch(bytes: Uint8Array): BatchDecodeResult {
    const result = this.decodeBatchFrame(bytes);
    if (result.ok) this.stats.batch.accept();
    else this.stats.batch.reject(result);
    return result;
  }

  statsSnapshot(): { message: StatsSnapshot; batch: StatsSnapshot } {
    return { message: this.stats.message.snapshot(), batch: this.stats.batch.snapshot() };
  }

  private decodeFrame(bytes: Uint8Array): DecodeResult {
    if (!(bytes instanceof Uint8Array)) return reject('bad-frame', 'frame is not a byte array');
    const end = bytes.length;
    if (end === 0) return reject('truncated', 'empty frame');
    if (bytes[0] !== 0x92) return reject('bad-frame', `frame does not start with a 2-element array (0x${bytes[0]!.toString(16)})`);
    const size = end > 1 ? idBytes(bytes[1]!) : 0;
    if (size === 0) return reject(end > 1 ? 'bad-frame' : 'truncated', 'message id is not a u16 at offset 1');
    if (1 + size >= end) return reject('truncated', 'frame ends before the body');
    const id = idAt(bytes, 1, size);
    const entry = this.entry(id);
    if (!entry) return reject('unknown-type', `unknown message id ${id}`);
    const { type, limits } = entry;
    if (end > limits.frameBytesMax) return reject('frame-too-large', `${type.name}: frame of ${end} bytes exceeds ${limits.frameBytesMax} (frameBytesMax)`);
    const bodyStart = 1 + size;
    const bodyEnd = this.scanner.scan(bytes, bodyStart, end, limits);
    if (bodyEnd < 0) return reject(this.scanner.category, `${type.name}: ${this.scanner.reason}`);
    if (bodyEnd !== end) return reject('trailing-bytes', `${type.name}: ${end - bodyEnd} bytes after the body`);
    let body: unknown;
    try {
      body = unpackRange(bytes, bodyStart, end);
    } catch (err) {
      return reject('malformed', `${type.name}: msgpackr refused a scanned body: ${errorText(err)}`);
    }
    const issue = type.schema.check(body, true);
    if (issue) return reject('schema', `${type.name}: ${issue.format('body')}`);
    return { ok: true, type, id, name: type.name, body };
  }

  private decodeBatchFrame(bytes: Uint8Array): BatchDecodeResult {
    if (!(bytes instanceof Uint8Array)) return reject('bad-frame', 'batch frame is not a byte array');
    const n = this.parseBatch(bytes);
    if (typeof n !== 'number') return n;
    let values: unknown;
    try {
      values = unpackRange(bytes, 0, bytes.length);
    } catch (err) {
      return reject('malformed', `batch: msgpackr refused a scanned frame: ${errorText(err)}`);
    }
    if (!Array.isArray(values) || values.length !== 1 + 2 * n) return reject('malformed', 'batch: msgpackr result has the wrong shape');
    const messages = new Array<Message>(n);
    const entries = this.batchEntries;
    for (let i = 0; i < n; i++) {
      const { type } = entries[i]!;
      const body: unknown = values[2 + 2 * i];
      const issue = type.schema.check(body, true);
      if (issue) return reject('schema', `batch item ${i} (${type.name}): ${issue.format('body')}`);
      messages[i] = { type, id: type.id, name: type.name, body };
    }
    return { ok: true, messages };
  }

  /**
   * Checks the structure of a batch frame — header, marker, every id, every body under its
   * type's limits, no trailing bytes — and leaves each item's type in `batchEntries`.
   * Returns the item count, or a rejection.
   */
  private parseBatch(bytes: Uint8Array): number | Rejection {
    const end = bytes.length;
    const { batchBytesMax, batchItemsMax } = this.batchLimits;
    if (end > batchBytesMax) return reject('frame-too-large', `batch frame of ${end} bytes exceeds ${batchBytesMax} (batchBytesMax)`);
    const header = batchHeader(bytes, batchItemsMax);
    if (!('n' in header)) return header;
    const n = header.n;
    let pos = header.pos;
    for (let i = 0; i < n; i++) {
      const size = pos < end ? idBytes(bytes[pos]!) : 0;
      if (size === 0) return reject(pos < end ? 'bad-frame' : 'truncated', `batch item ${i}: message id is not a u16 at offset ${pos}`);
      if (pos + size >= end) return reject('truncated', `batch item ${i}: frame ends before the body`);
      const id = idAt(bytes, pos, size);
      const entry = this.entry(id);
      if (!entry) return reject('unknown-type', `batch item ${i}: unknown message id ${id}`);
      const bodyStart = pos + size;
      const bodyEnd = this.scanner.scan(bytes, bodyStart, end, entry.limits);
      if (bodyEnd < 0) return reject(this.scanner.category, `batch item ${i} (${entry.type.name}): ${this.scanner.reason}`);
      if (bodyEnd - bodyStart > entry.limits.frameBytesMax) {
        return reject('frame-too-large', `batch item ${i} (${entry.type.name}): body of ${bodyEnd - bodyStart} bytes exceeds ${entry.limits.frameBytesMax} (frameBytesMax)`);
      }
      this.batchEntries[i] = entry;
      pos = bodyEnd;
    }
    if (pos !== end) return reject('trailing-bytes', `batch: ${end - pos} bytes after the last item`);
    return n;
  }

  private pack(value: unknown, what: string): Uint8Array {
    try {
      return this.packer(value);
    } catch (err) {
      throw new EncodeError(`${what}: msgpack cannot encode it (${errorText(err)})`);
    }
  }

  private entry(id: number): TypeEntry | undefined {
    const cached = this.entries.get(id);
    if (cached) return cached;
    const type = this.registry.byId(id);
    if (!type) return undefined;
    const entry = { type, limits: resolveLimits(this.limits, type.limits) };
    this.entries.set(id, entry);
    return entry;
  }

  private entryForEncode(type: MessageType): TypeEntry {
    if (!this.registry.has(type)) throw new EncodeError(`message type ${type.name} (id ${type.id}) is not in this codec's registry`);
    return this.entry(type.id)!;
  }
}
