import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import { SwitchyardError } from './errors.js';
import { Waiters } from './waiters.js';

const brokers: Broker[] = [];
async function memory(): Promise<Broker> {
  const broker = await connect({ driver: 'memory', name: `pull-${randomUUID()}` });
  brokers.push(broker);
  return broker;
}
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

describe('receive() that waits', () => {
  it('waits as a target of the intake (no promise of its own there) and gets what arrives', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q');
    const producer = await broker.producer('q');
    const wait = vi.spyOn(Waiters.prototype, 'wait');
    const waitFor = vi.spyOn(Waiters.prototype, 'waitFor');
    const receiving = consumer.receive({ max: 5, waitMs: 12_345 });
    await producer.send(['a', 'b']);
    const messages = await receiving;
    expect(messages.map((m) => m.text())).toEqual(['a', 'b']);
    await Promise.all(messages.map((m) => m.ack()));
    // The driver's pump waits with wait() in its subscription; receive() with waitFor() only.
    expect(wait.mock.calls.filter(([ms]) => ms === 12_345)).toHaveLength(0);
    expect(waitFor.mock.calls.filter(([, ms]) => ms === 12_345)).toHaveLength(1);
  });

  it('receives waiting together are served in the order they began; an aborted one takes nothing', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q');
    const producer = await broker.producer('q');
    const controller = new AbortController();
    const aborted = consumer.receive({ max: 5, waitMs: 60_000, signal: controller.signal });
    const first = consumer.receive({ max: 2, waitMs: 60_000 });
    const second = consumer.receive({ max: 2, waitMs: 60_000 });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'CLOSED' });
    await producer.send(['a', 'b', 'c']);
    const [one, two] = await Promise.all([first, second]);
    expect(one.map((m) => m.text())).toEqual(['a', 'b']);
    expect(two.map((m) => m.text())).toEqual(['c']);
    await Promise.all([...one, ...two].map((m) => m.ack()));
    // Nothing came: an empty batch when the time is up.
    expect(await consumer.receive({ max: 2, waitMs: 5 })).toEqual([]);
  });

  it('rejects (never throws) bad options and a closed consumer; a close ends a waiting receive empty', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q');
    const bad = consumer.receive({ max: 0 });
    await expect(bad).rejects.toBeInstanceOf(SwitchyardError);
    await expect(consumer.receive({ nope: 1 } as never)).rejects.toBeInstanceOf(SwitchyardError);
    const waiting = consumer.receive({ max: 1, waitMs: 60_000 });
    await consumer.close();
    expect(await waiting).toEqual([]);
    await expect(consumer.receive()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
