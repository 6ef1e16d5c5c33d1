// A TypeDoc plugin: names each entry point's module after the package export it is
// (`@switchyard/core`, `@switchyard/core/driver`) instead of its path under packages/
// (`core/src`, `core/src/driver-entry`), which is how TypeDoc names entry points by default.
import { Converter, ReflectionKind } from 'typedoc';
import { packageExports } from './entry-points.mjs';

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = new Map(packageExports().map((e) => [e.pathName, e.exportName]));
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = names.get(module.name);
      if (name !== undefined) module.name = name;
    }
  });
}
