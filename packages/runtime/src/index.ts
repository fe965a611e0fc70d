/**
 * @shoal/runtime — the only door to the outside world.
 *
 * Clock, Random, Transport, Storage and Logger are interfaces; this package also holds their
 * Node.js implementations. Nothing else in Shoal touches timers, `Date.now`, `Math.random`,
 * sockets or the file system (a lint rule enforces it), so packages/sim can run every protocol
 * deterministically by handing it simulated implementations of the same interfaces.
 */
export * from './clock.js';
export * from './random.js';
export * from './transport.js';
export * from './storage.js';
export * from './logger.js';
export * from './world.js';
export { nodeTransport } from './node-transport.js';
export { openLmdbStorageLazily as openLmdbStorage } from './world.js';
export { files, FileError } from './files.js';
export { claimDataDir, type DirOwner } from './dir-owner.js';
export { httpRequest, HttpClientError, type HttpRequest, type HttpResponse } from './http-client.js';
export { freeTcpPort } from './ports.js';
export { runCommand, spawnProcess, killPid, pidAlive, onStdinClosed, commandDefaults, CommandStartError, CommandTimeoutError, CommandAbortedError, CommandOutputError, type CommandOptions, type CommandResult, type SpawnOptions, type ChildHandle } from './process.js';
