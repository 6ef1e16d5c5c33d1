import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../test-kit/cmq.js';
import { rawClient } from '../test-kit/rocketmq.js';

const BIN = fileURLToPath(new URL('../bin/switchyard-emulator.mjs', import.meta.url));
const CREDENTIAL = { secretId: 'AKIDcli', secretKey: 'cli-secret' };

interface Running {
  child: ChildProcess;
  endpoints: { cmq: string; api: string; rocketmq: string };
  exited: Promise<number | null>;
}

function launch(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`no endpoints line; stderr: ${stderr}`)), 20_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, endpoints: JSON.parse(line) as Running['endpoints'], exited });
    });
    exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const credArgs = ['--secret-id', CREDENTIAL.secretId, '--secret-key', CREDENTIAL.secretKey];

describe('switchyard-emulator bin', () => {
  it('prints the endpoints, serves requests, and exits 0 on SIGTERM; --state survives a restart', async () => {
    const state = join(dir, 'state.json');
    const first = await launch([...credArgs, '--state', state, '--seed', '7']);
    expect(Object.keys(first.endpoints).sort()).toEqual(['adminToken', 'api', 'cmq', 'remoting', 'rocketmq']);
    const client = new CmqTestClient(first.endpoints.cmq);
    await client.ok('CreateQueue', { queueName: 'cli-q' }, { credential: CREDENTIAL });
    await client.ok('SendMessage', { queueName: 'cli-q', msgBody: 'persisted' }, { credential: CREDENTIAL });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await launch([...credArgs, '--state', state]);
    const again = new CmqTestClient(second.endpoints.cmq);
    expect(
      await again.ok(
        'ReceiveMessage',
        { queueName: 'cli-q', pollingWaitSeconds: 0 },
        { credential: CREDENTIAL },
      ),
    ).toMatchObject({
      msgBody: 'persisted',
    });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('applies --fault and --cmq-port flags', async () => {
    const port = await freePort();
    const running = await launch([
      ...credArgs,
      '--fault',
      'cmq:ListQueue:errorRate=1',
      '--cmq-port',
      String(port),
      '--rocketmq-port',
      '0',
    ]);
    try {
      expect(running.endpoints.cmq).toBe(`http://127.0.0.1:${port}`);
      const client = new CmqTestClient(running.endpoints.cmq);
      expect((await client.call('ListQueue', {}, { credential: CREDENTIAL })).code).toBe(6000);
    } finally {
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
    }
  });

  it('refuses anonymous RocketMQ calls by default (40100 UNAUTHORIZED)', async () => {
    const running = await launch(credArgs);
    const raw = rawClient(running.endpoints.rocketmq);
    try {
      const reply = await raw.unary('QueryRoute', { topic: { name: 'T' } });
      expect(reply).toMatchObject({ status: { code: 'UNAUTHORIZED' } });
    } finally {
      raw.close();
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
    }
  });

  it('rejects a bad fault flag with a message naming the field', async () => {
    const child = spawn(process.execPath, [BIN, '--fault', 'cmq:ListQueue:errorRate=5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/errorRate/);
  });
});
