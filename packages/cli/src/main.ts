/**
 * `shoal`: the operator's command. Finds the command from the leading words, parses its flags,
 * runs it, and turns any failure into one clear line on stderr with a non-zero exit status.
 */
import { commandHelp, parseArgs, UsageError } from './args.js';
import type { Command } from './command.js';
import { CliError, type CliIO } from './io.js';
import { keygen } from './cmd-keygen.js';
import { nodeCommands } from './cmd-node.js';
import { clusterCommands } from './cmd-cluster.js';
import { dbCommands, ringCommands } from './cmd-ring.js';
import { agentCommands } from './cmd-agent.js';
import { hypervisorCommands } from './cmd-hypervisors.js';

export const commands: Command[] = [keygen, ...nodeCommands, ...agentCommands, ...clusterCommands, ...hypervisorCommands, ...ringCommands, ...dbCommands];

function overview(): string {
  const lines = ['usage: shoal <command> [options]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.path.join(' ').padEnd(20)} ${c.summary.split('. ')[0]?.replace(/\.$/, '')}`);
  lines.push('', "Run 'shoal <command> --help' for a command's options.");
  return `${lines.join('\n')}\n`;
}

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    const matches = c.path.every((word, i) => argv[i] === word);
    if (matches && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

/** The one line for words that name no command. */
function unknownCommand(argv: readonly string[]): string {
  const words = argv.filter((a) => !a.startsWith('-'));
  const options = argv.filter((a) => a.startsWith('-'));
  // `shoal --json node status`, `shoal node --json status`: a command, with options in front of it.
  const named = findCommand(words);
  if (named && options.length > 0) {
    return `shoal: options go after the command: 'shoal ${named.command.path.join(' ')} ${options[0]} …' (${options[0]} came before it)`;
  }
  if (words.length === 0) return `shoal: no command before ${options[0] ?? 'the options'}; run 'shoal --help'`;
  const group = commands.filter((c) => c.path[0] === words[0]);
  const hint = group.length > 0 ? `; '${words[0]}' takes: ${group.map((c) => c.path.slice(1).join(' ')).join(', ')}` : "; run 'shoal --help'";
  return `shoal: unknown command '${words.slice(0, 2).join(' ')}'${hint}`;
}

/** A message as one line of stderr (a server's or the system's text may hold newlines). */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' || argv[0] === '-h') {
    io.out(overview());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.err(`${unknownCommand(argv)}\n`);
    return 2;
  }
  const { command, rest } = found;
  const name = command.path.join(' ');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(name, command.summary, command.flags, command.positionals));
    return 0;
  }
  try {
    const args = parseArgs(name, rest, command.flags, command.positionals, io.env);
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`shoal ${name}: ${oneLine(err.message)}\n`);
      return 2;
    }
    if (err instanceof CliError || (err instanceof Error && err.name !== 'Error' && err.name !== 'TypeError' && err.name !== 'RangeError')) {
      io.err(`shoal ${name}: ${oneLine(err.message)}\n`);
      return 1;
    }
    const e = err as Error;
    io.err(`shoal ${name}: unexpected error: ${e.message}\n${e.stack ?? ''}\n`);
    return 70;
  }
}
