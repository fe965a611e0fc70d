/** Process entry of `shoal`: real stdio, environment, signals, and the exit status. */
import { nodeWorld, type World } from '@shoal/runtime';
import { runCli } from './main.js';

// A reader that goes away (`shoal cluster ring | head`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

let world: World | undefined;
let stopRequested: Promise<string> | undefined;

function stopSignal(): Promise<string> {
  stopRequested ??= new Promise((resolve) => {
    let seen = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      seen++;
      if (seen === 1) resolve(signal);
      else {
        process.stderr.write(`shoal: ${signal} again: exiting without a clean stop\n`);
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return stopRequested;
}

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  world: () => (world ??= nodeWorld({ logLevel: 'warn' })),
  stopSignal,
});
process.exitCode = code;
if (stopRequested) process.exit(code);
