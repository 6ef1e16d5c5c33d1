import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// V8 keeps an arrow's optimized code only while an arrow of that literal lives, and a class's hidden
// class (with the code compiled against it) only while an instance lives or a little after. What a
// driver makes per request, task or batch is all gone between bursts, so a full GC there made the
// next burst compile its path again (docs/bench-profiles.md §28.1, §28.3). test-kit/bursts.ts runs
// four bursts of pipelined sends, reads and acks through the driver's own code with a full GC after
// each, under V8's compile trace and code log; here every TurboFan compile of this package's
// src/ is placed in its burst.

const kit = fileURLToPath(new URL('../test-kit/bursts.ts', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

interface Compile {
  burst: number;
  source: string;
}

function compiles(): Compile[] {
  const dir = mkdtempSync(join(tmpdir(), 'pulsar-bursts-'));
  try {
    const log = join(dir, 'v8.log');
    const run = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--trace-opt',
        // Compiles land where they are asked for, so each is placed in its burst.
        '--no-concurrent-recompilation',
        '--log-code',
        `--logfile=${log}`,
        '--no-logfile-per-isolate',
        '--conditions=switchyard-source',
        '--import',
        'tsx',
        kit,
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    // The code log names each function's source; the trace gives its SharedFunctionInfo (tagged).
    const sources = new Map<string, string>();
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const parts = line.split(',');
      if (line.startsWith('code-creation,JS,'))
        sources.set(parts.at(-2) as string, parts.slice(6, -2).join(','));
      else if (line.startsWith('sfi-move,')) {
        const moved = sources.get(parts[1] as string);
        if (moved !== undefined) sources.set(parts[2] as string, moved);
      }
    }
    const found: Compile[] = [];
    let burst = -1;
    for (const line of run.stdout.split('\n')) {
      if (line.startsWith('@@burst ')) burst = Number(line.slice(8));
      const m = /completed compiling 0x\w+ <JSFunction ?\S*? ?\(sfi = (0x\w+)\)/.exec(line);
      if (m === null) continue;
      const source = sources.get(`0x${(Number.parseInt(m[1] as string, 16) - 1).toString(16)}`) ?? '';
      if (source.includes('/packages/pulsar-http/src/')) found.push({ burst, source });
    }
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the pipelined path across bursts', () => {
  it('compiles nothing of the driver again in a later burst after full GCs', () => {
    const found = compiles();
    // The path was compiled at all (the trace and the code log were read).
    expect(found.filter((c) => c.burst <= 1).length).toBeGreaterThan(5);
    const before = new Set(found.filter((c) => c.burst <= 1).map((c) => c.source));
    // Burst 2 may still finish first tier-ups (and recompile what the fresh producer and reader
    // change); the last burst runs on what is there.
    const again = found.filter((c) => c.burst === 3 && before.has(c.source)).map((c) => c.source);
    expect(again).toEqual([]);
  }, 130_000);
});
