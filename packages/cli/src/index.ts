// @switchyard/cli: the `switchyard` command, also callable in-process.

export { runCli } from './cli.js';
export { ExitCode, exitCodeFor, UsageError } from './exit-codes.js';
