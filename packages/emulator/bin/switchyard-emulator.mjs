#!/usr/bin/env node
// Runs the compiled CLI when dist/ exists, otherwise the TypeScript sources through tsx, so the
// bin works straight from the workspace without a build.

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let cli;
if (existsSync(dist)) {
  cli = await import(pathToFileURL(dist).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  cli = await tsImport('../src/cli.ts', import.meta.url);
}
try {
  await cli.runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`switchyard-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
