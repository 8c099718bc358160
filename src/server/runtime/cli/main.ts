#!/usr/bin/env node
/** Entry point of the saved-model-cli binary (package.json "bin"). */
import { runCli } from './cli.js';

// A closed pipe (saved-model-cli ... | head) ends the output quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const status = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = status;
