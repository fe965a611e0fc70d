/**
 * Named errors of the agent. Expected failures (a zone that does not exist, a host without the
 * memory asked for) are typed values or these errors with a stable `code`, never plain `Error`s;
 * a broken invariant is an `AgentBugError` and stops the agent.
 */
import type { AgentErrorCode } from '@shoal/wire';

/** A failure the caller can act on; `code` is what travels in `agent.reply-error`. */
export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a driver reports when an operation fails. `code` maps onto the reply codes. */
export type DriverErrorCode = 'not-found' | 'exists' | 'state' | 'busy' | 'invalid' | 'failed' | 'timeout' | 'unavailable';

export class DriverError extends Error {
  override name = 'DriverError';
  constructor(
    readonly code: DriverErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

export class AgentStartError extends Error {
  override name = 'AgentStartError';
}

/** The ledger cannot be trusted any more (a write failed): the agent stops rather than guess. */
export class LedgerStorageError extends Error {
  override name = 'LedgerStorageError';
}

export class LedgerClosedError extends Error {
  override name = 'LedgerClosedError';
}

/** A broken invariant: a bug. The agent crashes (fail-stop) instead of answering wrongly. */
export class AgentBugError extends Error {
  override name = 'AgentBugError';
}

/** The reply code for a driver failure. */
export function codeOfDriverError(err: DriverError): AgentErrorCode {
  switch (err.code) {
    case 'not-found':
    case 'exists':
    case 'state':
    case 'busy':
    case 'invalid':
    case 'timeout':
    case 'unavailable':
      return err.code;
    case 'failed':
      return 'driver';
  }
}
