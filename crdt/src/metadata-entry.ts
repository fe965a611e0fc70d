/**
 * `@shoal/crdt/metadata`: Automerge metadata documents, kept out of the main entry so that
 * importing the CRDTs does not load Automerge's WASM (~25 MB resident, ~46 ms).
 */
export * as metadata from './metadata.js';
export { MetadataError, metadataLimits } from './metadata.js';
export type { Json, MetadataErrorCode, MetadataResult } from './metadata.js';
