/**
 * Compliance suites: the behaviour every implementation of a runtime interface must show.
 * Each suite takes a tap test and a factory, so the Node adapters (LMDB, UDP + ws) and the
 * simulator's implementations are held to the same contract by the same assertions.
 */
export { storageCompliance, type StorageHarness, type MakeStorage } from './storage.js';
export { transportCompliance, type TransportHarness, type TransportPeer, type MakeTransportPair } from './transport.js';
export { damageStoredValue, storedBytes, type RawKey } from './damage.js';
