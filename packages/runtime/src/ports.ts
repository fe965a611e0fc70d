/**
 * A TCP port that was free a moment ago on `host`: bound to port 0, read, released. For callers
 * that must name a port before the process that listens on it starts (a seed's gossip port in
 * `--join`, a port nothing listens on). Another process may take it in between; callers that
 * can pass 0 to the listener itself should do that instead.
 */
import { createServer } from 'node:net';

export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
