/**
 * The moment a socket or server is bound, as a promise — shared by UDP, TCP and WebSocket. An
 * 'error' before then is a ListenError naming what and where (the socket is closed again); after
 * it, errors concern single connections or datagrams, which their own handlers report, so the
 * socket's own are dropped (an unhandled 'error' event would end the process).
 */
import type { EventEmitter } from 'node:events';
import { ListenError, type Address } from './transport.js';

type Bindable = Pick<EventEmitter, 'once' | 'off' | 'on'> & { close(): unknown };

export function listening(what: string, local: Address, target: Bindable, start: (ready: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      target.close();
      reject(new ListenError(what, local, err));
    };
    target.once('error', fail);
    start(() => {
      target.off('error', fail);
      target.on('error', () => undefined);
      resolve();
    });
  });
}
