#!/usr/bin/env node
// Runs the compiled CLI when dist/ exists. Otherwise runs the TypeScript sources through tsx with
// the `switchyard-source` export condition (so workspace packages resolve to their src/ too), so
// the bin works straight from the workspace without a build.

import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (existsSync(dist)) {
  await import(pathToFileURL(dist).href);
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered last, so it runs first: adds the condition, then hands on to tsx and Node.
  const hook = `export async function resolve(specifier, context, next) {
    const conditions = context.conditions.includes('switchyard-source')
      ? context.conditions
      : ['switchyard-source', ...context.conditions];
    return next(specifier, { ...context, conditions });
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import(new URL('../src/main.ts', import.meta.url).href);
}
