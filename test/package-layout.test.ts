// What a package ships is what its entry points reach: test doubles and helpers live in the
// package's test-kit/, which the build never emits (tsconfig.build.json compiles src/ alone), and
// the driver packages reach core through @switchyard/core/driver, not the service API.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(join(root, 'packages'));
const DRIVERS_ON_DRIVER_ENTRY = ['rocketmq', 'pulsar', 'rabbitmq', 'cmq', 'pulsar-http'];

const isTest = (file: string) => file.endsWith('.test.ts');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Relative specifiers a module loads: static and dynamic imports, re-exports, `new URL(...)`. */
function relativeSpecifiers(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  const found = code.matchAll(/(?:from|import\(|new URL\()\s*'(\.{1,2}\/[^']+)'/g);
  return [...found].map(([, spec]) => normalize(join(dirname(file), spec!.replace(/\.js$/, '.ts'))));
}

/** src/ modules the package.json exports and bin scripts name. */
function entryPoints(pkgDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    exports?: Record<string, { 'switchyard-source'?: string }>;
    bin?: Record<string, string>;
  };
  const entries = Object.values(manifest.exports ?? {}).flatMap((e) => e['switchyard-source'] ?? []);
  for (const bin of Object.values(manifest.bin ?? {})) {
    const script = readFileSync(join(pkgDir, bin), 'utf8');
    for (const [, name] of script.matchAll(/'\.\.\/dist\/([^']+)\.js'/g)) entries.push(`src/${name}.ts`);
  }
  return entries.map((e) => join(pkgDir, e));
}

describe('package layout', () => {
  it.each(packages)(
    '%s: every module in src/ is reached from an entry point (no test helpers ship)',
    (pkg) => {
      const pkgDir = join(root, 'packages', pkg);
      const entries = entryPoints(pkgDir);
      expect(entries.length, 'entry points found').toBeGreaterThan(0);
      const reached = new Set<string>();
      const stack = [...entries];
      while (stack.length > 0) {
        const file = stack.pop()!;
        if (reached.has(file)) continue;
        reached.add(file);
        stack.push(...relativeSpecifiers(file).filter((f) => f.startsWith(join(pkgDir, 'src'))));
      }
      const unreached = tsFiles(join(pkgDir, 'src'))
        .filter((f) => !isTest(f) && !reached.has(f))
        .map((f) => relative(pkgDir, f));
      expect(unreached, 'move test helpers to test-kit/, delete dead code').toEqual([]);
    },
  );

  it.each(packages)('%s: no shipped module imports the test kit', (pkg) => {
    const pkgDir = join(root, 'packages', pkg);
    const offenders = tsFiles(join(pkgDir, 'src'))
      .filter((f) => !isTest(f) && relativeSpecifiers(f).some((s) => s.startsWith(join(pkgDir, 'test-kit'))))
      .map((f) => relative(pkgDir, f));
    expect(offenders).toEqual([]);
  });

  it.each(DRIVERS_ON_DRIVER_ENTRY)(
    '%s: the driver imports core at run time through @switchyard/core/driver only',
    (pkg) => {
      const src = join(root, 'packages', pkg, 'src');
      // A type-only import is erased from the JavaScript: index.ts needs one for its DriverConfigs
      // augmentation (a module nothing imports cannot be augmented).
      const runtimeImport = /^(?!import type )(import|export)\b[^;]*from '@switchyard\/core';/m;
      const offenders = tsFiles(src)
        .filter((f) => !isTest(f) && runtimeImport.test(readFileSync(f, 'utf8')))
        .map((f) => relative(src, f));
      expect(offenders).toEqual([]);
    },
  );
});
