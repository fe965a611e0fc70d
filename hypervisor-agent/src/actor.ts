/**
 * The agent's actor: `['hypervisor', NAME]` under the system root, the address core nodes
 * `query`. It is a thin shell over AgentService: each message is handed to `handle` at once (the
 * actor does not wait for the answer), and the answer is sent to the message's sender (the
 * query's temporary ref on the asking node) when it is ready. A message without a sender is
 * still handled; its answer becomes a dead letter (`nobody`), which is counted.
 */
import { dispatch, spawnStateless, type ActorRef } from '@shoal/actors';
import type { Logger } from '@shoal/runtime';
import type { AgentService } from './service.js';

export const hypervisorActorPath = (name: string): string[] => ['hypervisor', name];

export function spawnHypervisorActor(root: ActorRef<never>, name: string, service: AgentService, log: Logger): ActorRef<unknown> {
  const parent = spawnStateless(root, () => undefined, 'hypervisor');
  return spawnStateless(
    parent,
    (msg: unknown, ctx) => {
      const sender = ctx.sender;
      void service.handle(msg).then((reply) => {
        try {
          dispatch(sender, reply);
        } catch (err) {
          // The route back is full or refuses the reply: the asker's query times out.
          log.warn('cannot send a reply', { to: sender.toString(), err: err instanceof Error ? err.message : String(err) });
        }
      });
      return undefined;
    },
    name,
  );
}
