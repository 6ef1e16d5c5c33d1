// Entry point of the `switchyard` bin.
import { runCli } from './cli.js';

// A reader that closed the pipe (`switchyard receive --follow | head`) is not an error worth a
// stack trace: the write that failed reports it to the command (receive gives that message back).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
