// `npm ci` refuses a lockfile that lacks an optional dependency some locked package declares — and
// the registry these machines use does not carry every platform build of every release (e.g. the
// Android and macOS binaries of the newest Biome and turbo). npm install then quietly leaves them
// out, and CI breaks at `npm ci`. This catches it at `npm test` time, with the fix.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  optionalDependencies?: Record<string, string>;
}

describe('package-lock.json', () => {
  it('lists every optional dependency of every locked package, so `npm ci` accepts it', () => {
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, LockEntry>;
    };
    const present = new Set(Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, '')));
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!present.has(name)) missing.push(`${name} (wanted by ${path || 'the root'})`);
      }
    }
    expect(
      missing,
      'pin the parent to a release whose platform packages all exist on this registry (see README, "Tooling and why")',
    ).toEqual([]);
  });
});
