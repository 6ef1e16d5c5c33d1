// The bridge in-process over two memory stores: every field a portable message carries arrives,
// in order with --ordered, and a send failure gives the message back to the source.

import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect, type Message } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { Io } from '../output.js';
import { bridgeCommand } from './bridge.js';

function memoryIo(): { io: Io; out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  return { io: { stdout, stderr: new PassThrough(), stdin: new PassThrough() }, out: () => text };
}

const context = { warn: () => {} };
const base = { group: 'switchyard-bridge', batch: 64, max: 0, json: true };

async function drain(url: string, source: string, want: number, group = 'default'): Promise<Message[]> {
  const broker = await connect(url);
  const consumer = await broker.consumer(source, { group });
  const out: Message[] = [];
  for (let i = 0; i < 100 && out.length < want; i++) {
    const batch = await consumer.receive({ max: 500, waitMs: 20 });
    // Acked per batch: the memory broker holds an ordering key until its head message is acked.
    for (const m of batch) await m.ack();
    out.push(...batch);
  }
  await broker.close();
  return out;
}

describe('bridgeCommand', () => {
  it('keeps body, content type, headers, key, tags, routing and ordering keys and id, in order', async () => {
    const src = await connect('memory://bridge-unit-src');
    const producer = await src.producer('orders');
    const sent = Array.from({ length: 300 }, (_, i) => ({
      id: `id-${i}`,
      body: i % 3 === 0 ? new Uint8Array([0xff, i % 256]) : `text-${i}`,
      headers: { n: String(i) },
      key: `k-${i}`,
      tags: [`t${i % 2}`],
      routingKey: `r.${i}`,
      orderingKey: `o-${i % 5}`,
    }));
    await producer.send(sent);
    await src.close();
    const { io, out } = memoryIo();
    const code = await bridgeCommand(
      {
        ...base,
        from: 'memory://bridge-unit-src',
        to: 'memory://bridge-unit-dst',
        source: 'orders',
        destination: 'copy',
        idle: 200,
        ordered: true,
      },
      io,
      context,
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out())).toMatchObject({
      ok: true,
      received: 300,
      bridged: 300,
      failed: 0,
      stoppedBy: 'idle',
    });
    const got = await drain('memory://bridge-unit-dst', 'copy', 300);
    expect(got.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    for (const [i, m] of got.entries()) {
      const s = sent[i]!;
      expect(m.body).toEqual(typeof s.body === 'string' ? new TextEncoder().encode(s.body) : s.body);
      expect(m.contentType).toBe(
        typeof s.body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      );
      expect(m).toMatchObject({
        key: s.key,
        headers: s.headers,
        tags: s.tags,
        routingKey: s.routingKey,
        orderingKey: s.orderingKey,
      });
    }
    expect(await drain('memory://bridge-unit-src', 'orders', 1, 'switchyard-bridge')).toEqual([]);
  });

  it('--max stops after that many; the rest stays at the source', async () => {
    const src = await connect('memory://bridge-unit-max');
    await (await src.producer('jobs')).send(Array.from({ length: 50 }, (_, i) => `j-${i}`));
    await src.close();
    const { io, out } = memoryIo();
    const warnings: string[] = [];
    const code = await bridgeCommand(
      {
        ...base,
        batch: 8,
        max: 20,
        from: 'memory://bridge-unit-max',
        to: 'memory://bridge-unit-max2',
        source: 'jobs',
        destination: 'jobs',
      },
      io,
      { warn: (text) => warnings.push(text) },
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ bridged: 20, stoppedBy: 'max' });
    // Memory on both sides: the CLI warns that such a bridge only makes sense inside one process.
    expect(warnings).toEqual([
      expect.stringContaining('memory://bridge-unit-max is an in-process memory broker: it starts empty'),
      expect.stringContaining(
        'memory://bridge-unit-max2 is an in-process memory broker: what is bridged there vanishes',
      ),
    ]);
    expect(await drain('memory://bridge-unit-max2', 'jobs', 20)).toHaveLength(20);
    expect(await drain('memory://bridge-unit-max', 'jobs', 30, 'switchyard-bridge')).toHaveLength(30);
  });

  it('a refused send stops the bridge, gives the message back, and exits with the error code', async () => {
    const src = await connect('memory://bridge-unit-fail');
    // Tags cannot reach a minimal-profile broker: UNSUPPORTED on send.
    await (await src.producer('jobs')).send({ body: 'tagged', tags: ['a'] });
    await src.close();
    const { io, out } = memoryIo();
    const code = await bridgeCommand(
      {
        ...base,
        idle: 200,
        from: 'memory://bridge-unit-fail',
        to: 'memory://bridge-unit-fail2?profile=minimal',
        source: 'jobs',
        destination: 'jobs',
      },
      io,
      context,
      new AbortController().signal,
    );
    expect(code).toBe(5);
    expect(JSON.parse(out())).toMatchObject({
      ok: false,
      bridged: 0,
      failed: 1,
      givenBack: 1,
      stoppedBy: 'error',
      error: { code: 'UNSUPPORTED' },
    });
    const back = await drain('memory://bridge-unit-fail', 'jobs', 1, 'switchyard-bridge');
    expect(back.map((m) => m.text())).toEqual(['tagged']);
  });

  it('a batch sent as one with a refused message in it: the others are bridged once, the refused one given back', async () => {
    const src = await connect('memory://bridge-unit-mixed');
    await (await src.producer('jobs')).send([
      { body: 'plain-1' },
      { body: 'tagged', tags: ['a'] },
      { body: 'plain-2' },
    ]);
    await src.close();
    const { io, out } = memoryIo();
    const code = await bridgeCommand(
      {
        ...base,
        idle: 200,
        from: 'memory://bridge-unit-mixed',
        to: 'memory://bridge-unit-mixed2?profile=minimal',
        source: 'jobs',
        destination: 'jobs',
      },
      io,
      context,
      new AbortController().signal,
    );
    expect(code).toBe(6);
    expect(JSON.parse(out())).toMatchObject({
      ok: false,
      bridged: 2,
      failed: 1,
      givenBack: 1,
      stoppedBy: 'error',
    });
    const copied = await drain('memory://bridge-unit-mixed2?profile=minimal', 'jobs', 3, 'switchyard-bridge');
    expect(copied.map((m) => m.text()).sort()).toEqual(['plain-1', 'plain-2']);
    const back = await drain('memory://bridge-unit-mixed', 'jobs', 1, 'switchyard-bridge');
    expect(back.map((m) => m.text())).toEqual(['tagged']);
  });

  it("reads a config: source as the binding's group, and a URL source as switchyard-bridge, unless -g", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-group-'));
    const configPath = join(dir, 'switchyard.config.yaml');
    await writeFile(
      configPath,
      [
        'brokers:',
        '  old: { url: "memory://bridge-unit-groups" }',
        '  new: { url: "memory://bridge-unit-groups-dst" }',
        'bindings:',
        '  orders-old: { broker: old, source: orders, group: billing }',
        '  orders-new: { broker: new, destination: orders }',
        '',
      ].join('\n'),
    );
    const src = await connect('memory://bridge-unit-groups');
    // Both groups exist before the send, so each holds its own copy (fan-out).
    for (const group of ['billing', 'switchyard-bridge'])
      await (await src.consumer('orders', { group })).close();
    await (await src.producer('orders')).send(['one', 'two']);
    await src.close();
    try {
      const { group: _default, ...noGroup } = base;
      const { io, out } = memoryIo();
      const code = await bridgeCommand(
        { ...noGroup, idle: 200, from: 'config:orders-old', to: 'config:orders-new' },
        io,
        { ...context, configPath },
        new AbortController().signal,
      );
      expect(code).toBe(0);
      expect(JSON.parse(out())).toMatchObject({ bridged: 2 });
      // The binding's group was drained; the bridge's own group still holds its copies.
      expect(await drain('memory://bridge-unit-groups', 'orders', 2, 'billing')).toEqual([]);
      const own = await drain('memory://bridge-unit-groups', 'orders', 2, 'switchyard-bridge');
      expect(own.map((m) => m.text()).sort()).toEqual(['one', 'two']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--dead-letter: a message the destination refuses moves aside at the source and the drain goes on', async () => {
    const src = await connect('memory://bridge-unit-refused');
    const producer = await src.producer('jobs');
    await producer.send([{ body: 'plain-1' }, { body: 'tagged', tags: ['a'] }, { body: 'plain-2' }]);
    await src.close();
    const { io, out } = memoryIo();
    const code = await bridgeCommand(
      {
        ...base,
        idle: 200,
        from: 'memory://bridge-unit-refused',
        to: 'memory://bridge-unit-refused2?profile=minimal',
        source: 'jobs',
        destination: 'jobs',
        deadLetter: 'jobs-refused',
      },
      io,
      context,
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ ok: true, bridged: 2, failed: 0, deadLettered: 1 });
    const copied = await drain(
      'memory://bridge-unit-refused2?profile=minimal',
      'jobs',
      2,
      'switchyard-bridge',
    );
    expect(copied.map((m) => m.text()).sort()).toEqual(['plain-1', 'plain-2']);
    const [refused] = await drain('memory://bridge-unit-refused', 'jobs-refused', 1);
    expect(refused?.text()).toBe('tagged');
    expect(refused?.tags).toEqual(['a']);
    expect(refused?.headers['x-switchyard-dead-letter-reason']).toMatch(/refused it: .*tags/i);
  });

  it('--rate over many rounds leaves no listener on the interrupt signal and no MaxListenersExceededWarning', async () => {
    const src = await connect('memory://bridge-unit-rate');
    await (await src.producer('jobs')).send(Array.from({ length: 60 }, (_, i) => `r-${i}`));
    await src.close();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const interrupt = new AbortController();
    // One message per round at 100/s: nearly every round waits for a token, 60 rounds in all
    // (each wait used to leave an abort listener on the signal: a warning after ten).
    const listenersDuring: number[] = [];
    const sample = setInterval(
      () => listenersDuring.push(getEventListeners(interrupt.signal, 'abort').length),
      5,
    );
    try {
      const { io, out } = memoryIo();
      const code = await bridgeCommand(
        {
          ...base,
          batch: 1,
          max: 60,
          rate: 100,
          from: 'memory://bridge-unit-rate',
          to: 'memory://bridge-unit-rate2',
          source: 'jobs',
          destination: 'jobs',
        },
        io,
        context,
        interrupt.signal,
      );
      expect(code).toBe(0);
      expect(JSON.parse(out())).toMatchObject({ bridged: 60, stoppedBy: 'max' });
    } finally {
      clearInterval(sample);
      process.off('warning', onWarning);
    }
    // Waiting: the stop listener of the receive race plus one of the token wait, never more.
    expect(Math.max(...listenersDuring)).toBeLessThanOrEqual(2);
    expect(getEventListeners(interrupt.signal, 'abort')).toHaveLength(0);
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
    expect(await drain('memory://bridge-unit-rate2', 'jobs', 60)).toHaveLength(60);
  });
});
