#!/usr/bin/env node
// The API reference: TypeDoc over every package's exports (tools/api-docs). `npm run docs`
// writes HTML to docs/api (not committed). `--check` (run by test/api-docs.test.ts) emits nothing
// and fails on any TypeDoc warning that is not in tools/api-docs/known-warnings.txt: a new
// undocumented export, a {@link} that resolves nowhere, an unknown tag, a type that is used but not
// exported. The known list is the backlog as it was when the check started; it only shrinks
// (`--update-known` rewrites it after documenting; it refuses to add lines unless `--allow-new`).

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const HEADER = `# TypeDoc warnings known when the API reference check began (scripts/api-docs.mjs).
# Each line is an export without documentation, or a link or tag TypeDoc could not resolve.
# The check fails on any warning not listed here; fix it rather than adding it.
# After documenting, shrink this list: npm run docs:check -- --update-known
`;

const root = new URL('../', import.meta.url).pathname;
const tool = join(root, 'tools/api-docs');
const bin = join(tool, 'node_modules/.bin/typedoc');
// The known list can be swapped for another file (the check's own test uses that).
const knownFile = process.env.SWITCHYARD_API_DOCS_KNOWN ?? join(tool, 'known-warnings.txt');
const args = new Set(process.argv.slice(2));
const check = args.has('--check') || args.has('--update-known');

// An exit code rather than process.exit(): what is printed must reach a pipe before the end.
process.exitCode = main();

function main() {
  if (!existsSync(bin)) {
    console.error(
      'api-docs: TypeDoc is not installed: run npm install (it lives in the tools/api-docs workspace)',
    );
    return 2;
  }
  // TypeDoc's output goes to a file, not a pipe: it ends with process.exit(), which cuts off what is
  // still queued for a pipe (a run would randomly lose the last few hundred warnings).
  const dir = mkdtempSync(join(tmpdir(), 'api-docs-'));
  const logPath = join(dir, 'typedoc.log');
  const log = openSync(logPath, 'w');
  const run = spawnSync(
    bin,
    ['--options', join(tool, 'typedoc.config.mjs'), ...(check ? ['--emit', 'none'] : [])],
    { cwd: root, stdio: ['ignore', log, log], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  closeSync(log);
  // NO_COLOR keeps TypeDoc's output plain; stripVTControlCharacters catches what colour is left.
  const output = stripVTControlCharacters(readFileSync(logPath, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0 && !/Found 0 errors/.test(output)) {
    console.error(output);
    console.error(`api-docs: TypeDoc failed (exit ${run.status})`);
    return 1;
  }
  const warnings = [...new Set(parseWarnings(output))].sort();
  if (!check) {
    console.log(
      `api-docs: docs/api written (${warnings.length} warnings; npm run docs:check lists new ones)`,
    );
    return 0;
  }
  const known = existsSync(knownFile)
    ? readFileSync(knownFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
    : [];
  const knownSet = new Set(known);
  const added = warnings.filter((w) => !knownSet.has(w));
  const fixed = known.filter((w) => !warnings.includes(w));
  if (args.has('--update-known')) {
    if (added.length > 0 && !args.has('--allow-new')) {
      console.error(
        `api-docs: ${added.length} new warnings; fix them, or pass --allow-new to accept:\n${added.join('\n')}`,
      );
      return 1;
    }
    writeFileSync(knownFile, `${HEADER}${warnings.join('\n')}\n`);
    console.log(
      `api-docs: ${knownFile}: ${warnings.length} known warnings (${fixed.length} fixed, ${added.length} added)`,
    );
    return 0;
  }
  if (fixed.length > 0)
    console.log(
      `api-docs: ${fixed.length} known warnings are gone; shrink the list with npm run docs:check -- --update-known`,
    );
  if (added.length > 0) {
    console.error(
      `api-docs: ${added.length} new TypeDoc warnings (document the export, fix the link or tag):\n${added.join('\n')}`,
    );
    return 1;
  }
  console.log(`api-docs: no new warnings (${warnings.length} known)`);
  return 0;
}

/** One stable line per warning: no ANSI, no line or column numbers, no quoted source lines. */
function parseWarnings(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const located = /^(\S+?):\d+:\d+ - \[warning\] (.*)$/.exec(line);
    if (located) out.push(`${located[1]}: ${located[2]}`);
    else if (line.startsWith('[warning] ') && !/^\[warning\] Found \d+ errors? and \d+ warnings?/.test(line))
      out.push(line.slice('[warning] '.length));
  }
  return out;
}
