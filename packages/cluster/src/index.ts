/**
 * @shoal/cluster — the composition root of a core node.
 */
export * from './config.js';
export * from './secrets.js';
export * from './node.js';
export * from './version.js';
export { memberBody, type MemberBody } from './membership.js';
export { HypervisorDirectory, hypervisorRoutes, type HypervisorView } from './hypervisors.js';
export * from './hypervisor-store.js';
