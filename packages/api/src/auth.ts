/**
 * Bearer-token authentication at the gateway.
 *
 * Tokens are random strings handed to clients once; the gateway keeps only their SHA-256
 * digests and compares digests in constant time, so neither the stored form nor the timing of a
 * comparison reveals a token. This module holds the admin tokens of the foundation; user
 * sessions (scrypt passwords, expiring tokens, permissions) arrive with the users issue.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

export interface Principal {
  kind: 'admin';
  name: string;
}

export interface Authenticator {
  /** The principal for a bearer token, or undefined if the token is not valid. */
  authenticate(token: string): Principal | undefined;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Accepts any of the given admin tokens (rotation: old and new are both valid until removed). */
export function adminTokenAuthenticator(tokens: readonly string[]): Authenticator {
  const digests = tokens.filter((t) => t.length > 0).map(digest);
  return {
    authenticate(token) {
      const d = digest(token);
      // Compare against every digest so the time taken does not depend on which one matched.
      let ok = false;
      for (const known of digests) ok = timingSafeEqual(known, d) || ok;
      return ok ? { kind: 'admin', name: 'admin' } : undefined;
    },
  };
}

/** Extracts the token from an `Authorization: Bearer <token>` header, with a clear error. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length === 0) {
    throw new ApiError('unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
  }
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  if (!m?.[1]) throw new ApiError('unauthorized', 'malformed Authorization header: expected "Bearer <token>"');
  return m[1];
}
