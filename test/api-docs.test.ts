// The API reference check (scripts/api-docs.mjs --check, also in npm run lint): TypeDoc over every
// package's exports finds no warning beyond the known backlog — no new undocumented export, no
// {@link} that resolves nowhere — and it does fail when a warning is not on the known list.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = join(root, 'scripts/api-docs.mjs');

function runCheck(env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, '--check'], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('API reference (TypeDoc)', () => {
  it('has no TypeDoc warning beyond the known list, and fails on one that is not on it', {
    timeout: 120_000,
  }, async () => {
    // One TypeDoc run (they take seconds each): against the known list less one line, that one
    // warning and no other is "new", so the full list passes and a new warning fails the check.
    const known = (await readFile(join(root, 'tools/api-docs/known-warnings.txt'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    const dropped = known[known.length - 1]!;
    const dir = await mkdtemp(join(tmpdir(), 'api-docs-'));
    try {
      const partial = join(dir, 'known.txt');
      await writeFile(partial, `${known.slice(0, -1).join('\n')}\n`);
      const failed = await runCheck({ SWITCHYARD_API_DOCS_KNOWN: partial });
      expect(failed.code).toBe(1);
      expect(failed.output).toContain('1 new TypeDoc warnings');
      expect(failed.output).toContain(dropped);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
