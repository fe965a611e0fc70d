// The transport compliance suite against the Node transport on 127.0.0.1: UDP datagrams, and
// streams framed both ways — WebSockets (the default) and length-prefixed TCP (`framing: 'tcp'`).
import t, { type Test } from 'tap';
import { freeTcpPort, nodeTransport, type Transport } from '@shoal/runtime';
import { transportCompliance } from '@shoal/runtime/compliance';

const waitLimitMs = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Node transport with every stream framed as `framing` says. */
function framed(framing: 'ws' | 'tcp'): Transport {
  const base = nodeTransport();
  return {
    bindDatagram: (local, on) => base.bindDatagram(local, on),
    listenStreams: (local, on, opts) => base.listenStreams(local, on, { ...opts, framing }),
    connectStream: (remote, opts) => base.connectStream(remote, { ...opts, framing }),
  };
}

function suite(t: Test, framing: 'ws' | 'tcp'): void {
  transportCompliance(t, async () => ({
    a: { transport: framed(framing), host: '127.0.0.1' },
    b: { transport: framed(framing), host: '127.0.0.1' },
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
}

for (const framing of ['ws', 'tcp'] as const) t.test(`streams framed by ${framing}`, async (t) => suite(t, framing));
