/** Remote actors over authenticated WebSocket links. */
export { ActorNet, type MembershipEvent } from './router.js';
export { netDefaults, type NetOptions, type NetSettings } from './settings.js';
export { emptyNetStats, type NetStats, type PeerInfo } from './stats.js';
export { LinkError, linkProtocolVersion } from './link.js';
export { fromWireBody, UnserializableMessageError, bodyDepthMax } from './body.js';
