/**
 * Command-line parsing for `shoal`: typed flags declared per command, validated once, with one
 * clear line for any mistake (unknown flag, missing value, bad number, flag given twice).
 * Accepts `--flag value`, `--flag=value`, boolean `--flag`, and `--` to end the flags.
 */

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'int' | 'port' | 'bool';

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  /** Shown in help, e.g. `PORT`. */
  valueName?: string;
  default?: string | number | boolean;
  /** Environment variable consulted when the flag is absent. */
  env?: string;
  /** Bounds of an `int` flag (inclusive); a value outside them is a usage error. */
  min?: number;
  max?: number;
}

export interface PositionalSpec {
  name: string;
  help: string;
  optional?: boolean;
}

export type FlagValue = string | number | boolean;

export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, FlagValue>,
    readonly positionals: readonly string[],
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  int(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
}

function convert(spec: FlagSpec, raw: string, source: string): FlagValue {
  switch (spec.type) {
    case 'string':
      if (raw.length === 0) throw new UsageError(`${source} needs a non-empty value`);
      return raw;
    case 'int':
    case 'port': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`${source} must be an integer, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (spec.type === 'port' && (n < 0 || n > 65535)) throw new UsageError(`${source} must be a port number 0-65535, got ${raw}`);
      if (!Number.isSafeInteger(n)) throw new UsageError(`${source} is out of range: ${raw}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${source} must be ${spec.min ?? '…'}-${spec.max ?? '…'}, got ${raw}`);
      }
      return n;
    }
    case 'bool':
      if (/^(1|true|yes)$/i.test(raw)) return true;
      if (/^(0|false|no|)$/i.test(raw)) return false;
      throw new UsageError(`${source} must be true or false, got ${JSON.stringify(raw)}`);
  }
}

function applyDefaults(specs: readonly FlagSpec[], values: Map<string, FlagValue>, env: Record<string, string | undefined>): void {
  for (const spec of specs) {
    if (values.has(spec.name)) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') values.set(spec.name, convert(spec, fromEnv, `environment variable ${spec.env}`));
    else if (spec.default !== undefined) values.set(spec.name, spec.default);
  }
}

/** Parses `argv` (the words after the command path) against the command's flags. */
export function parseArgs(
  command: string,
  argv: readonly string[],
  specs: readonly FlagSpec[],
  positionals: readonly PositionalSpec[],
  env: Record<string, string | undefined> = {},
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, FlagValue>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('--') || word === '--') {
      if (word.startsWith('-') && word.length > 1 && !/^-\d/.test(word)) throw new UsageError(`unknown option ${word} for '${command}' (options are spelled --name)`);
      words.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name} for '${command}' (see 'shoal ${command} --help')`);
    if (values.has(name)) throw new UsageError(`option --${name} is given twice`);
    let raw: string;
    if (eq !== -1) raw = word.slice(eq + 1);
    else if (spec.type === 'bool') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option --${name} needs a value (${spec.valueName ?? spec.type})`);
      raw = next;
      i++;
    }
    values.set(name, convert(spec, raw, `option --${name}`));
  }
  const empty = words.findIndex((w) => w.length === 0);
  if (empty !== -1) throw new UsageError(`${(positionals[empty]?.name ?? 'an argument').toUpperCase()} is empty`);
  const required = positionals.filter((p) => !p.optional).length;
  if (words.length < required) {
    const missing = positionals[words.length];
    throw new UsageError(`'${command}' needs ${missing ? missing.name.toUpperCase() : 'more arguments'} (see 'shoal ${command} --help')`);
  }
  if (words.length > positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(words[positionals.length])} for '${command}'`);
  }
  applyDefaults(specs, values, env);
  return new ParsedArgs(values, words);
}

/** Help text for one command. */
export function commandHelp(command: string, summary: string, specs: readonly FlagSpec[], positionals: readonly PositionalSpec[]): string {
  const usage = [`shoal ${command}`, ...positionals.map((p) => (p.optional ? `[${p.name.toUpperCase()}]` : p.name.toUpperCase())), '[options]'];
  const lines = [`usage: ${usage.join(' ')}`, '', summary, ''];
  for (const p of positionals) lines.push(`  ${p.name.toUpperCase().padEnd(28)} ${p.help}`);
  if (specs.length > 0) lines.push('options:');
  for (const s of specs) {
    const left = s.type === 'bool' ? `--${s.name}` : `--${s.name} ${s.valueName ?? s.type.toUpperCase()}`;
    const extra = [s.default !== undefined && s.type !== 'bool' ? `default ${String(s.default)}` : '', s.env ? `env ${s.env}` : ''].filter(Boolean).join(', ');
    lines.push(`  ${left.padEnd(28)} ${s.help}${extra ? ` (${extra})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
