#!/usr/bin/env node
// Prints the closing line CI reads, `N passed, N failed[, N skipped]`, from Vitest's own JSON
// report (written when CI=true by vitest.config.ts).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const file = process.argv[2]?.startsWith('--') === false ? process.argv[2] : '.vitest-report.json';
if (!existsSync(file)) {
  console.error(`test-summary: no report at ${file}: the test run did not reach Vitest`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const line = `${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
console.log(line);

// `--durations <file>`: also writes each test file's seconds in the last run, longest first, for
// vitest.config.ts's sequencer to start the longest files first (commit the file it writes). They
// come from Vitest's own results cache beside the report (node_modules/.vite/vitest/*/results.json,
// which counts a file's hooks and set-up, as the report's test times do not), by path: a file is in
// one project.
const at = process.argv.indexOf('--durations');
if (at > 0) {
  const cacheDir = join(dirname(resolve(file)), 'node_modules/.vite/vitest');
  const seconds = {};
  for (const hash of readdirSync(cacheDir)) {
    const results = join(cacheDir, hash, 'results.json');
    if (!existsSync(results)) continue;
    for (const [key, result] of JSON.parse(readFileSync(results, 'utf8')).results) {
      if (result?.duration !== undefined)
        seconds[key.slice(key.indexOf(':') + 1)] = Math.round(result.duration / 100) / 10;
    }
  }
  const rows = Object.entries(seconds).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  writeFileSync(process.argv[at + 1], `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
}
