import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../broker.js';
import { connect } from '../connect.js';
import type { Message } from '../message.js';
import { DualReadConsumer, originOf } from './dual-read.js';

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

let n = 0;
async function setup(options: { visibilityTimeoutMs?: number } = {}) {
  n++;
  const old = await connect(`memory://dr-old-${n}`);
  const next = await connect(`memory://dr-new-${n}`);
  brokers.push(old, next);
  const consumer = new DualReadConsumer(
    [
      await old.consumer('jobs', { group: 'g', ...options }),
      await next.consumer('jobs', { group: 'g', ...options }),
    ],
    ['old', 'new'],
  );
  await (await old.producer('jobs')).send(['o1', 'o2']);
  await (await next.producer('jobs')).send(['n1', 'n2']);
  return { old, next, consumer };
}

async function drain(consumer: DualReadConsumer, want: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 40 && out.length < want; i++)
    out.push(...(await consumer.receive({ max: want, waitMs: 50 })));
  return out;
}

describe('DualReadConsumer', () => {
  it('receive() merges both sources and tells each message its origin', async () => {
    const { consumer } = await setup();
    const messages = await drain(consumer, 4);
    expect(messages.map((m) => `${originOf(m)}:${m.text()}`).sort()).toEqual([
      'new:n1',
      'new:n2',
      'old:o1',
      'old:o2',
    ]);
    await Promise.all(messages.map((m) => m.ack()));
    await consumer.close();
  });

  it('acks go to the origin: a nacked message comes back from its own broker only', async () => {
    const { old, next, consumer } = await setup();
    const messages = await drain(consumer, 4);
    for (const m of messages) {
      if (m.text() === 'o2') await m.nack();
      else await m.ack();
    }
    const again = await drain(consumer, 1);
    expect(again.map((m) => `${originOf(m)}:${m.text()}:${m.deliveryAttempt}`)).toEqual(['old:o2:2']);
    await again[0]!.ack();
    await consumer.close();
    // Nothing left on either broker: every ack reached the broker the message came from.
    for (const broker of [old, next]) {
      const check = await broker.consumer('jobs', { group: 'g' });
      expect(await check.receive({ waitMs: 100 })).toEqual([]);
    }
  });

  it('run() handles both sources with one handler; a throw nacks at the origin', async () => {
    const { consumer } = await setup();
    const seen: string[] = [];
    let failedOnce = false;
    const stop = new AbortController();
    await consumer.run(
      (m) => {
        if (m.text() === 'n1' && !failedOnce) {
          failedOnce = true;
          throw new Error('first try fails');
        }
        seen.push(`${originOf(m)}:${m.text()}:${m.deliveryAttempt}`);
        if (seen.length === 4) stop.abort();
      },
      { signal: stop.signal },
    );
    expect(seen.sort()).toEqual(['new:n1:2', 'new:n2:1', 'old:o1:1', 'old:o2:1']);
    await consumer.close();
  });

  it('for await iterates the merged stream; close() gives unsettled messages back to their broker', async () => {
    const { old, consumer } = await setup();
    const got: string[] = [];
    for await (const m of consumer) {
      got.push(m.text());
      if (m.text().startsWith('n')) await m.ack();
      if (got.length === 4) break;
    }
    await consumer.close();
    // o1 and o2 were never acked: they are back on the old broker.
    const check = await old.consumer('jobs', { group: 'g' });
    const back = await check.receive({ max: 4, waitMs: 200 });
    expect(back.map((m) => m.text()).sort()).toEqual(['o1', 'o2']);
  });

  it('run() and receive() exclude each other', async () => {
    const { consumer } = await setup();
    await drain(consumer, 1);
    await expect(consumer.run(() => {})).rejects.toThrow(/receive\(\)/);
    await consumer.close();
    await expect(consumer.receive()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
