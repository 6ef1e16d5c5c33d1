// The Remoting queue index over the engine's per-topic log: queue choice, and queue offsets given
// in the order messages become visible (delays and transactions), as a 4.x consume queue does.

import { describe, expect, it } from 'vitest';
import { RocketMqEngine } from '../rocketmq/engine.js';
import { QueueIndex } from './queues.js';

function setup(queues: number) {
  let now = 1_000;
  const engine = new RocketMqEngine({ clock: { now: () => now } });
  engine.createTopic('T', { type: 'MIXED', queues });
  return {
    engine,
    index: new QueueIndex(engine),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const bodies = (index: QueueIndex, queueId: number) =>
  index.queue('T', queueId).map((e) => [e.queueOffset, e.message.body.toString()]);

describe('QueueIndex', () => {
  it("keeps a Remoting producer's queue and spreads the others by log offset", () => {
    const { engine, index } = setup(2);
    engine.append('T', { messageId: 'a', type: 'NORMAL', body: Buffer.from('a') });
    engine.append('T', { messageId: 'b', type: 'NORMAL', body: Buffer.from('b') });
    engine.append('T', { messageId: 'c', type: 'NORMAL', body: Buffer.from('c'), queueId: 1 });
    expect(bodies(index, 0)).toEqual([[0, 'a']]);
    expect(bodies(index, 1)).toEqual([
      [0, 'b'],
      [1, 'c'],
    ]);
  });

  it('gives a delayed message its queue offset when it becomes visible', () => {
    const { engine, index, advance } = setup(1);
    const later = engine.append('T', {
      messageId: 'late',
      type: 'DELAY',
      body: Buffer.from('late'),
      deliveryTimestamp: 1_500,
    });
    engine.append('T', { messageId: 'now', type: 'NORMAL', body: Buffer.from('now') });
    expect(bodies(index, 0)).toEqual([[0, 'now']]);
    expect(index.nextVisibleAt('T')).toBe(1_500);
    advance(500);
    expect(bodies(index, 0)).toEqual([
      [0, 'now'],
      [1, 'late'],
    ]);
    expect(index.byCommitLogOffset(later.seq)?.queueOffset).toBe(1);
    expect(index.nextVisibleAt('T')).toBe(Number.POSITIVE_INFINITY);
  });

  it('admits a half transaction on commit and never a rolled-back one', () => {
    const { engine, index } = setup(1);
    const committed = engine.append('T', { messageId: 'c', type: 'TRANSACTION', body: Buffer.from('c') });
    const rolled = engine.append('T', { messageId: 'r', type: 'TRANSACTION', body: Buffer.from('r') });
    expect(bodies(index, 0)).toEqual([]);
    engine.endTransaction('T', rolled.transactionId!, 'r', 'ROLLBACK');
    engine.endTransaction('T', committed.transactionId!, 'c', 'COMMIT');
    expect(bodies(index, 0)).toEqual([[0, 'c']]);
  });

  it('rebuilds after the topic is deleted and made again', () => {
    const { engine, index } = setup(1);
    engine.append('T', { messageId: 'old', type: 'NORMAL', body: Buffer.from('old') });
    expect(index.maxOffset('T', 0)).toBe(1);
    engine.deleteTopic('T');
    expect(index.maxOffset('T', 0)).toBe(0);
    engine.createTopic('T', { queues: 1 });
    engine.append('T', { messageId: 'new', type: 'NORMAL', body: Buffer.from('new') });
    expect(bodies(index, 0)).toEqual([[0, 'new']]);
  });

  it("lets go of a deleted topic's messages without the topic being looked up again", () => {
    const { engine, index } = setup(2);
    engine.createTopic('U', { queues: 1 });
    for (let i = 0; i < 100; i++)
      engine.append('T', { messageId: `t${i}`, type: 'NORMAL', body: Buffer.alloc(256) });
    const kept = engine.append('U', { messageId: 'u', type: 'NORMAL', body: Buffer.from('u') });
    expect(index.maxOffset('T', 0) + index.maxOffset('T', 1) + index.maxOffset('U', 0)).toBe(101);
    expect(index.indexedMessages).toBe(101);
    engine.deleteTopic('T');
    expect(index.indexedMessages).toBe(1);
    expect(index.byCommitLogOffset(kept.seq)?.message.body.toString()).toBe('u');
    // A restore replaces every log: nothing indexed from the old ones is kept.
    engine.restore({ ...engine.snapshot(), topics: [] });
    expect(index.indexedMessages).toBe(0);
  });
});
