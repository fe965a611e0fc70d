// The transport compliance suite against the Node transport (UDP + ws) on 127.0.0.1.
import t from 'tap';
import { freeTcpPort, nodeTransport } from '@shoal/runtime';
import { transportCompliance } from '@shoal/runtime/compliance';

const waitLimitMs = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

transportCompliance(t, async () => ({
  a: { transport: nodeTransport(), host: '127.0.0.1' },
  b: { transport: nodeTransport(), host: '127.0.0.1' },
  nowhere: `127.0.0.1:${await freeTcpPort()}`,
  settle: async (p) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${waitLimitMs} ms`)), waitLimitMs);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  },
  waitFor: async (done, what) => {
    const deadline = Date.now() + waitLimitMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${waitLimitMs} ms`);
      await sleep(2);
    }
  },
  idle: sleep,
}));
