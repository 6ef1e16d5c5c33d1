// QueueProducer.sendBatch over a stub client: which requests a batch becomes (one BatchSendMessage
// for the common batch, one per delay otherwise) and what each message gets back.

import type { Outgoing } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import type { CmqHttpClient } from './http-client.js';
import { QueueProducer } from './queue-model.js';

type Call = { action: string; params: Record<string, unknown> };

function stub(fail?: Error) {
  const calls: Call[] = [];
  let next = 0;
  const client = {
    async call(action: string, params: Record<string, unknown>) {
      calls.push({ action, params });
      if (fail !== undefined) throw fail;
      if (action === 'SendMessage') return { code: 0, msgId: `m${next++}` };
      const texts = params.msgBody as string[];
      return { code: 0, msgList: texts.map(() => ({ msgId: `m${next++}` })) };
    },
  } as unknown as CmqHttpClient;
  return { client, calls };
}

const outgoing = (text: string, delayMs?: number): Outgoing =>
  ({ id: `own-${text}`, text, bodyBytes: Buffer.byteLength(text), delayMs }) as unknown as Outgoing;
const settings = { bodyMode: 'raw', maxMessageBytes: 64 } as const;

describe('QueueProducer.sendBatch', () => {
  it('sends a batch of up to 16 with one delay as one request, receipts in order', async () => {
    const { client, calls } = stub();
    const producer = new QueueProducer(client, 'q', settings);
    const batch = Array.from({ length: 16 }, (_, i) => outgoing(`t${i}`, 1500));
    const results = await producer.sendBatch(batch);
    expect(calls).toEqual([
      {
        action: 'BatchSendMessage',
        params: { queueName: 'q', msgBody: batch.map((m) => m.text), delaySeconds: 2 },
      },
    ]);
    expect(results).toEqual(batch.map((_, i) => ({ messageId: `m${i}` })));
  });

  it('gives every message the error of a failed request, without rejecting', async () => {
    const failure = new Error('refused');
    const { client } = stub(failure);
    const producer = new QueueProducer(client, 'q', settings);
    expect(await producer.sendBatch([outgoing('a'), outgoing('b')])).toEqual([failure, failure]);
  });

  it('sends one request per delay and keeps each message its own receipt', async () => {
    const { client, calls } = stub();
    const producer = new QueueProducer(client, 'q', settings);
    const results = await producer.sendBatch([outgoing('a'), outgoing('b', 3000), outgoing('c')]);
    expect(calls.map((c) => [c.action, c.params.delaySeconds, c.params.msgBody])).toEqual([
      ['BatchSendMessage', 0, ['a', 'c']],
      ['SendMessage', 3, 'b'],
    ]);
    expect(results).toEqual([{ messageId: 'm0' }, { messageId: 'm2' }, { messageId: 'm1' }]);
  });

  it('refuses a message over the limit alone and sends the rest', async () => {
    const { client, calls } = stub();
    const producer = new QueueProducer(client, 'q', settings);
    const results = await producer.sendBatch([outgoing('a'), outgoing('x'.repeat(65)), outgoing('c')]);
    expect(calls.map((c) => c.params.msgBody)).toEqual([['a', 'c']]);
    expect(results[0]).toEqual({ messageId: 'm0' });
    expect(results[1]).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(results[2]).toEqual({ messageId: 'm1' });
  });
});
