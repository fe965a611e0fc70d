// Printed, not asserted (beyond sanity): balance and join movement against the ideal, and the
// time to compute ownership, for M = 3 … 32 members of weight 1 at P = 64 and P = 1024, N = 3.
// Join = one more member (weight 1); moved = replicas copied / (n × P); ideal = 1/(M+1).
import t from 'tap';
import { balance } from '@shoal/ring';
import { namedMembers, ringOf, transfers } from './helpers.js';

function row(M: number, P: number): string {
  ringOf(namedMembers(M), P); // warm-up: JIT and the continuum code paths
  const started = performance.now();
  const ring = ringOf(namedMembers(M), P);
  const ms = performance.now() - started;
  const joined = ringOf(namedMembers(M + 1), P);
  const b = balance(ring);
  const moved = transfers(ring, joined) / (Math.min(3, M + 1) * P);
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(6);
  const r = (x: number): string => x.toFixed(2).padStart(5);
  return `| ${String(M).padStart(2)} | ${String(P).padStart(4)} | ${r(b.ownedRatioMin)} ${r(b.ownedRatioMax)} | ${r(b.primariesRatioMin)} ${r(b.primariesRatioMax)} | ${pct(moved)} ${pct(1 / (M + 1))} | ${ms.toFixed(1).padStart(6)} |`;
}

t.test('balance, movement and time table', async (t) => {
  const lines = ['|  M |    P | owned/fair min max | primaries/fair min max | join moved  ideal |     ms |', '|---|---|---|---|---|---|'];
  for (const P of [64, 1024]) for (const M of [3, 5, 8, 16, 32]) lines.push(row(M, P));
  t.comment(`\n${lines.join('\n')}`);
  t.pass('printed');
});
