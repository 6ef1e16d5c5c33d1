#!/usr/bin/env node
// Prints the closing line CI reads, `N passed, N failed[, N skipped]`, from Vitest's own JSON
// report (written when CI=true by vitest.config.ts).

import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
if (!existsSync(file)) {
  console.error(`test-summary: no report at ${file}: the test run did not reach Vitest`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const line = `${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
console.log(line);
