/** Runs `shoal` in this process, capturing what it prints, for tests of parsing and messages. */
import { nodeWorld } from '@shoal/runtime';
import { runCli } from '../src/main.js';

export async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env,
    world: () => nodeWorld({ logWrite: () => undefined }),
    stopSignal: () => new Promise(() => undefined),
  });
  return { code, out, err };
}
