// Batch path throughput (printed, never asserted: timing varies too much between machines and
// under a parallel test run). The target is ≥ 1 M small messages/s each way on one core.
// The measurement runs in a plain child process (see throughput-main.ts for why).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Figures {
  bytesPerMessage: number;
  batchSize: number;
  encodeBatch: number;
  decodeBatch: number;
  encodeEnvelope: number;
  decodeEnvelope: number;
  encodeSends: number;
  decodeSends: number;
  sendsBytesPerMessage: number;
  singleFrameBytes: number;
  encodeSingle: number;
  decodeSingle: number;
}

t.test('encode and decode rates (printed, not asserted)', async (t) => {
  const script = fileURLToPath(new URL('./throughput-main.js', import.meta.url));
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const out = execFileSync(process.execPath, [script], { env, encoding: 'utf8' });
  const f = JSON.parse(out.trim().split('\n').at(-1)!) as Figures;
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M msgs/s`;
  t.comment(`${f.bytesPerMessage.toFixed(1)} bytes per message (id + body), ${f.batchSize} per frame, one core:`);
  t.comment(`  encodeBatch              ${m(f.encodeBatch)}`);
  t.comment(`  decodeBatch              ${m(f.decodeBatch)}`);
  t.comment(`  actor.sends (link v2, ${f.sendsBytesPerMessage.toFixed(1)} B per message)  encode ${m(f.encodeSends)}, decode ${m(f.decodeSends)}`);
  t.comment(`  actor.batch (link v1)    encode ${m(f.encodeEnvelope)}, decode ${m(f.decodeEnvelope)}`);
  t.comment(`  single frames (${f.singleFrameBytes} B)  encode ${m(f.encodeSingle)}, decode ${m(f.decodeSingle)}`);
  t.ok(f.decodeBatch > 0 && f.encodeBatch > 0, 'the measurement ran');
});
