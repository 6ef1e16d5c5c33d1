#!/usr/bin/env node
// Runs the compiled CLI when dist/ exists. Otherwise runs the TypeScript sources through tsx with
// the `switchyard-source` export condition (so workspace packages such as the Remoting codec
// resolve to their src/ too), so the bin works straight from the workspace without a build.

import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let cli;
if (existsSync(dist)) {
  cli = await import(pathToFileURL(dist).href);
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
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}
try {
  await cli.runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`switchyard-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
