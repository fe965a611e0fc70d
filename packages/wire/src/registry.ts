/**
 * Registry: the append-only table of message types (STYLE.md, habit 4: the wire is a versioned
 * contract).
 *
 * Each type has a number (u16, what goes on the wire), a dotted name (what people and logs
 * read), a schema (what a body must look like) and optional limits tighter or looser than the
 * codec's. A number, once shipped, means the same message forever: ids are never reused or
 * renamed, only appended (test/registry.test.ts holds the ids against a checked-in fixture).
 * A schema may evolve compatibly, e.g. by adding optional fields.
 *
 * Id 0 is not a message type: it marks a batch frame (codec.ts).
 */
import { RegistryError } from './errors.js';
import type { WireLimits } from './limits.js';
import type { Infer, Schema } from './schema.js';

export interface MessageType<S extends Schema<unknown> = Schema<unknown>> {
  /** 1–65535, unique in the registry. */
  readonly id: number;
  /** Dotted lower-case name, unique in the registry: `handshake.hello`, `actor.batch`. */
  readonly name: string;
  readonly schema: S;
  /** Overrides of the codec's limits for this type's bodies. */
  readonly limits: Partial<WireLimits>;
}

/** The body type of a message type. */
export type BodyOf<T extends MessageType> = Infer<T['schema']>;

export interface MessageDefinition<S extends Schema<unknown>> {
  id: number;
  name: string;
  schema: S;
  limits?: Partial<WireLimits>;
}

export const messageIdMax = 0xffff;
const namePattern = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export class Registry {
  private readonly byIdTable = new Map<number, MessageType>();
  private readonly byNameTable = new Map<string, MessageType>();

  /** Adds a type; throws `RegistryError` on a duplicate id or name or a malformed one. */
  define<S extends Schema<unknown>>(definition: MessageDefinition<S>): MessageType<S> {
    const { id, name, schema } = definition;
    if (!Number.isInteger(id) || id < 1 || id > messageIdMax) {
      throw new RegistryError(`message id must be an integer from 1 to ${messageIdMax}, got ${id} (${name})`);
    }
    if (!namePattern.test(name)) throw new RegistryError(`message name ${JSON.stringify(name)} must be dotted lower case, like "actor.batch"`);
    const sameId = this.byIdTable.get(id);
    if (sameId) throw new RegistryError(`message id ${id} is already ${sameId.name}; cannot define ${name}`);
    const sameName = this.byNameTable.get(name);
    if (sameName) throw new RegistryError(`message name ${name} is already id ${sameName.id}; cannot define it as id ${id}`);
    const type: MessageType<S> = Object.freeze({ id, name, schema, limits: Object.freeze({ ...definition.limits }) });
    this.byIdTable.set(id, type);
    this.byNameTable.set(name, type);
    return type;
  }

  byId(id: number): MessageType | undefined {
    return this.byIdTable.get(id);
  }

  byName(name: string): MessageType | undefined {
    return this.byNameTable.get(name);
  }

  /** True when `type` is the very object this registry defined under its id. */
  has(type: MessageType): boolean {
    return this.byIdTable.get(type.id) === type;
  }

  /** All types, by id. */
  list(): MessageType[] {
    return [...this.byIdTable.values()].sort((a, b) => a.id - b.id);
  }

  get size(): number {
    return this.byIdTable.size;
  }
}
