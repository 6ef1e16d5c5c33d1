// The packages as a stranger gets them: scripts/pack.mjs packs every workspace package as it would
// be published, the tarballs are installed into a fresh project outside the workspace (no
// `switchyard-source` condition, no tsx, no src/), and that project imports them from ESM and
// CommonJS, type-checks against them, runs each bin and bundles a service with esbuild.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tool = (name: string) => join(root, 'node_modules', '.bin', name);
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

interface Packed {
  name: string;
  dir: string;
  stage: string;
  tarball: string;
}

let work: string;
let project: string;
let packed: Packed[];

/** Runs a command in the consumer project; resolves with its output whatever the exit code. */
async function inProject(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.SWITCHYARD_URL;
  const options = { cwd: project, env: { ...base, ...env }, timeout: 120_000 };
  return run(file, args, options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? 1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

function write(path: string, text: string) {
  writeFileSync(join(project, path), text);
}

// Packing builds ten packages and the install unpacks ~150 MB: minutes on a loaded 2-core box.
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'switchyard-packaging-'));
  const { stdout } = await run('node', [join(root, 'scripts/pack.mjs'), '--out', join(work, 'tarballs')], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  packed = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Packed);
  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // The registry is reachable; the npm cache the workspace install filled serves most of it.
  const install = ['install', ...packed.map((p) => p.tarball), '@types/node@20'];
  await run('npm', [...install, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: project,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 480_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

// Each test starts a compiler or a process in the installed project; slow when CI runs all files.
describe('published packages', { timeout: 120_000 }, () => {
  it('packs every workspace package', () => {
    expect(packed.map((p) => p.dir)).toEqual([
      'cli',
      'cmq',
      'conformance',
      'core',
      'dedupe',
      'emulator',
      'mqtt',
      'nestjs',
      'outbox',
      'pulsar',
      'pulsar-http',
      'rabbitmq',
      'rocketmq',
      'rocketmq-remoting',
    ]);
  });

  it('ship no dev-only condition, script or devDependency, and carry what the registry needs', () => {
    for (const { dir, stage } of packed) {
      const text = readFileSync(join(stage, 'package.json'), 'utf8');
      const manifest = JSON.parse(text) as Record<string, unknown>;
      expect(text, dir).not.toContain('switchyard-source');
      expect(text, dir).not.toContain('./src/');
      expect(manifest, dir).not.toHaveProperty('devDependencies');
      expect(manifest, dir).not.toHaveProperty('scripts');
      expect(manifest, dir).toMatchObject({
        license: 'Apache-2.0',
        repository: { type: 'git', directory: `packages/${dir}` },
        homepage: expect.stringContaining(`packages/${dir}`),
        bugs: { url: expect.any(String) },
        engines: { node: '>=20.19' },
        sideEffects: false,
        publishConfig: { access: 'public' },
      });
      expect(readFileSync(join(stage, 'LICENSE'), 'utf8'), dir).toContain('Apache License');
      expect(readFileSync(join(stage, 'README.md'), 'utf8'), dir).toContain('npm install');
    }
  });

  it('ship bins that load dist/ only (no tsx fallback) and source maps with their sources', () => {
    for (const bin of ['cli/bin/switchyard.mjs', 'emulator/bin/switchyard-emulator.mjs']) {
      const script = readFileSync(join(project, 'node_modules/@switchyard', bin), 'utf8');
      expect(script, bin).not.toMatch(/tsx|src\//);
    }
    const map = JSON.parse(
      readFileSync(join(project, 'node_modules/@switchyard/core/dist/connect.js.map'), 'utf8'),
    ) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sources).toEqual(['../src/connect.ts']);
    expect(map.sourcesContent?.[0]).toContain('export async function connect<');
  });

  it('import from ESM: core and a driver, and the quickstart runs on memory://', async () => {
    write(
      'esm.mjs',
      `import { connect, knownDrivers } from '@switchyard/core';
import { driver } from '@switchyard/rabbitmq';
console.log(driver.name, knownDrivers().includes('rabbitmq'), typeof connect);
`,
    );
    const esm = await inProject('node', ['esm.mjs']);
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('rabbitmq true function');

    // The repository's quickstart, unchanged, compiled against the installed declarations.
    mkdirSync(join(project, 'quickstart'), { recursive: true });
    copyFileSync(join(root, 'examples/quickstart/main.ts'), join(project, 'quickstart/main.ts'));
    const tsc = await inProject(tool('tsc'), [
      '--ignoreConfig',
      ...['--module', 'nodenext', '--target', 'es2022', '--strict', '--types', 'node'],
      ...['--skipLibCheck', 'false', '--outDir', 'quickstart/out', 'quickstart/main.ts'],
    ]);
    expect(tsc.stdout).toBe('');
    const quickstart = await inProject('node', ['quickstart/out/main.js']);
    expect(quickstart.stdout).toContain('connected: memory');
    expect(quickstart.stdout).toContain('received order-1: plain text order');
    expect(quickstart.stdout).toContain('received order-3: deadbeef (application/octet-stream');
    expect(quickstart.stdout).toContain('closed cleanly');
  });

  it('every package loads from ESM and from require(), with only its declared dependencies', async () => {
    const names = packed.map((p) => p.name);
    write(
      'every.mjs',
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
for (const name of ${JSON.stringify(names)}) {
  const esm = await import(name);
  const cjs = require(name);
  console.log(name, Object.keys(esm).length > 0 && Object.keys(esm).length === Object.keys(cjs).length);
}
`,
    );
    // The cli's index is its API (runCli); nothing may start on import.
    const every = await inProject('node', ['--no-warnings', 'every.mjs']);
    expect(every.stderr).toBe('');
    expect(every.stdout.trim().split('\n')).toEqual(names.map((name) => `${name} true`));
  });

  it('require() from CommonJS (Node >= 20.19 loads these ES modules synchronously)', async () => {
    write(
      'consumer.cjs',
      `const { connect } = require('@switchyard/core');
const { driver } = require('@switchyard/rabbitmq');
connect('memory://').then(async (broker) => {
  const producer = await broker.producer('cjs');
  const consumer = await broker.consumer('cjs', { group: 'cjs' });
  await producer.send({ body: 'from require' });
  const [message] = await consumer.receive({ max: 1, waitMs: 5000 });
  await message.ack();
  console.log(driver.name, message.text());
  await broker.close();
});
`,
    );
    const cjs = await inProject('node', ['--no-warnings', 'consumer.cjs']);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe('rabbitmq from require');
  });

  describe('a TypeScript consumer with skipLibCheck: false', () => {
    const everyEntry = `import * as cli from '@switchyard/cli';
import * as cmq from '@switchyard/cmq';
import * as conformance from '@switchyard/conformance';
import { type Broker, connect, registerDriver } from '@switchyard/core';
import type { DriverModule } from '@switchyard/core/driver';
import * as emulator from '@switchyard/emulator';
import * as pulsar from '@switchyard/pulsar';
import * as pulsarHttp from '@switchyard/pulsar-http';
import { driver } from '@switchyard/rabbitmq';
import * as rocketmq from '@switchyard/rocketmq';
import * as remoting from '@switchyard/rocketmq-remoting';

const rabbit: DriverModule = driver;
registerDriver(rabbit);
const broker: Broker = await connect('memory://');
console.log(broker.driver, [cli, cmq, conformance, emulator, pulsar, pulsarHttp, rocketmq, remoting].length);
`;
    const check = (file: string, resolution: string[]) =>
      inProject(tool('tsc'), [
        '--ignoreConfig',
        ...resolution,
        ...['--target', 'es2022', '--strict', '--types', 'node', '--skipLibCheck', 'false', '--noEmit'],
        file,
      ]);

    it.each([
      ['module nodenext', ['--module', 'nodenext']],
      ['moduleResolution bundler', ['--module', 'esnext', '--moduleResolution', 'bundler']],
    ])('type-checks every package under %s', async (_, resolution) => {
      write('every-entry.ts', everyEntry);
      const result = await check('every-entry.ts', resolution);
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    });
  });

  it('runs each bin with --help', async () => {
    const cli = await inProject(join(project, 'node_modules/.bin/switchyard'), ['--help']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('Usage: switchyard');
    const emulator = await inProject(join(project, 'node_modules/.bin/switchyard-emulator'), ['--help']);
    expect(emulator.code).toBe(0);
    expect(emulator.stdout).toContain('Usage: switchyard-emulator');
  });

  describe('an esbuild bundle of a service that connects by URL', () => {
    const service = (register: boolean) => `import { connect, registerDriver } from '@switchyard/core';
import { driver } from '@switchyard/rabbitmq';

${register ? 'registerDriver(driver);' : ''}
const broker = await connect(process.env.SWITCHYARD_URL);
const queue = \`packaging-bundle-\${process.pid}\`;
const consumer = await broker.consumer(queue, { group: queue });
const producer = await broker.producer(queue);
await producer.send({ body: 'from a bundle' });
const [message] = await consumer.receive({ max: 1, waitMs: 10000 });
await message.ack();
console.log(\`\${broker.driver}: \${message.text()}\`);
await broker.close();
`;
    /** Bundles the service into a directory with no node_modules, so only the bundle can serve it. */
    async function bundle(name: string, source: string) {
      write(`${name}.mjs`, source);
      const out = join(work, 'deployed', `${name}.mjs`);
      const built = await inProject(tool('esbuild'), [
        `${name}.mjs`,
        ...['--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${out}`],
        // amqplib is CommonJS: its require() of Node built-ins needs a require in an ES module.
        "--banner:js=import { createRequire as __syRequire } from 'node:module'; const require = __syRequire(import.meta.url);",
      ]);
      expect(built.code, built.stderr).toBe(0);
      return run('node', [out], {
        cwd: join(work, 'deployed'),
        env: { ...process.env, SWITCHYARD_URL: AMQP_URL },
      });
    }

    it('works when the driver is registered with registerDriver()', async () => {
      const { stdout } = await bundle('registered', service(true));
      expect(stdout.trim()).toBe('rabbitmq: from a bundle');
    });

    it('without registration, fails with an error that names both causes and the fix', async () => {
      const failed = await bundle('unregistered', service(false)).then(
        () => ({ stderr: 'the bundle ran without its driver' }),
        (error: { stderr: string }) => error,
      );
      expect(failed.stderr).toContain('install it with: npm install @switchyard/rabbitmq');
      expect(failed.stderr).toContain(
        "the bundler cannot follow a driver picked by URL at run time: add import { driver } from '@switchyard/rabbitmq' and registerDriver(driver)",
      );
    });
  });
});
