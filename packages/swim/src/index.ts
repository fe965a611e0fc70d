/**
 * @shoal/swim — SWIM membership with the Lifeguard extensions (Das, Gupta, Motivala 2002;
 * Dadgar, Phillips, Currey 2017), following hashicorp/memberlist's engineering.
 *
 * The protocol core (`SwimCore`, core.ts and the modules it uses) is a pure state machine; the
 * shell (`SwimNode`, node.ts) gives it sockets, a timer, encryption and codecs through an
 * injected World. Start with `SwimNode` (README.md has an example); docs/swim.md describes the
 * protocol as built, its parameters and measurements.
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
export * from './codec.js';
export * from './net.js';
export * from './stream.js';
export * from './node.js';
