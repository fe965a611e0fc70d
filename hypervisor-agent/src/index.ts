/**
 * @shoal/hypervisor-agent — the agent that runs on every hypervisor host: the only authority on
 * that host's memory (the durable reservation ledger), zone lifecycle through a driver (`sim` or
 * `vmadm`), and its hypervisor record, served to core nodes by the actor
 * `['hypervisor', NAME]`. See README.md and docs/agent.md.
 */
export * from './errors.js';
export * from './limits.js';
export * from './hypervisor.js';
export * from './ledger-core.js';
export { DurableLedger, type DurableLedgerOptions, type LedgerStats } from './ledger.js';
export * from './sim-driver.js';
export * from './vmadm-format.js';
export * from './vmadm-driver.js';
export * from './zones.js';
export * from './record.js';
export * from './service.js';
export * from './actor.js';
export * from './client.js';
export * from './publisher.js';
export * from './metrics.js';
export * from './config.js';
export * from './agent.js';
export * from './version.js';
export { agentMainPath } from './paths.js';
