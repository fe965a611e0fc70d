/**
 * Named errors of @shoal/wire.
 *
 * Two kinds of failure (STYLE.md, habit 5): bytes from the network never throw — every decoder
 * returns a typed `Rejection` instead (see stats.ts). What throws is a mistake of the program
 * itself: encoding a body that does not match its schema, defining a message id twice, a
 * malformed key file, limits that make no sense. Each is a named error whose message is one
 * clear sentence.
 */

/** A body handed to `encode`/`encodeBatch` does not fit its schema or the codec limits. */
export class EncodeError extends Error {
  override name = 'EncodeError';
}

/** A message type clashes with one already in the registry, or is malformed. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** A key, a keyring operation or a keyring file is invalid. */
export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** A limits object (or a schema's options) holds an impossible value. */
export class LimitsError extends Error {
  override name = 'LimitsError';
}

/** A handshake or session object was used out of order (a bug of the caller). */
export class ProtocolUsageError extends Error {
  override name = 'ProtocolUsageError';
}

/** A schema was built with impossible options (a bug in the message definitions). */
export class SchemaError extends Error {
  override name = 'SchemaError';
}
