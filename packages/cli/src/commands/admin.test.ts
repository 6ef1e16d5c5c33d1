// list / stats / purge / peek in-process over a memory store (it lives as long as this process):
// the memory driver lists topics, counts per group and peeks; purge is not on that flavour.

import { PassThrough } from 'node:stream';
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { Io } from '../output.js';
import { adminCommand } from './admin.js';

function memoryIo(): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  let errors = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  stderr.on('data', (d: Buffer) => (errors += d.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => text, err: () => errors };
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

  it('peek prints the next messages of a group and leaves them: counts unchanged, first deliveries after', async () => {
    const url = 'memory://admin-unit-peek';
    const broker = await connect(url);
    await (await broker.consumer('jobs', { group: 'g' })).close();
    await (await broker.producer('jobs')).send([{ body: 'one', key: 'k1' }, 'two', 'three']);
    const json = memoryIo();
    expect(await adminCommand('peek', { url, source: 'jobs', group: 'g', max: 2, json: true }, json.io)).toBe(
      0,
    );
    const lines = json
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { body: string; key?: string; deliveryAttempt: number });
    expect(lines.map((m) => [m.body, m.deliveryAttempt])).toEqual([
      ['one', 1],
      ['two', 1],
    ]);
    expect(lines[0]!.key).toBe('k1');
    expect(json.err()).toBe('peeked 2 messages, none taken\n');
    const text = memoryIo();
    expect(await adminCommand('peek', { url, source: 'jobs', group: 'g' }, text.io)).toBe(0);
    expect(text.out()).toMatch(/^#1 id=\S+ attempt=1 key=k1 contentType=text\/plain[^\n]*\none\n#2 /);
    const stats = memoryIo();
    expect(await adminCommand('stats', { url, source: 'jobs', group: 'g' }, stats.io)).toBe(0);
    expect(stats.out()).toBe('jobs group=g ready=3 inFlight=0\n');
    const consumer = await broker.consumer('jobs', { group: 'g', prefetch: 3 });
    const got = [];
    while (got.length < 3) got.push(...(await consumer.receive({ max: 3, waitMs: 1_000 })));
    expect(got.map((m) => [m.text(), m.deliveryAttempt])).toEqual([
      ['one', 1],
      ['two', 1],
      ['three', 1],
    ]);
    await Promise.all(got.map((m) => m.ack()));
    await broker.close();
    await expect(adminCommand('peek', { url, source: 'jobs', max: 0 }, memoryIo().io)).rejects.toThrow(
      /--max must be 1 or more/,
    );
  });
});
