// `switchyard emulator [flags]`: runs @switchyard/emulator's own CLI (the `switchyard-emulator`
// bin) with the same flags, forwarding signals, so both commands behave identically. The emulator
// is an optional peer of the CLI (30 MB that a producer or consumer never needs): it is looked up
// only here, and a missing one is a CONFIG error saying how to install it. Its ready line gains a
// `urls` object (one ready-to-paste URL per flavour), repeated for people on stderr.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@switchyard/core';
import { credentialFromFlags, emulatorUrls, type ReadyLine, urlLines } from '../emulator-urls.js';
import { ExitCode } from '../exit-codes.js';
import { type Io, line } from '../output.js';

export const EMULATOR_PACKAGE = '@switchyard/emulator';

/**
 * The emulator package's bin, found from wherever the package resolves (src/ or dist/). Throws a
 * CONFIG error naming the install command when the package is not installed.
 */
export function emulatorBin(packageName: string = EMULATOR_PACKAGE): string {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(packageName));
  } catch (error) {
    throw new ConfigError(
      `switchyard emulator needs the package ${packageName}, which is not installed (it is an optional peer of @switchyard/cli): npm install ${packageName}`,
      { cause: error, details: { package: packageName } },
    );
  }
  return join(dirname(dirname(entry)), 'bin', 'switchyard-emulator.mjs');
}

export function emulatorCommand(args: readonly string[], io: Io): Promise<number> {
  const bin = emulatorBin();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = true;
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (first) {
        first = false;
        const ready = readyLine(text);
        if (ready !== undefined) {
          const urls = emulatorUrls(ready, credentialFromFlags(args));
          line(io.stdout, JSON.stringify({ ...ready, urls }));
          for (const l of urlLines(urls, ready)) line(io.stderr, l);
          return;
        }
      }
      line(io.stdout, text);
    });
    child.stderr.pipe(io.stderr as NodeJS.WritableStream, { end: false });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', (error) => {
      line(io.stderr, `switchyard emulator: cannot start the emulator: ${error.message}`);
      resolve(ExitCode.INTERNAL);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? ExitCode.OK : ExitCode.INTERNAL));
    });
  });
}

/** The ready line, when the line is one (help text and other output pass through unchanged). */
function readyLine(text: string): ReadyLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ReadyLine>;
    return typeof parsed.cmq === 'string' &&
      typeof parsed.api === 'string' &&
      typeof parsed.rocketmq === 'string' &&
      typeof parsed.remoting === 'string'
      ? (parsed as ReadyLine)
      : undefined;
  } catch {
    return undefined;
  }
}
