// `switchyard emulator [flags]`: runs @switchyard/emulator's own CLI (the `switchyard-emulator`
// bin) with the same flags, forwarding signals, so both commands behave identically.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../output.js';

/** The emulator package's bin, found from wherever the package resolves (src/ or dist/). */
export function emulatorBin(): string {
  const entry = fileURLToPath(import.meta.resolve('@switchyard/emulator'));
  return join(dirname(dirname(entry)), 'bin', 'switchyard-emulator.mjs');
}

export function emulatorCommand(args: readonly string[], io: Io): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [emulatorBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(io.stdout as NodeJS.WritableStream, { end: false });
    child.stderr.pipe(io.stderr as NodeJS.WritableStream, { end: false });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', (error) => {
      io.stderr.write(`switchyard emulator: cannot start the emulator: ${error.message}\n`);
      resolve(10);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 10));
    });
  });
}
