#!/usr/bin/env node
// Packs workspace packages the way they are published, without touching the source tree: each
// package is compiled straight into a staging directory, given a package.json with nothing that
// only the workspace needs (the `switchyard-source` export condition, which points at src/;
// scripts; devDependencies), the root LICENSE, its README and a bin without the tsx fallback, and
// `npm pack`ed there.
//
//   node scripts/pack.mjs [--out DIR] [--lint] [package-dir-name ...]
//
// Prints one JSON line per package: { name, dir, stage, tarball }; the staged copies are kept in
// DIR/stage/ (DIR is a new temporary directory unless --out names one). --lint also runs publint and
// @arethetypeswrong/cli on each tarball (both from the root devDependencies).

import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const DEV_CONDITION = 'switchyard-source';

// The published bins load dist/ only. In the workspace they also run src/ through tsx, which is a
// devDependency and must not be reached from an installed package.
const SHIPPED_BINS = {
  '@switchyard/cli': {
    switchyard: "#!/usr/bin/env node\nimport '../dist/main.js';\n",
  },
  '@switchyard/emulator': {
    'switchyard-emulator': `#!/usr/bin/env node
import { runCli } from '../dist/cli.js';

try {
  await runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(\`switchyard-emulator: \${error instanceof Error ? error.message : String(error)}\\n\`);
  process.exit(1);
}
`,
  },
};

/** The package.json that ships: no dev export condition, no scripts, no devDependencies. */
export function publishedManifest(manifest) {
  const { scripts: _scripts, devDependencies: _dev, ...rest } = manifest;
  if (rest.exports !== undefined) rest.exports = withoutCondition(rest.exports);
  return rest;
}

function withoutCondition(value) {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== DEV_CONDITION)
      .map(([key, inner]) => [key, withoutCondition(inner)]),
  );
}

/**
 * Maps compiled into the staging directory name their sources by a path back into this checkout;
 * the sources travel inside the map (inlineSources), so name them as they sit in the repository
 * (`../src/...` from dist/), which is what a reader of the published package can make sense of.
 */
function relabelSourceMaps(distDir, pkgDir) {
  for (const file of readdirSync(distDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.js.map')) continue;
    const path = join(distDir, file);
    const map = JSON.parse(readFileSync(path, 'utf8'));
    const mapDir = dirname(path);
    map.sources = map.sources.map((source) => {
      const inPackage = relative(pkgDir, resolve(mapDir, map.sourceRoot ?? '', source));
      return relative(dirname(join(pkgDir, 'dist', file)), join(pkgDir, inPackage))
        .split(sep)
        .join('/');
    });
    if (!Array.isArray(map.sourcesContent)) throw new Error(`${path}: no sourcesContent (inlineSources)`);
    writeFileSync(path, JSON.stringify(map));
  }
}

async function stage(dirName, out) {
  const dir = join(root, 'packages', dirName);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const stageDir = join(out, 'stage', dirName);
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  // --noCheck: emit only; `npm run typecheck` (before every test run) is where type errors stop us.
  const tscArgs = ['-p', join(dir, 'tsconfig.build.json'), '--outDir', join(stageDir, 'dist'), '--noCheck'];
  await run(bin('tsc'), tscArgs, { cwd: root }).catch((error) => {
    throw new Error(`${manifest.name}: the build failed:\n${error.stdout}${error.stderr}`, { cause: error });
  });
  relabelSourceMaps(join(stageDir, 'dist'), dir);
  const published = publishedManifest(manifest);
  writeFileSync(join(stageDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  copyFileSync(join(root, 'LICENSE'), join(stageDir, 'LICENSE'));
  if (!existsSync(join(dir, 'README.md'))) throw new Error(`${manifest.name}: README.md is missing`);
  copyFileSync(join(dir, 'README.md'), join(stageDir, 'README.md'));
  for (const [name, path] of Object.entries(published.bin ?? {})) {
    const text = SHIPPED_BINS[manifest.name]?.[name];
    if (text === undefined) {
      throw new Error(
        `${manifest.name}: no shipped form of bin "${name}"; add it to SHIPPED_BINS in scripts/pack.mjs`,
      );
    }
    mkdirSync(join(stageDir, path, '..'), { recursive: true });
    writeFileSync(join(stageDir, path), text, { mode: 0o755 });
  }
  const leak = JSON.stringify(published).match(/switchyard-source|\.\/src\//);
  if (leak !== null) throw new Error(`${manifest.name}: the staged package.json still names ${leak[0]}`);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: stageDir });
  const [packed] = JSON.parse(stdout);
  return { name: manifest.name, dir: dirName, stage: stageDir, tarball: join(out, packed.filename) };
}

async function lint(result) {
  await run(bin('publint'), ['run', '--strict', result.tarball]).catch((error) => {
    throw new Error(`${result.name}: publint:\n${error.stdout}${error.stderr}`, { cause: error });
  });
  await run(bin('attw'), ['--pack', '--profile', 'esm-only', '--format', 'ascii', result.tarball]).catch(
    (error) => {
      throw new Error(`${result.name}: arethetypeswrong:\n${error.stdout}${error.stderr}`, { cause: error });
    },
  );
}

/** Packs the named package directories (all of packages/ by default), two builds at a time. */
export async function packAll({ packages, out, lint: withLint = false } = {}) {
  const names = packages?.length ? packages : readdirSync(join(root, 'packages')).sort();
  const dest = resolve(out ?? mkdtempSync(join(tmpdir(), 'switchyard-pack-')));
  mkdirSync(dest, { recursive: true });
  const queue = [...names];
  const results = [];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const result = await stage(name, dest);
      if (withLint) await lint(result);
      results.push(result);
    }
  };
  await Promise.all([worker(), worker()]);
  return results.sort((a, b) => a.dir.localeCompare(b.dir));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    options: { out: { type: 'string' }, lint: { type: 'boolean' } },
    allowPositionals: true,
  });
  try {
    for (const result of await packAll({ packages: positionals, out: values.out, lint: values.lint })) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  } catch (error) {
    process.stderr.write(`pack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
