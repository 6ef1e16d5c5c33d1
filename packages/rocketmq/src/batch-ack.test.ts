import { InternalErrorException, type MessageView, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { batchAck, canBatchAck } from './batch-ack.js';

type Reply = {
  status?: { code: number; message: string };
  entriesList: Array<{ status?: { code: number; message: string } }>;
};

function fakeClient(reply: (entries: number) => Reply | Error) {
  const calls: Array<{ group: string; topic: string; handles: string[] }> = [];
  const client = {
    async ackMessageViaRpc(_endpoints: unknown, request: { toObject(): Record<string, unknown> }) {
      const r = request.toObject() as {
        group: { name: string };
        topic: { name: string };
        entriesList: Array<{ receiptHandle: string }>;
      };
      calls.push({
        group: r.group.name,
        topic: r.topic.name,
        handles: r.entriesList.map((e) => e.receiptHandle),
      });
      const out = reply(r.entriesList.length);
      if (out instanceof Error) throw out;
      return { toObject: () => out };
    },
  } as unknown as SimpleConsumer;
  return { client, calls };
}

const view = (i: number, topic = 't') =>
  ({
    messageId: `m${i}`,
    receiptHandle: `h${i}`,
    topic,
    endpoints: { facade: '127.0.0.1:1' },
  }) as unknown as MessageView;
const ok = { code: 20_000, message: 'OK' };

describe('batched ack', () => {
  it('sends one request per 64 entries and topic, with the group and handles', async () => {
    const { client, calls } = fakeClient((n) => ({
      status: ok,
      entriesList: Array.from({ length: n }, () => ({ status: ok })),
    }));
    const views = [...Array.from({ length: 70 }, (_, i) => view(i)), view(99, 'other')];
    expect(await batchAck(client, 'c|ns%g', views, 3_000)).toEqual([]);
    expect(calls.map((c) => [c.topic, c.handles.length])).toEqual([
      ['t', 64],
      ['t', 6],
      ['other', 1],
    ]);
    expect(calls[0]!.group).toBe('c|ns%g');
    expect(canBatchAck(client)).toBe(true);
  });

  it('checks every entry: stale handles pass, other failures are reported', async () => {
    const { client } = fakeClient(() => ({
      status: { code: 30_000, message: 'multiple results' },
      entriesList: [
        { status: ok },
        { status: { code: 40_013, message: 'receipt handle is expired' } },
        { status: { code: 50_001, message: 'broker hiccup' } },
      ],
    }));
    const failures = await batchAck(client, 'g', [view(1), view(2), view(3)], 3_000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(InternalErrorException);
  });

  it('a single stale handle is fine; a transport error is reported', async () => {
    const stale = fakeClient(() => ({ status: { code: 40_013, message: 'expired' }, entriesList: [] }));
    expect(await batchAck(stale.client, 'g', [view(1)], 3_000)).toEqual([]);
    const down = fakeClient(() => Object.assign(new Error('14 UNAVAILABLE'), { code: 14, metadata: {} }));
    const failures = await batchAck(down.client, 'g', [view(1)], 3_000);
    expect((failures[0] as { code: number }).code).toBe(14);
  });
});
