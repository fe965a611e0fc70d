/**
 * @shoal/swim — SWIM membership with the Lifeguard extensions.
 */
export * from './config.js';
export * from './awareness.js';
export * from './suspicion.js';
export * from './broadcast.js';
export * from './messages.js';
export * from './members.js';
export * from './probe.js';
export * from './state.js';
export * from './core.js';
