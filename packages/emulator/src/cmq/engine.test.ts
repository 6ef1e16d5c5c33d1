import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { CmqEngine } from './engine.js';
import { CmqError } from './errors.js';

const errorOf = (fn: () => unknown): CmqError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CmqError) return error;
    throw error;
  }
  throw new Error('did not throw');
};

describe('CmqEngine in-process API', () => {
  it('throws typed CmqErrors carrying the wire code and message', () => {
    const engine = new CmqEngine();
    engine.createQueue('a');
    const e = errorOf(() => engine.createQueue('A'));
    expect(e).toMatchObject({ code: 4460, message: '(4460)queue is already existed,case insensitive' });
    expect(errorOf(() => engine.sendMessage('missing', 'x'))).toMatchObject({ code: 4440, module: 10100 });
    expect(errorOf(() => engine.deleteMessage('a', '123'))).toMatchObject({ code: 4430, module: 10260 });
  });

  it('guards re-creation of a deleted name for recreateGuardSeconds', () => {
    const clock = new ManualClock();
    const engine = new CmqEngine({ clock });
    engine.createQueue('again');
    engine.deleteQueue('again');
    expect(errorOf(() => engine.createQueue('again'))).toMatchObject({ code: 6040, module: 10660 });
    clock.advance(10_000);
    expect(engine.createQueue('again').queueId).toMatch(/^queue-/);
  });

  it('receiveMessages returns [] when its signal aborts, and close() ends every wait', async () => {
    const engine = new CmqEngine();
    engine.createQueue('w');
    const abort = new AbortController();
    const waiting = engine.receiveMessages('w', { waitSeconds: 30, signal: abort.signal });
    abort.abort();
    expect(await waiting).toEqual([]);
    const other = engine.receiveMessages('w', { waitSeconds: 30 });
    engine.close();
    expect(await other).toEqual([]);
  });

  it('a message sent during a wait goes to exactly one waiter', async () => {
    const engine = new CmqEngine();
    engine.createQueue('race');
    const waits = [1, 2, 3].map(() => engine.receiveMessages('race', { waitSeconds: 0.2 }));
    engine.sendMessage('race', 'only');
    const results = await Promise.all(waits);
    expect(results.flat().map((m) => m.msgBody)).toEqual(['only']);
  });

  it('snapshot/restore keeps messages, in-flight handles and counters', async () => {
    const clock = new ManualClock();
    const engine = new CmqEngine({ clock });
    engine.createQueue('s', { visibilityTimeout: 60 });
    engine.sendMessages('s', ['one', 'two']);
    const [first] = await engine.receiveMessages('s');
    const copy = new CmqEngine({ clock });
    copy.restore(JSON.parse(JSON.stringify(engine.snapshot())));
    copy.deleteMessage('s', first!.receiptHandle);
    const [second] = await copy.receiveMessages('s');
    expect(second?.msgBody).toBe('two');
    expect(second?.receiptHandle).not.toBe(first!.receiptHandle);
    const third = copy.sendMessage('s', 'three').msgId;
    expect([first!.msgId, second!.msgId]).not.toContain(third);
    expect(copy.getQueueAttributes('s')).toMatchObject({ activeMsgNum: 1, inactiveMsgNum: 1 });
  });

  it('publishes to queue subscriptions without strict errors when strictPublish is off', () => {
    const engine = new CmqEngine({ strictPublish: false });
    engine.createTopic('t');
    expect(engine.publishMessage('t', 'nobody listens').msgId).toMatch(/^\d+$/);
  });

  it('clearQueue drops every message but keeps the queue and its settings', async () => {
    const engine = new CmqEngine();
    engine.createQueue('c', { visibilityTimeout: 77, rewindSeconds: 60 });
    engine.sendMessages('c', ['a', 'b', 'c']);
    const [inFlight] = await engine.receiveMessages('c');
    expect(engine.clearQueue('c')).toEqual({ clearedCount: 3 });
    expect(engine.getQueueAttributes('c')).toMatchObject({
      activeMsgNum: 0,
      inactiveMsgNum: 0,
      visibilityTimeout: 77,
    });
    expect(errorOf(() => engine.deleteMessage('c', inFlight!.receiptHandle))).toMatchObject({ code: 4430 });
    engine.sendMessage('c', 'after');
    expect((await engine.receiveMessages('c'))[0]?.msgBody).toBe('after');
  });

  it('lets go of publish times past the topic retention window without msgCount being read', () => {
    const clock = new ManualClock();
    const engine = new CmqEngine({ clock });
    engine.createQueue('sink', { maxMsgHeapNum: 1_000 });
    engine.createTopic('daily');
    engine.subscribe('daily', 's', {
      protocol: 'queue',
      endpoint: 'sink',
      notifyContentFormat: 'SIMPLIFIED',
    });
    const publish = (n: number) => {
      for (let i = 0; i < n; i += 16) engine.publishMessages('daily', new Array<string>(16).fill('x'));
    };
    const held = () => engine.snapshot().topics[0]!.publishTimes.length;
    publish(3_200);
    clock.advance(86_400_000 + 1);
    publish(6_400);
    // Only the day's 6,400 are in the window; the 3,200 before it were swept by publishing alone.
    expect(held()).toBe(6_400);
    expect(engine.getTopicAttributes('daily').msgCount).toBe(6_400);
  });

  it('lets go of deleted and re-received messages while their visibility windows are still open', async () => {
    // Without the sweep every delivered message stayed in the queue's time heap, body and all, until
    // its window closed and the queue was read again: a queue read to empty kept them all.
    class Probe extends CmqEngine {
      timedEntries(name: string): number {
        return this.queue(name).timedEntries;
      }
    }
    const clock = new ManualClock();
    const engine = new Probe({ clock });
    engine.createQueue('held', { visibilityTimeout: 30 });
    const kept: string[] = [];
    for (let round = 0; round < 400; round++) {
      engine.sendMessages(
        'held',
        Array.from({ length: 16 }, (_, i) => `m${round}-${i}`),
      );
      const got = await engine.receiveMessages('held', { max: 16, waitSeconds: 0 });
      expect(got).toHaveLength(16);
      // One message in 100 stays in flight: the sweep must keep its entry.
      for (const [i, m] of got.entries()) {
        if (round % 100 === 0 && i === 0) kept.push(m.msgBody);
        else engine.deleteMessage('held', m.receiptHandle);
      }
    }
    expect(engine.timedEntries('held')).toBeLessThanOrEqual(2 * kept.length + 1024);
    clock.advance(30_000);
    const back = await engine.receiveMessages('held', { max: 16, waitSeconds: 0 });
    expect(back.map((m) => m.msgBody).sort()).toEqual([...kept].sort());
  });
});
