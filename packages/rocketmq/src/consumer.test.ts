// RocketConsumer's receives against a fake SimpleConsumer: one long poll at a time, and on a
// backlog a second receive sent as a batch is handed on (an expert's two receive loops), never past
// the room the caller gives and never in a FIFO group; nothing is lost when a wait ends first.

import type { MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { RocketConsumer } from './consumer.js';

let ids = 0;
const view = (group?: string) =>
  ({
    messageId: `m${++ids}`,
    body: Buffer.from('x'),
    properties: new Map<string, string>(),
    keys: [],
    tag: '',
    messageGroup: group,
    deliveryAttempt: 1,
  }) as unknown as MessageView;

/** Each receive waits until the test answers it. */
function fakeClient() {
  const receives: Array<{ max: number; answer: (views: MessageView[]) => void }> = [];
  const client = {
    receive: (max: number) =>
      new Promise<MessageView[]>((answer) => {
        receives.push({ max, answer });
      }),
    changeInvisibleDuration: async () => {},
    shutdown: async () => {},
  };
  return { client: client as unknown as SimpleConsumer, receives };
}

const options = (fifo = false) => ({
  topic: 't',
  group: 'g',
  invisibleMs: 30_000,
  receiveBoundMs: 200,
  fifo,
  requestTimeoutMs: 1_000,
});

describe('RocketConsumer receives', () => {
  it('on a backlog sends a second receive as it hands a batch on, within the room given', async () => {
    const { client, receives } = fakeClient();
    const consumer = new RocketConsumer(client, options());
    const first = consumer.receiveBatch(64, 10_000);
    expect(receives.map((r) => r.max)).toEqual([32]);
    receives[0]!.answer(Array.from({ length: 32 }, () => view()));
    expect((await first).length).toBe(32);
    // Handed on with the next receive already on the wire: up to the 32 left of the room.
    expect(receives.map((r) => r.max)).toEqual([32, 32]);
    // The next round waits for it; handing its batch on sends no third while room is 0.
    const second = consumer.receiveBatch(32, 10_000);
    receives[1]!.answer(Array.from({ length: 32 }, () => view()));
    expect((await second).length).toBe(32);
    expect(receives.length).toBe(2);
    // Room again: one more goes out, and a short wait returns nothing while it is on the wire.
    expect(await consumer.receiveBatch(16, 0)).toEqual([]);
    expect(receives.map((r) => r.max)).toEqual([32, 32, 16]);
    // What it brings after the wait ended is handed on by the next call, not lost.
    receives[2]!.answer([view()]);
    expect((await consumer.receiveBatch(16, 10_000)).length).toBe(1);
    await consumer.close();
  });

  it('keeps one receive on the wire in a FIFO group', async () => {
    const { client, receives } = fakeClient();
    const consumer = new RocketConsumer(client, options(true));
    const first = consumer.receiveBatch(64, 10_000);
    receives[0]!.answer([view('a'), view('b')]);
    expect((await first).length).toBe(2);
    expect(receives.length).toBe(1);
    await consumer.close();
  });

  it('in a FIFO group hands a waiting call the message an ack released, while a receive is on the wire', async () => {
    const { client, receives } = fakeClient();
    (client as unknown as { ack: () => Promise<void> }).ack = async () => {};
    const consumer = new RocketConsumer(client, options(true));
    const first = consumer.receiveBatch(64, 10_000);
    const [a1, a2] = [view('a'), view('a')];
    receives[0]!.answer([a1!, a2!]);
    const got = await first;
    expect(got.map((d) => d.id)).toEqual([a1!.messageId]);
    // The next call sends a long poll and waits; the ack of a1 releases a2 to it at once.
    const second = consumer.receiveBatch(64, 60_000);
    expect(receives.length).toBe(2);
    await consumer.ack(got);
    expect((await second).map((d) => d.id)).toEqual([a2!.messageId]);
    receives[1]!.answer([]);
    await consumer.close();
  });

  it('hands back on close what a receive still on the wire brings', async () => {
    const { client, receives } = fakeClient();
    const handedBack: string[] = [];
    (
      client as unknown as { changeInvisibleDuration: (v: MessageView) => Promise<void> }
    ).changeInvisibleDuration = async (v) => {
      handedBack.push(v.messageId);
    };
    const consumer = new RocketConsumer(client, options());
    const first = consumer.receiveBatch(64, 10_000);
    receives[0]!.answer([view()]);
    await first;
    const closing = consumer.close();
    const last = view();
    receives[1]!.answer([last]);
    await closing;
    expect(handedBack).toEqual([last.messageId]);
  });
});
