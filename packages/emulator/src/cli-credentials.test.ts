import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../test-kit/cmq.js';
import { CredentialFlagError, resolveCredentials } from './cli-credentials.js';

const BIN = fileURLToPath(new URL('../bin/switchyard-emulator.mjs', import.meta.url));
const KEY = 'file-key-7Hq2pW9x';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-cli-secrets-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const none = { secretId: [], secretKey: [], secretKeyFile: [] };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialFlagError);
    return (error as Error).message;
  }
  throw new Error('expected a CredentialFlagError');
}

describe('resolveCredentials', () => {
  it('pairs --secret-key-file with --secret-id in order, without the trailing newline', async () => {
    await writeFile(join(dir, 'a'), 'key-a\n');
    await writeFile(join(dir, 'b'), 'key-b');
    const r = resolveCredentials(
      { ...none, secretId: ['AKIDa', 'AKIDb'], secretKeyFile: [join(dir, 'a'), join(dir, 'b')] },
      {},
    );
    expect(r).toEqual({
      credentials: [
        { secretId: 'AKIDa', secretKey: 'key-a' },
        { secretId: 'AKIDb', secretKey: 'key-b' },
      ],
      warnings: [],
    });
  });

  it('takes one pair from the environment, or the key from it for one --secret-id', () => {
    const env = { SWITCHYARD_EMULATOR_SECRET_ID: 'AKIDenv', SWITCHYARD_EMULATOR_SECRET_KEY: 'env-key' };
    expect(resolveCredentials(none, env).credentials).toEqual([
      { secretId: 'AKIDenv', secretKey: 'env-key' },
    ]);
    expect(resolveCredentials({ ...none, secretId: ['AKIDflag'] }, env).credentials).toEqual([
      { secretId: 'AKIDflag', secretKey: 'env-key' },
    ]);
    expect(resolveCredentials(none, {})).toEqual({ credentials: [], warnings: [] });
  });

  it('still takes --secret-key, with a warning that never contains the key', () => {
    const r = resolveCredentials({ ...none, secretId: ['AKIDold'], secretKey: ['visible-key'] }, {});
    expect(r.credentials).toEqual([{ secretId: 'AKIDold', secretKey: 'visible-key' }]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('process list');
    expect(r.warnings[0]).toContain('--secret-key-file');
    expect(r.warnings[0]).not.toContain('visible-key');
  });

  it('refuses what cannot be paired, naming the flags and files but never a key', async () => {
    await writeFile(join(dir, 'two-lines'), 'first-Zk41\nsecond-Zk42\n');
    await writeFile(join(dir, 'empty'), '\n');
    const env = { SWITCHYARD_EMULATOR_SECRET_KEY: 'env-secret' };
    const messages = [
      refusal(() => resolveCredentials({ ...none, secretId: ['AKIDa'] }, {})),
      refusal(() => resolveCredentials({ ...none, secretId: ['AKIDa', 'AKIDb'] }, env)),
      refusal(() =>
        resolveCredentials(
          { secretId: ['AKIDa'], secretKey: ['k'], secretKeyFile: [join(dir, 'empty')] },
          {},
        ),
      ),
      refusal(() => resolveCredentials({ ...none, secretId: ['a', 'b'], secretKey: ['only-one'] }, {})),
      refusal(() =>
        resolveCredentials({ ...none, secretId: ['a'], secretKeyFile: [join(dir, 'missing')] }, {}),
      ),
      refusal(() =>
        resolveCredentials({ ...none, secretId: ['a'], secretKeyFile: [join(dir, 'empty')] }, {}),
      ),
      refusal(() =>
        resolveCredentials({ ...none, secretId: ['a'], secretKeyFile: [join(dir, 'two-lines')] }, {}),
      ),
    ];
    expect(messages[0]).toContain('--secret-key-file');
    expect(messages[1]).toContain('exactly one --secret-id');
    expect(messages[2]).toContain('not both');
    expect(messages[3]).toContain('got 2 --secret-id and 1 --secret-key');
    expect(messages[4]).toBe(`cannot read --secret-key-file ${join(dir, 'missing')}: ENOENT`);
    expect(messages[5]).toContain('is empty');
    expect(messages[6]).toContain('more than one line');
    for (const m of messages) {
      expect(m).not.toContain('env-secret');
      expect(m).not.toContain('only-one');
      expect(m).not.toContain('Zk4');
    }
  });
});

/** Runs the bin until its ready line (then SIGTERM) or its exit; stdout's first line and stderr. */
function runBin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ready?: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  let ready: string | undefined;
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (ready === undefined && stdout.includes('\n')) {
      ready = stdout.slice(0, stdout.indexOf('\n'));
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ ready, stderr, code })));
}

describe('switchyard-emulator bin: SecretKeys off the command line', () => {
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

  it('serves a credential whose key came from --secret-key-file', async () => {
    const file = join(dir, 'served');
    await writeFile(file, `${KEY}\n`);
    const child = spawn(process.execPath, [BIN, '--secret-id', 'AKIDfile', '--secret-key-file', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: baseEnv,
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        void exited.then((code) => reject(new Error(`exited ${code} before its ready line`)));
      });
      const client = new CmqTestClient((JSON.parse(line) as { cmq: string }).cmq);
      await client.ok(
        'CreateQueue',
        { queueName: 'from-file' },
        { credential: { secretId: 'AKIDfile', secretKey: KEY } },
      );
      const wrong = await client.call(
        'ListQueue',
        {},
        { credential: { secretId: 'AKIDfile', secretKey: 'emulator-secret-key' } },
      );
      expect(wrong.code).not.toBe(0);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('takes the pair from the environment, and warns (without the key) about --secret-key', async () => {
    const fromEnv = await runBin([], {
      ...baseEnv,
      SWITCHYARD_EMULATOR_SECRET_ID: 'AKIDenv',
      SWITCHYARD_EMULATOR_SECRET_KEY: KEY,
    });
    expect(fromEnv.ready).toBeDefined();
    expect(fromEnv.stderr).toBe('');
    expect(fromEnv.code).toBe(0);

    const flagged = await runBin(['--secret-id', 'AKIDold', '--secret-key', KEY], baseEnv);
    expect(flagged.ready).toBeDefined();
    expect(flagged.stderr).toContain('--secret-key puts the SecretKey in the process list');
    expect(flagged.stderr).not.toContain(KEY);
  });

  it('exits 1 naming the unreadable file', async () => {
    const missing = join(dir, 'nope');
    const r = await runBin(['--secret-id', 'AKIDx', '--secret-key-file', missing], baseEnv);
    expect(r.ready).toBeUndefined();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read --secret-key-file ${missing}: ENOENT`);
  });
});
