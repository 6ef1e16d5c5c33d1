import { describe, expect, it } from 'vitest';
import { RocketMqEngine } from './engine.js';
import { MATCH_ALL, matches, parseFilter } from './filter.js';
import { fullName } from './names.js';
import { RocketMqError } from './statuses.js';

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
}

const body = (s: string) => Buffer.from(s);
const send = (e: RocketMqEngine, topic: string, id: string, extra: Record<string, unknown> = {}) =>
  e.append(topic, { messageId: id, type: 'NORMAL', body: body(id), ...extra });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RocketMqError ? error.code : 'THREW';
  }
}

describe('names and filters', () => {
  it('builds full names from namespaces as TDMQ 4.x clients do', () => {
    expect(fullName('T', 'ns', 'prefix')).toBe('ns%T');
    expect(fullName('c|ns%T', 'ns', 'prefix')).toBe('c|ns%T');
    expect(fullName('%DLQ%G', 'ns', 'prefix')).toBe('%DLQ%ns%G');
    expect(fullName('T', '', 'prefix')).toBe('T');
    expect(fullName('T', 'ns', 'ignore')).toBe('T');
  });

  it('parses tag expressions', () => {
    expect(parseFilter('TAG', '*')).toBe(MATCH_ALL);
    expect(parseFilter('TAG', '')).toBe(MATCH_ALL);
    const ab = parseFilter('TAG', ' TagA || TagB ||');
    expect([matches(ab, 'TagA'), matches(ab, 'TagB'), matches(ab, 'TagC'), matches(ab, undefined)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(code(() => parseFilter('SQL', 'a > 1'))).toBe('ILLEGAL_FILTER_EXPRESSION');
  });
});

describe('RocketMqEngine', () => {
  it('a group sees messages stored after it was created, or all with startFrom earliest', () => {
    const e = new RocketMqEngine();
    send(e, 'T', 'before');
    e.createGroup('late');
    e.createGroup('all', { startFrom: 'earliest' });
    send(e, 'T', 'after');
    const ids = (g: string) =>
      e.receive(g, 'T', MATCH_ALL, { max: 32, invisibleMs: 1000 }).delivered.map((d) => d.message.messageId);
    expect(ids('late')).toEqual(['after']);
    expect(ids('all')).toEqual(['before', 'after']);
  });

  it('expired handles are refused; expiry redelivers; attempts run out into the DLQ', () => {
    const clock = new FakeClock();
    const e = new RocketMqEngine({ clock });
    e.createGroup('G', { maxDeliveryAttempts: 2 });
    send(e, 'T', 'm');
    const first = e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 1000 }).delivered[0]!;
    clock.t += 1000;
    expect(code(() => e.ack('G', 'T', first.handle))).toBe('INVALID_RECEIPT_HANDLE');
    const second = e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 1000 }).delivered[0]!;
    expect(second.attempt).toBe(2);
    clock.t += 1000;
    expect(e.reviveExpired()).toBe(1);
    expect(e.messages('%DLQ%G').map((m) => m.deadLetter)).toEqual([{ topic: 'T', messageId: 'm' }]);
    expect(e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 1000 }).delivered).toEqual([]);
  });

  it('releases what a terminated client held with auto-renew', () => {
    const clock = new FakeClock();
    const e = new RocketMqEngine({ clock });
    e.createGroup('G');
    send(e, 'T', 'm');
    e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 60_000, autoRenew: true, clientId: 'c1' });
    expect(e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 1000 }).delivered).toEqual([]);
    e.releaseClient('c1');
    expect(e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 1000 }).delivered[0]?.attempt).toBe(2);
  });

  it('renews auto-renew deliveries while their client is connected', () => {
    const clock = new FakeClock();
    const e = new RocketMqEngine({ clock });
    e.createGroup('G');
    send(e, 'T', 'a');
    send(e, 'T', 'b');
    e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 20_000, autoRenew: true, clientId: 'alive' });
    e.receive('G', 'T', MATCH_ALL, { max: 1, invisibleMs: 20_000, autoRenew: true, clientId: 'gone' });
    clock.t += 15_000;
    e.renewHeld((id) => id === 'alive', 20_000);
    clock.t += 6_000;
    // 'a' was renewed; 'b' (client gone) expired and comes back.
    const again = e.receive('G', 'T', MATCH_ALL, { max: 32, invisibleMs: 1000 }).delivered;
    expect(again.map((d) => [d.message.messageId, d.attempt])).toEqual([['b', 2]]);
  });

  it('refuses a message type the topic does not accept', () => {
    const e = new RocketMqEngine();
    e.createTopic('F', { type: 'FIFO' });
    expect(code(() => send(e, 'F', 'n'))).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
  });

  it('transactions: unknown ids, repeated and conflicting resolutions, checks then rollback', () => {
    const clock = new FakeClock();
    const e = new RocketMqEngine({ clock });
    const m = e.append('T', { messageId: 'x', type: 'TRANSACTION', body: body('x') });
    expect(code(() => e.endTransaction('T', 'nope', 'x', 'COMMIT'))).toBe('INVALID_TRANSACTION_ID');
    clock.t += 100;
    expect(e.dueTransactionChecks(100, 2).map((d) => d.message.messageId)).toEqual(['x']);
    clock.t += 100;
    expect(e.dueTransactionChecks(100, 2)).toHaveLength(1);
    clock.t += 100;
    // Out of checks: rolled back, like the broker after transactionCheckMax.
    expect(e.dueTransactionChecks(100, 2)).toEqual([]);
    expect(code(() => e.endTransaction('T', m.transactionId!, 'x', 'COMMIT'))).toBe('INVALID_TRANSACTION_ID');
    expect(code(() => e.endTransaction('T', m.transactionId!, 'x', 'ROLLBACK'))).toBeUndefined();
  });

  it('the orphan check walks only open transactions, through ends, give-ups, drops and restores', () => {
    const clock = new FakeClock();
    const e = new RocketMqEngine({ clock });
    const sent = Array.from({ length: 1000 }, (_, i) =>
      e.append('T', { messageId: `m${i}`, type: 'TRANSACTION', body: body('x') }),
    );
    e.append('U', { messageId: 'u', type: 'TRANSACTION', body: body('u') });
    for (const m of sent.slice(0, 998)) e.endTransaction('T', m.transactionId!, m.messageId, 'COMMIT');
    expect(e.preparedTransactionCount).toBe(3);
    // A repeated resolution still answers OK after the id has left the check's list.
    expect(code(() => e.endTransaction('T', sent[0]!.transactionId!, 'm0', 'COMMIT'))).toBeUndefined();
    clock.t += 100;
    expect(
      e
        .dueTransactionChecks(100, 1)
        .map((d) => d.message.messageId)
        .sort(),
    ).toEqual(['m998', 'm999', 'u']);
    const copy = new RocketMqEngine({ clock });
    copy.restore(JSON.parse(JSON.stringify(e.snapshot())));
    expect(copy.preparedTransactionCount).toBe(3);
    clock.t += 100;
    // Out of checks: rolled back and off the list.
    expect(e.dueTransactionChecks(100, 1)).toEqual([]);
    expect(e.preparedTransactionCount).toBe(0);
    copy.deleteTopic('T');
    expect(copy.preparedTransactionCount).toBe(1);
  });

  it('snapshot and restore keep topics, groups, messages, in-flight handles and progress', () => {
    const e = new RocketMqEngine();
    e.createTopic('T', { type: 'NORMAL', queues: 3 });
    e.createGroup('G', { fifo: true });
    send(e, 'T', 'a');
    send(e, 'T', 'b');
    const [a, b] = e.receive('G', 'T', MATCH_ALL, { max: 2, invisibleMs: 60_000 }).delivered;
    e.ack('G', 'T', a!.handle);
    const copy = new RocketMqEngine();
    copy.restore(JSON.parse(JSON.stringify(e.snapshot())));
    expect(copy.listTopics()).toEqual(e.listTopics());
    expect(copy.listGroups()).toEqual(e.listGroups());
    expect(copy.messages('T')[1]?.body.toString()).toBe('b');
    expect(code(() => copy.ack('G', 'T', a!.handle))).toBe('INVALID_RECEIPT_HANDLE');
    expect(code(() => copy.ack('G', 'T', b!.handle))).toBeUndefined();
  });

  it('validates admin input', () => {
    const e = new RocketMqEngine();
    expect(code(() => e.createTopic('T', { type: 'X' as never }))).toBe('ILLEGAL_TOPIC');
    expect(code(() => e.createTopic('T', { queues: 0 }))).toBe('ILLEGAL_TOPIC');
    expect(code(() => e.createGroup('G', { maxDeliveryAttempts: 0 }))).toBe('ILLEGAL_CONSUMER_GROUP');
    expect(e.createTopic('T')).toEqual({ name: 'T', type: 'NORMAL', queues: 1, messages: 0 });
    expect(e.createTopic('T', { queues: 4 })).toEqual({ name: 'T', type: 'NORMAL', queues: 4, messages: 0 });
    expect(e.deleteTopic('T')).toBe(true);
    expect(e.deleteTopic('T')).toBe(false);
  });
});
