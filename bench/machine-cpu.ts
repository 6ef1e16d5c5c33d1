// Who used the machine's CPU during a bench run. The 1-minute load average cannot say: the bench's
// own section processes, its emulators and the brokers it drives (RabbitMQ, Mosquitto) raise it
// past the core count on a machine where nothing else runs (docs/bench-profiles.md §28.8). Linux's
// counters can: the whole machine's busy time (/proc/stat), this process and every child it has
// waited for (/proc/self/stat: the sections, and the emulators they waited for), and the service
// processes by name. What is left is other work. Elsewhere than Linux the header says nothing.

import { readdirSync, readFileSync } from 'node:fs';

/** Processes of the services the bench measures against: their CPU is part of the run, not other work. */
const SERVICES = new Set(['beam.smp', 'erl_child_setup', 'epmd', 'inet_gethost', 'mosquitto']);

export interface CpuSnapshot {
  /** All cores' busy clock ticks (everything but idle and iowait). */
  machine: number;
  /** This process plus its waited-for descendants, ticks. */
  bench: number;
  /** Service processes by pid, ticks (a pid is compared only with itself). */
  services: Map<number, number>;
}

export interface CpuShare {
  /** CPU-seconds over the run. */
  bench: number;
  services: number;
  other: number;
  /** Seconds between the snapshots, for the share of the cores. */
  wall: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node runs on.

/** Fields after the command name of /proc/<pid>/stat (the name may hold spaces and parentheses). */
function statFields(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function serviceTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      if (!SERVICES.has(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) continue;
      const f = statFields(`/proc/${pid}/stat`);
      ticks.set(pid, Number(f[11]) + Number(f[12])); // utime, stime
    } catch {
      // Gone between the listing and the read.
    }
  }
  return ticks;
}

/** A snapshot of the counters, or undefined where /proc does not have them. */
export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    const machine = cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    const f = statFields('/proc/self/stat');
    const bench = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    return { machine, bench, services: serviceTicks() };
  } catch {
    return undefined;
  }
}

/** CPU-seconds each kind of process used between two snapshots. */
export function cpuShare(before: CpuSnapshot, after: CpuSnapshot, wallSeconds: number): CpuShare {
  let services = 0;
  for (const [pid, ticks] of after.services) services += ticks - (before.services.get(pid) ?? 0);
  const machine = after.machine - before.machine;
  const bench = after.bench - before.bench;
  return {
    bench: bench / TICKS_PER_SECOND,
    services: services / TICKS_PER_SECOND,
    other: Math.max(0, machine - bench - services) / TICKS_PER_SECOND,
    wall: wallSeconds,
  };
}

/** One clause for the results header: who used the CPU, and whether other work did enough to matter. */
export function describeCpuShare(share: CpuShare, cores: number): string {
  const pct = (s: number) => `${Math.round((100 * s) / (share.wall * cores))} %`;
  const words = `CPU over the run: the bench's processes ${share.bench.toFixed(0)} s, the brokers ${share.services.toFixed(0)} s, other work ${share.other.toFixed(0)} s (${pct(share.other)} of the ${cores} cores)`;
  // Kernel threads and the session's idle shells take a little; a tenth of the machine is work.
  return share.other > 0.1 * share.wall * cores
    ? `${words}: other work ran, so absolute rates are low and rounds spread widely`
    : words;
}
