// `switchyard stats / purge / list` as the real bin: RabbitMQ counts and purges a group's queue over
// plain AMQP (passive declare, queue.purge) and has no list; CMQ (emulator) has none of them through
// its driver yet: "not on this flavour", exit 5.

import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteRabbit } from './cli-support.js';

const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const exchange = `cli-admin-${run}`;

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [{ secretId: 'AKIDCLIADMIN', secretKey: 'cli-admin-key-41c2' }],
  });
});

afterAll(async () => {
  await emulator?.stop();
  await deleteRabbit({ [exchange]: ['billing'] });
});

describe('switchyard stats / purge / list', () => {
  it('RabbitMQ: stats counts the group queue, purge --yes empties it, list is not on this flavour', {
    timeout: 120_000,
  }, async () => {
    // The group's queue exists once a consumer of the group was opened.
    const broker = await connect(RABBIT);
    await (await broker.consumer(exchange, { group: 'billing' })).close();
    await (await broker.producer(exchange)).send(['a', 'b', 'c']);
    await broker.close();
    const stats = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'billing', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ name: `${exchange}.billing`, ready: 3, consumers: 0 });
    const refused = await cli(['purge', '--url', RABBIT, '-s', exchange, '-g', 'billing']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('add --yes');
    const purged = await cli(['purge', '--url', RABBIT, '-s', exchange, '-g', 'billing', '--yes', '--json']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 3 });
    const after = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'billing']);
    expect(after.stdout.trim()).toBe(`${exchange}.billing ready=0 consumers=0`);
    const missing = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'nobody']);
    expect(missing.code).toBe(4);
    const list = await cli(['list', '--url', RABBIT]);
    expect(list.code).toBe(5);
    expect(list.stderr).toContain('switchyard list is not on this flavour: the rabbitmq driver cannot list');
  });

  it('CMQ: stats is not on this flavour (exit 5, --json says UNSUPPORTED)', async () => {
    const host = new URL(emulator.endpoints.cmq).host;
    const url = `cmq+http://AKIDCLIADMIN:cli-admin-key-41c2@${host}?region=ap-guangzhou`;
    const stats = await cli(['stats', '--url', url, '-s', 'orders', '--json']);
    expect(stats.code).toBe(5);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      ok: false,
      exitCode: 5,
      error: { code: 'UNSUPPORTED', message: expect.stringContaining('not on this flavour: the cmq driver') },
    });
    expect(stats.stdout).not.toContain('cli-admin-key-41c2');
  });
});
