// @opentelemetry/api is an optional peer: a user without it, type-checking with
// `skipLibCheck: false`, must not meet it in any declaration @switchyard/core's entry point
// reaches. Emits core's declarations (as `npm run build` does) and walks them from index.d.ts.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('@switchyard/core declarations', () => {
  it('reach no optional peer from the public entry point', { timeout: 60_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'switchyard-dts-'));
    try {
      execFileSync(
        'npx',
        [
          'tsc',
          '-p',
          'packages/core/tsconfig.build.json',
          '--emitDeclarationOnly',
          '--declarationMap',
          'false',
          '--outDir',
          out,
        ],
        { stdio: 'pipe' },
      );
      const seen = new Set<string>();
      const offenders: string[] = [];
      const stack = [join(out, 'index.d.ts')];
      while (stack.length > 0) {
        const file = stack.pop()!;
        if (seen.has(file) || !existsSync(file)) continue;
        seen.add(file);
        const code = readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
          .join('\n');
        if (/(?:from|import\()\s*'@opentelemetry\//.test(code)) offenders.push(file.slice(out.length + 1));
        for (const [, spec] of code.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
          stack.push(normalize(join(dirname(file), spec!.replace(/\.js$/, '.d.ts'))));
        }
      }
      expect(seen.size).toBeGreaterThan(20);
      expect(offenders).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
