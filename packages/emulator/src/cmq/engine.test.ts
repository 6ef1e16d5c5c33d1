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
});
