// Every published package's exports, from the `switchyard-source` condition of its package.json,
// so new packages and subpath exports join the API reference without editing a list.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;

/**
 * @returns {Array<{ packageName: string, source: string, pathName: string, exportName: string }>}
 * `pathName` is TypeDoc's default module name for the entry (its path under packages/, without
 * the extension and a trailing /index), `exportName` what users import.
 */
export function packageExports() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (pkg.private) continue;
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const source = typeof target === 'object' ? target['switchyard-source'] : undefined;
      if (typeof source !== 'string') continue;
      const pathName = `${dir}/${source.replace(/^\.\//, '').replace(/\.ts$/, '')}`.replace(/\/index$/, '');
      const exportName = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`;
      out.push({ packageName: pkg.name, source: join(root, 'packages', dir, source), pathName, exportName });
    }
  }
  return out;
}
