// list / stats / purge in-process over a memory store (it lives as long as this process): the
// memory driver lists topics and counts per group; purge is not on that flavour.

import { PassThrough } from 'node:stream';
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { Io } from '../output.js';
import { adminCommand } from './admin.js';

function memoryIo(): { io: Io; out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  return { io: { stdout, stderr: new PassThrough(), stdin: new PassThrough() }, out: () => text };
}

describe('adminCommand', () => {
  it('lists topics and reports ready and in-flight counts per group on memory', async () => {
    const url = 'memory://admin-unit';
    const broker = await connect(url);
    const a = await broker.consumer('jobs', { group: 'a', prefetch: 1 });
    await (await broker.consumer('jobs', { group: 'b' })).close();
    await (await broker.producer('jobs')).send(['1', '2', '3']);
    const [held] = await a.receive({ max: 1, waitMs: 1_000 });
    expect(held?.text()).toBe('1');
    const list = memoryIo();
    expect(await adminCommand('list', { url, json: true }, list.io)).toBe(0);
    expect(JSON.parse(list.out())).toEqual({ destinations: [{ name: 'jobs', kind: 'topic' }] });
    const stats = memoryIo();
    expect(await adminCommand('stats', { url, source: 'jobs', json: true }, stats.io)).toBe(0);
    const counts = JSON.parse(stats.out()) as { groups: Record<string, { ready: number; inFlight: number }> };
    expect(counts.groups.b).toEqual({ ready: 3, inFlight: 0 });
    expect(counts.groups.a!.ready + counts.groups.a!.inFlight).toBe(3);
    expect(counts.groups.a!.inFlight).toBeGreaterThanOrEqual(1);
    const one = memoryIo();
    expect(await adminCommand('stats', { url, source: 'jobs', group: 'b' }, one.io)).toBe(0);
    expect(one.out()).toBe('jobs group=b ready=3 inFlight=0\n');
    await broker.close();
  });

  it('purge is not on the memory flavour; a missing source is NOT_FOUND; purge asks for --yes', async () => {
    const url = 'memory://admin-unit-2';
    await expect(
      adminCommand('purge', { url, source: 'jobs', yes: true }, memoryIo().io),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining(
        'switchyard purge is not on this flavour: the memory driver cannot purge',
      ),
    });
    await expect(adminCommand('stats', { url, source: 'nope' }, memoryIo().io)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(adminCommand('purge', { url, source: 'jobs' }, memoryIo().io)).rejects.toThrow(/add --yes/);
    await expect(adminCommand('stats', { url }, memoryIo().io)).rejects.toThrow(/needs --source/);
  });
});
