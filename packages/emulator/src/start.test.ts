import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../test-kit/cmq.js';
import { DEFAULT_CREDENTIALS, startEmulator } from './start.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-start-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('startEmulator', () => {
  it('serves CMQ with the default credentials and shares one engine and one fault injector', async () => {
    const emulator = await startEmulator();
    try {
      expect(emulator.endpoints.cmq).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emulator.endpoints.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emulator.credentials).toEqual(DEFAULT_CREDENTIALS);
      const client = new CmqTestClient(emulator.endpoints.cmq);
      const credential = DEFAULT_CREDENTIALS[0]!;
      await client.ok('CreateQueue', { queueName: 'shared' }, { credential });
      expect(emulator.engines.cmq.listQueues().totalCount).toBe(1);
      emulator.faults.setRule({ protocol: 'cmq', action: 'ListQueue', errorRate: 1 });
      expect((await client.call('ListQueue', {}, { credential })).code).toBe(6000);
      // Admin routes answer on the API port too, with both engines' state.
      const state = (await (
        await fetch(`${emulator.endpoints.api}/_emulator/state`, {
          headers: { authorization: `Bearer ${emulator.adminToken}` },
        })
      ).json()) as Record<string, unknown>;
      expect(state).toHaveProperty('cmq.queues.0.queueName', 'shared');
      expect(state).toHaveProperty('api');
      const faults = (await (
        await fetch(`${emulator.endpoints.api}/_emulator/faults`, {
          headers: { authorization: `Bearer ${emulator.adminToken}` },
        })
      ).json()) as {
        rules: unknown[];
      };
      expect(faults.rules).toHaveLength(1);
    } finally {
      await emulator.stop();
    }
  });

  it('accepts several credentials and rejects the default pair when others are given', async () => {
    const credentials = [
      { secretId: 'AKIDone', secretKey: 'k1' },
      { secretId: 'AKIDtwo', secretKey: 'k2' },
    ];
    const emulator = await startEmulator({ credentials });
    try {
      const client = new CmqTestClient(emulator.endpoints.cmq);
      for (const credential of credentials) await client.ok('ListQueue', {}, { credential });
      expect((await client.call('ListQueue', {}, { credential: DEFAULT_CREDENTIALS[0]! })).code).toBe(4100);
    } finally {
      await emulator.stop();
    }
  });

  it('statePath keeps queues and messages across a restart', async () => {
    const statePath = join(dir, 'state.json');
    const first = await startEmulator({ statePath });
    first.engines.cmq.createQueue('durable', { visibilityTimeout: 5 });
    first.engines.cmq.sendMessage('durable', 'survivor');
    first.engines.cmq.createTopic('t');
    first.engines.cmq.subscribe('t', 's', {
      protocol: 'queue',
      endpoint: 'durable',
      notifyContentFormat: 'SIMPLIFIED',
    });
    await first.stop();
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ version: 1 });
    const second = await startEmulator({ statePath });
    try {
      const [message] = await second.engines.cmq.receiveMessages('durable');
      expect(message?.msgBody).toBe('survivor');
      second.engines.cmq.publishMessage('t', 'fanned');
      const [fanned] = await second.engines.cmq.receiveMessages('durable');
      expect(fanned?.msgBody).toBe('fanned');
      expect(fanned?.msgId).not.toBe(message?.msgId);
    } finally {
      await second.stop();
    }
  });
});
