// TypeDoc over every published package's entry points (entry-points.mjs), in one TypeScript
// program (tsconfig.json here): one program is much faster than one per package. Run through
// scripts/api-docs.mjs (`npm run docs`, and the check in test/api-docs.test.ts).
import { join } from 'node:path';
import { packageExports, root } from './entry-points.mjs';

const entries = packageExports();

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Switchyard API reference',
  entryPoints: entries.map((e) => e.source),
  entryPointStrategy: 'resolve',
  plugin: [join(root, 'tools/api-docs/module-names.mjs')],
  tsconfig: join(root, 'tools/api-docs/tsconfig.json'),
  out: join(root, 'docs/api'),
  excludePrivate: true,
  excludeInternal: true,
  disableSources: true,
  // The packages are type-checked by their own compiler (TypeScript 7); this one only reads them.
  skipErrorChecking: true,
  // Undocumented exports are reported for our packages (by default TypeDoc checks the root's only).
  packagesRequiringDocumentation: [...new Set(entries.map((e) => e.packageName))],
  // What a package exports must say what it is; members are documented where they need it.
  requiredToBeDocumented: ['Class', 'Function', 'Interface', 'TypeAlias', 'Variable', 'Enum', 'Namespace'],
  validation: { notExported: true, invalidLink: true, notDocumented: true, rewrittenLink: true },
};
