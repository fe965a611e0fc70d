/**
 * The two kinds of member the `swim` benchmark drives, behind one interface: a Shoal SWIM process
 * (packages/swim/src/main.ts, control over stdin/stdout) and a HashiCorp Serf agent (control over
 * its msgpack RPC, the protocol `serf members -rpc-addr … -format json` speaks, kept open so that
 * polling every 20–100 ms costs a request, not a process).
 *
 * States are normalized to `alive | failed | left | leaving`: Shoal's `dead` is Serf's `failed`,
 * and Shoal's `suspect` counts as alive because Serf lists suspects as alive (memberlist does not
 * surface suspicion to Serf). Every process is ended by its PID.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr, UnpackrStream } from 'msgpackr';
import { endChild, exited, procUsage, sleep } from './procs.js';

export type State = 'alive' | 'failed' | 'left' | 'leaving';

export interface Agent {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Name → state as this agent sees it (itself included), or undefined if it cannot answer yet. */
  members(): Promise<Map<string, State> | undefined>;
  join(address: string): Promise<void>;
  /** Graceful leave; the process exits afterwards. */
  leave(): Promise<void>;
  /** kill -9 by PID. */
  kill(): void;
  /** Ends the process by PID (SIGKILL if it does not exit in time) and waits for it. */
  end(): Promise<void>;
  /** CPU seconds (user + system) used so far, and resident memory in bytes, from /proc. */
  usage(): { cpuSec: number; rssBytes: number };
}

export interface AgentSystem {
  readonly name: 'shoal' | 'serf';
  /** Starts a member on 127.0.0.1:`port`, joining `seed` at start if given; resolves once it answers. */
  start(name: string, port: number, seed?: string): Promise<Agent>;
}

// ---- Shoal -------------------------------------------------------------------------------

const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/swim/dist/src/main.js');

class ShoalAgent implements Agent {
  private buf = '';
  private readonly waiters: ((line: Record<string, unknown>) => boolean)[] = [];
  ready = false;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onData(chunk));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>;
      this.buf = this.buf.slice(nl + 1);
      if (line['type'] === 'ready') this.ready = true;
      const i = this.waiters.findIndex((w) => w(line));
      if (i >= 0) this.waiters.splice(i, 1);
    }
  }

  next(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${type} line`)), timeoutMs);
      this.waiters.push((line) => {
        if (line['type'] !== type) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      });
    });
  }

  private ask(cmd: string, type: string): Promise<Record<string, unknown>> {
    const answer = this.next(type);
    this.child.stdin!.write(`${cmd}\n`);
    return answer;
  }

  async members(): Promise<Map<string, State> | undefined> {
    if (!this.ready || exited(this.child)) return undefined;
    const line = await this.ask('members', 'members');
    const out = new Map<string, State>();
    for (const m of line['members'] as { name: string; state: string }[]) {
      out.set(m.name, m.state === 'dead' ? 'failed' : m.state === 'suspect' ? 'alive' : (m.state as State));
    }
    return out;
  }

  async join(address: string): Promise<void> {
    await this.ask(`join ${address}`, 'joined');
  }

  async leave(): Promise<void> {
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.write('leave\n');
    await Promise.race([done, sleep(5000)]);
  }

  kill(): void {
    if (this.child.pid !== undefined && !exited(this.child)) process.kill(this.child.pid, 'SIGKILL');
  }

  end(): Promise<void> {
    return endChild(this.child, 'SIGTERM', 3_000);
  }

  usage(): { cpuSec: number; rssBytes: number } {
    return procUsage(this.pid);
  }
}

export function shoalSystem(keyFile: string, nodeFlags: readonly string[] = []): AgentSystem {
  return {
    name: 'shoal',
    async start(name, port, seed) {
      // --no-events: Serf agents print nothing either; the bench polls states.
      const args = [...nodeFlags, mainJs, '--name', name, '--bind', `127.0.0.1:${port}`, '--key-file', keyFile, '--cluster', 'bench', '--preset', 'lan', '--no-events'];
      if (seed) args.push('--join', seed);
      const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'ignore'] });
      const agent = new ShoalAgent(name, port, child);
      await agent.next('ready');
      return agent;
    },
  };
}

// ---- Serf --------------------------------------------------------------------------------

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Serf's RPC: msgpack header {Command, Seq} (+ body) out; header {Seq, Error} (+ body) back. */
class SerfRpc {
  private readonly socket: net.Socket;
  private readonly queue: { withBody: boolean; header?: Record<string, unknown>; resolve: (body: unknown) => void; reject: (e: Error) => void }[] = [];
  private seq = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const decoder = new UnpackrStream({ useRecords: false, mapsAsObjects: true });
    socket.pipe(decoder);
    decoder.on('data', (obj: Record<string, unknown>) => this.onObject(obj));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const p of this.queue.splice(0)) p.reject(new Error('serf rpc closed'));
    });
  }

  static connect(port: number): Promise<SerfRpc> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new SerfRpc(socket)));
      socket.once('error', reject);
    });
  }

  private onObject(obj: Record<string, unknown>): void {
    const head = this.queue[0];
    if (!head) return;
    if (!head.header) {
      head.header = obj;
      if (typeof obj['Error'] === 'string' && obj['Error'] !== '') {
        this.queue.shift();
        head.reject(new Error(`serf rpc: ${obj['Error']}`));
        return;
      }
      if (head.withBody) return;
      this.queue.shift();
      head.resolve(undefined);
      return;
    }
    this.queue.shift();
    head.resolve(obj);
  }

  call(command: string, body: unknown, withBody: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ withBody, resolve, reject });
      const parts = [packr.pack({ Command: command, Seq: this.seq++ })];
      if (body !== undefined) parts.push(packr.pack(body));
      this.socket.write(Buffer.concat(parts));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

class SerfAgent implements Agent {
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private rpc: SerfRpc | undefined,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async members(): Promise<Map<string, State> | undefined> {
    if (!this.rpc || exited(this.child)) return undefined;
    const body = (await this.rpc.call('members', undefined, true)) as { Members: { Name: string; Status: string }[] };
    return new Map(body.Members.map((m) => [m.Name, m.Status as State]));
  }

  async join(address: string): Promise<void> {
    await this.rpc?.call('join', { Existing: [address], Replay: false }, true);
  }

  async leave(): Promise<void> {
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.rpc?.call('leave', undefined, false).catch(() => undefined);
    this.rpc?.close();
    this.rpc = undefined;
    await Promise.race([done, sleep(5000)]);
  }

  kill(): void {
    this.rpc?.close();
    this.rpc = undefined;
    if (this.child.pid !== undefined && !exited(this.child)) process.kill(this.child.pid, 'SIGKILL');
  }

  async end(): Promise<void> {
    this.rpc?.close();
    this.rpc = undefined;
    await endChild(this.child, 'SIGTERM', 3_000);
  }

  usage(): { cpuSec: number; rssBytes: number } {
    return procUsage(this.pid);
  }
}

/** `serf <version>` if the serf binary runs (the Debian package version when dpkg knows it), else undefined. */
export function serfAvailable(): string | undefined {
  try {
    const v = execFileSync('serf', ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    try {
      // Debian's build reports "0.8.2-dev"; the package version says what it really is.
      const deb = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'serf'], { encoding: 'utf8' }).trim();
      if (deb !== '') return `serf ${deb.replace(/[~+-].*$/, '')} (Debian ${deb})`;
    } catch {
      // not a Debian system: fall through
    }
    return `serf ${v.replace(/^Serf\s+/, '')}`;
  } catch {
    return undefined;
  }
}

/** Serf agents with `-profile=lan` and AES-256 gossip encryption; RPC on port + 1000. */
export function serfSystem(keyBase64: string): AgentSystem {
  return {
    name: 'serf',
    async start(name, port, seed) {
      const rpcPort = port + 1000;
      const args = ['agent', `-node=${name}`, `-bind=127.0.0.1:${port}`, `-rpc-addr=127.0.0.1:${rpcPort}`, `-encrypt=${keyBase64}`, '-profile=lan', '-log-level=err'];
      if (seed) args.push(`-join=${seed}`);
      const child = spawn('serf', args, { stdio: ['ignore', 'ignore', 'ignore'] });
      for (let tries = 0; tries < 500; tries++) {
        if (exited(child)) throw new Error(`serf agent ${name} exited (${child.exitCode ?? child.signalCode})`);
        const rpc = await SerfRpc.connect(rpcPort).catch(() => undefined);
        if (rpc) {
          await rpc.call('handshake', { Version: 1 }, false);
          return new SerfAgent(name, port, child, rpc);
        }
        await sleep(10);
      }
      throw new Error(`serf agent ${name} did not answer on its RPC port`);
    },
  };
}

// ---- the start-up floor --------------------------------------------------------------------

/**
 * What a bare Node process does before a member could: start, bind a UDP socket on 127.0.0.1,
 * say `ready`. Nothing of Shoal is loaded; it exits at the end of stdin or on SIGTERM.
 */
const bareMemberScript = [
  "const s = require('node:dgram').createSocket('udp4');",
  "s.bind(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));",
  "process.stdin.on('end', () => process.exit(0)).resume();",
].join(' ');

/**
 * Spawns `count` bare Node processes at once (same flags as the Shoal members) and returns the ms
 * from the spawn until the last one is ready: the part of a spawned cold start that any Node.js
 * member pays before its first packet, on this machine's cores. Every process is ended by its PID.
 */
export async function bareNodeReadyMs(count: number, basePort: number, nodeFlags: readonly string[]): Promise<number> {
  const children: ChildProcess[] = [];
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const child = spawn(process.execPath, [...nodeFlags, '-e', bareMemberScript, String(basePort + i)], { stdio: ['pipe', 'pipe', 'ignore'] });
        children.push(child);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('a bare Node process did not start within 30 s')), 30_000);
          child.stdout!.once('data', () => {
            clearTimeout(timer);
            resolve();
          });
          child.once('exit', (code) => reject(new Error(`a bare Node process exited with ${code} before it was ready`)));
        });
      }),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(children.map((c) => endChild(c, 'SIGTERM', 3_000)));
  }
}
