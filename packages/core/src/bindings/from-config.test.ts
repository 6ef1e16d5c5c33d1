import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../connect.js';
import { Consumer } from '../consumer.js';
import type { Message } from '../message.js';
import { Producer } from '../producer.js';
import { DualReadConsumer, originOf } from './dual-read.js';
import { DualWriteProducer } from './dual-write.js';
import { fromConfig } from './from-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-from-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The migration sequence, one config per step; the service code (producer('orders') /
// consumer('orders')) never changes.
const step = (n: number, binding: string) => `
brokers:
  old: { url: "memory://fc-old-${n}" }
  new: { driver: memory, name: "fc-new-${n}" }
bindings:
  orders:
${binding}
`;

async function take(consumer: { receive(o: object): Promise<Message[]> }, want: number) {
  const out: Message[] = [];
  for (let i = 0; i < 40 && out.length < want; i++)
    out.push(...(await consumer.receive({ max: want, waitMs: 50 })));
  return out;
}

describe('fromConfig', () => {
  it('gives producers and consumers by binding name from SWITCHYARD_CONFIG; brokers connect once, lazily', async () => {
    const path = join(dir, 'plain.yaml');
    await writeFile(
      path,
      step(1, '    broker: old\n    destination: orders\n    group: billing\n    consumer: { prefetch: 4 }'),
    );
    const bindings = await fromConfig({ env: { SWITCHYARD_CONFIG: path } });
    expect(bindings.file).toBe(path);
    expect(bindings.binding('orders')).toMatchObject({
      write: [{ broker: 'old', destination: 'orders', source: 'orders', group: 'billing' }],
      read: [{ broker: 'old', destination: 'orders', source: 'orders', group: 'billing' }],
    });
    const producer = await bindings.producer('orders');
    const consumer = await bindings.consumer('orders');
    expect(producer).toBeInstanceOf(Producer);
    expect(consumer).toBeInstanceOf(Consumer);
    expect(consumer.group).toBe('billing');
    expect(await bindings.broker('old')).toBe(await bindings.broker('old'));
    await producer.send('hello');
    const [message] = await take(consumer, 1);
    expect(message!.text()).toBe('hello');
    await message!.ack();
    await bindings.close();
  });

  it('walks the migration: dual-read, dual-write, write new only, cut over — same service code', async () => {
    const steps = [
      // 1. read from both (still writing old)
      '    broker: old\n    destination: orders\n    read: { brokers: [old, new] }',
      // 2. write to both
      '    destination: orders\n    write: { brokers: [old, new], require: both }\n    read: { brokers: [old, new] }',
      // 3. write to the new one only, keep reading both to drain the old one
      '    destination: orders\n    write: { brokers: [new] }\n    read: { brokers: [old, new] }',
      // 4. cut over
      '    broker: new\n    destination: orders',
    ];
    const path = join(dir, 'migration.yaml');
    const received: string[][] = [];
    for (const [i, binding] of steps.entries()) {
      await writeFile(path, step(2, binding));
      const bindings = await fromConfig({ path });
      const producer = await bindings.producer('orders');
      const consumer = await bindings.consumer('orders');
      expect(producer).toBeInstanceOf(i === 1 ? DualWriteProducer : Producer);
      expect(consumer).toBeInstanceOf(i === 3 ? Consumer : DualReadConsumer);
      await producer.send(`step-${i + 1}`);
      const messages = await take(consumer, i === 1 ? 2 : 1);
      received.push(messages.map((m) => `${originOf(m) ?? 'single'}:${m.text()}`).sort());
      await Promise.all(messages.map((m) => m.ack()));
      await bindings.close();
    }
    expect(received).toEqual([
      ['old:step-1'],
      ['new:step-2', 'old:step-2'], // the same message from both sides during dual-write
      ['new:step-3'],
      ['single:step-4'],
    ]);
    // Nothing left anywhere.
    for (const url of ['memory://fc-old-2', 'memory://fc-new-2']) {
      const broker = await connect(url);
      expect(await (await broker.consumer('orders')).receive({ waitMs: 50 })).toEqual([]);
      await broker.close();
    }
  });

  it('per-side names: a broker ref can rename destination and source', async () => {
    const bindings = await fromConfig({
      config: {
        brokers: { a: { url: 'memory://fc-a' }, b: { url: 'memory://fc-b' } },
        bindings: {
          orders: {
            destination: 'orders',
            write: { brokers: ['a', { broker: 'b', destination: 'orders-v2' }] },
            read: { brokers: ['a', { broker: 'b', source: 'orders-v2', group: 'g2' }] },
          },
        },
      },
    });
    expect(bindings.binding('orders').write[1]).toEqual({
      broker: 'b',
      destination: 'orders-v2',
      source: 'orders-v2',
      group: 'default',
    });
    expect(bindings.binding('orders').read[1]).toMatchObject({ source: 'orders-v2', group: 'g2' });
    const consumer = await bindings.consumer('orders');
    await (await bindings.producer('orders')).send('renamed');
    const messages = await take(consumer, 2);
    expect(messages.map((m) => `${originOf(m)}:${m.text()}`).sort()).toEqual(['a:renamed', 'b:renamed']);
    await bindings.close();
  });

  it('unknown bindings and broker failures are errors naming the file, binding and broker', async () => {
    const path = join(dir, 'errors.yaml');
    await writeFile(
      path,
      step(3, '    broker: new\n    destination: orders') + '  bad:\n    broker: old\n    source: x\n',
    );
    const bindings = await fromConfig({ path });
    expect(() => bindings.binding('nope')).toThrow(
      `${path}: unknown binding "nope"; defined bindings: orders, bad`,
    );
    await expect(bindings.producer('nope')).rejects.toMatchObject({ code: 'CONFIG' });
    await bindings.close();
    const broken = await fromConfig({
      config: {
        brokers: { x: { driver: 'memory', profile: 'huge' } },
        bindings: { j: { broker: 'x', source: 'j' } },
      },
    });
    await expect(broken.consumer('j')).rejects.toThrow(
      /switchyard config: broker "x": invalid config: config\.profile/,
    );
  });

  it('warns about inline secrets through onWarning', async () => {
    const warnings: string[] = [];
    const bindings = await fromConfig({
      config: { brokers: { r: { url: 'amqp://user:inline-secret-x1@127.0.0.1' } } },
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([expect.stringContaining('brokers.r.url has a password inline')]);
    expect(warnings[0]).not.toContain('inline-secret-x1');
    await bindings.close();
  });
});
