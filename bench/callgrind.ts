// The profiles' callgrind control, shared: each measured phase zeroes this process's counters as it
// starts and dumps them as it ends, so instructions per message come from that phase alone.

import { execFileSync } from 'node:child_process';

/**
 * CALLGRIND=1 (under `valgrind --tool=callgrind`): zeroes (-z) or dumps (-d) this process's
 * counters; without it, nothing. Instrumentation is turned on with the zeroing and off after the
 * dump, so under `--instr-atstart=no` start-up, fills and warm-ups run uninstrumented (several
 * times faster); with instrumentation on from the start the toggles change nothing measured.
 */
export function callgrind(command: '-z' | '-d'): void {
  if (!process.env.CALLGRIND) return;
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' });
  if (command === '-z') control('--instr=on');
  control(command);
  if (command === '-d') control('--instr=off');
}
